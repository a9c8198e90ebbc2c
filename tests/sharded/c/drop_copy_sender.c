/* Sends orders, drop copies and reports to a sharded engine through openpit_shm.h only.
   usage: drop_copy_sender ATTACH INPUT
   ATTACH: the attach file tests/sharded/test_c_feeder.py writes (n_shards, capacity, tag,
   one request and one result ring per shard). INPUT: raw 64-byte order records whose `ref`
   this program fills: the tag of the attach file (opshm_order_ref / opshm_report_ref), so the
   records are built for the engine the way any C producer builds them. Each record goes to
   opshm_shard_of(account) -- the function Python routes by -- in input order per shard.
   Prints every result record (STATUS_TEXT chunks skipped) of input record i, in input order:
     <i> <seq> <status> <code> <policy> <reason> <count> <index> <flags> <reservation>
   Exit codes: 0 ok, 1 attach/IO error or a stray answer, 2 usage, 3 no progress for 20 s. */
#define _GNU_SOURCE /* the header uses syscall() and MAP_POPULATE */
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openpit_shm.h"

#define MAX_SHARDS 16
#define BATCH 64
#define TIMEOUT_NS INT64_C(20000000000)

typedef struct {
    int n_shards;
    int64_t capacity;
    uint64_t tag;
    char request[MAX_SHARDS][256], result[MAX_SHARDS][256];
} attach_info;

static int read_attach(const char *path, attach_info *info) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    memset(info, 0, sizeof *info);
    char line[512], key[64], name[256];
    long long a;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%63s", key) != 1) continue;
        if (!strcmp(key, "n_shards") && sscanf(line, "%*s %lld", &a) == 1) info->n_shards = (int)a;
        else if (!strcmp(key, "capacity") && sscanf(line, "%*s %lld", &a) == 1) info->capacity = a;
        else if (!strcmp(key, "tag") && sscanf(line, "%*s %lld", &a) == 1) info->tag = (uint64_t)a;
        else if ((!strcmp(key, "request") || !strcmp(key, "result")) &&
                 sscanf(line, "%*s %lld %255s", &a, name) == 2 && a >= 0 && a < MAX_SHARDS)
            snprintf(!strcmp(key, "request") ? info->request[a] : info->result[a], 256, "%s", name);
    }
    fclose(f);
    return info->n_shards > 0 && info->n_shards <= MAX_SHARDS && info->tag != 0;
}

static opshm_order *read_records(const char *path, int64_t *count) {
    FILE *f = fopen(path, "rb");
    *count = 0;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    opshm_order *recs = malloc((size_t)bytes + OPSHM_RECORD_BYTES);
    if (bytes % OPSHM_RECORD_BYTES || !recs || fread(recs, 1, (size_t)bytes, f) != (size_t)bytes)
        recs = NULL;
    fclose(f);
    *count = bytes / OPSHM_RECORD_BYTES;
    return recs;
}

/* The engine's tag in every record that names an instrument (opshm_order_ref lists them). */
static void stamp(opshm_order *o, uint64_t tag) {
    if (o->kind == OPSHM_MSG_REPORT) o->ref = opshm_report_ref(tag, 0, 0);
    else if (o->kind == OPSHM_MSG_ORDER || o->kind == OPSHM_MSG_DROP_COPY ||
             o->kind == OPSHM_MSG_START || o->kind == OPSHM_MSG_DRY_START ||
             o->kind == OPSHM_MSG_DRY_ORDER)
        o->ref = opshm_order_ref(tag);
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: drop_copy_sender ATTACH INPUT\n"); return 2; }
    attach_info info;
    int64_t total = 0;
    opshm_order *in = read_records(argv[2], &total);
    if (!read_attach(argv[1], &info) || !in) { fprintf(stderr, "bad attach or input\n"); return 1; }
    int n = info.n_shards;
    opshm_ring req[MAX_SHARDS], res[MAX_SHARDS];
    for (int k = 0; k < n; k++) {
        int err = opshm_ring_attach(info.request[k], info.capacity, k, n, &req[k]);
        if (err == OPSHM_OK) err = opshm_ring_attach(info.result[k], info.capacity, k, n, &res[k]);
        if (err != OPSHM_OK) { fprintf(stderr, "attach %d: %s\n", k, opshm_strerror(err)); return 1; }
    }
    /* Per shard, the input positions it gets, in input order. */
    int64_t *order = malloc(sizeof(int64_t) * (size_t)(total + 1));
    int64_t start[MAX_SHARDS + 1] = {0}, sent[MAX_SHARDS], got[MAX_SHARDS];
    int *shard = malloc(sizeof(int) * (size_t)(total + 1));
    for (int64_t i = 0; i < total; i++) {
        stamp(&in[i], info.tag);
        shard[i] = (int)opshm_shard_of(in[i].account, (uint32_t)n);
        start[shard[i] + 1]++;
    }
    for (int k = 0; k < n; k++) start[k + 1] += start[k];
    for (int k = 0; k < n; k++) sent[k] = got[k] = start[k];
    int64_t fill[MAX_SHARDS];
    memcpy(fill, start, sizeof fill);
    for (int64_t i = 0; i < total; i++) order[fill[shard[i]]++] = i;
    /* The answers, kept per input record until all are in: at most 16 records each. */
    opshm_result *kept = calloc((size_t)(total * 16 + 1), sizeof(opshm_result));
    int *nkept = calloc((size_t)(total + 1), sizeof(int));
    opshm_order stage[BATCH];
    int64_t answered = 0, last = opshm_monotonic_ns(), polls = 0;
    while (answered < total) {
        int progressed = 0;
        for (int k = 0; k < n; k++) {
            int64_t left = start[k + 1] - sent[k];
            if (left > 0) {
                int64_t m = left < BATCH ? left : BATCH;
                for (int64_t j = 0; j < m; j++) stage[j] = in[order[sent[k] + j]];
                int64_t pushed = opshm_ring_push_batch(&req[k], stage, m);
                sent[k] += pushed;
                progressed |= pushed > 0;
            }
            int64_t avail = opshm_ring_readable(&res[k], 1);
            if (avail <= 0) continue;
            int64_t tail = opshm_ring_tail(&res[k]);
            for (int64_t j = 0; j < avail; j++) {
                const opshm_result *r = (const opshm_result *)opshm_ring_slot(&res[k], tail + j);
                if (r->status == OPSHM_STATUS_TEXT) continue;
                if (got[k] >= sent[k] || r->seq != in[order[got[k]]].seq) {
                    fprintf(stderr, "stray answer seq %" PRId64 " on shard %d\n", r->seq, k);
                    return 1;
                }
                int64_t i = order[got[k]];
                if (nkept[i] < 16) kept[i * 16 + nkept[i]++] = *r;
                if (r->count == 0 || r->index + 1 >= r->count) {
                    got[k]++;
                    answered++;
                }
            }
            opshm_ring_release(&res[k], tail + avail);
            progressed = 1;
        }
        if (progressed) {
            polls = 0;
            last = opshm_monotonic_ns();
        } else if (++polls < 64) {
            opshm_cpu_relax();
        } else {
            sched_yield(); /* 2 workers and this program may share a CPU */
            if (opshm_monotonic_ns() - last > TIMEOUT_NS) {
                fprintf(stderr, "timeout: %" PRId64 " of %" PRId64 " answered\n", answered, total);
                return 3;
            }
        }
    }
    for (int64_t i = 0; i < total; i++)
        for (int j = 0; j < nkept[i]; j++) {
            const opshm_result *r = &kept[i * 16 + j];
            printf("%" PRId64 " %" PRId64 " %u %u %u %u %u %u %u %" PRId64 "\n", i, r->seq,
                   r->status, r->code, r->policy, r->reason, r->count, r->index, r->flags,
                   r->reservation);
        }
    for (int k = 0; k < n; k++) {
        opshm_ring_detach(&req[k]);
        opshm_ring_detach(&res[k]);
    }
    return 0;
}
