/* feeder.c -- a C client of a sharded openpit_shm engine, built only from the generated header.
 *
 * Build (C11 + the GNU extensions the header's syscalls need, enabled below):
 *   gcc -std=c11 -O2 -Wall -Wextra \
 *       -I "$(python -c 'import openpit_shm; print(openpit_shm.get_include())')" \
 *       bench/c/feeder.c -o feeder
 *
 * It feeds one external client slot of a running ShardedEngine: the Python side
 * writes what `engine.external_client(slot)` returns into a small text file
 * (one `key value...` line each; unknown keys are ignored):
 *
 *   opshm-attach 1
 *   slot 1
 *   n_shards 2
 *   capacity 16384
 *   scale 8
 *   tag 123456789                        <- the engine's record tag (orders carry it in ref)
 *   request 0 /opshm.<hex>.ring.req      <- one per shard: the ring this program produces
 *   result 0 /opshm.<hex>.ring.res       <- one per shard: the ring this program consumes
 *   instrument 0 S000/USD                <- id and name of every registered instrument
 *
 * Every record is routed with opshm_record_shard (its account's shard, or for a
 * finalization the shard its handle names), exactly as Python routes it, and pushed into that shard's request ring in batches (one
 * publish per batch). Each shard answers its requests in order with
 * RESULT_DTYPE records: one record for an accepted request (count == 0) or one
 * per reject (index 0..count-1); STATUS_TEXT records are skipped.
 *
 * Modes:
 *   decisions   --input FILE: raw ORDER_DTYPE records (64 bytes each, sent verbatim,
 *               whatever they hold); prints one line per input record, in input order:
 *                 <i> <seq> <status> <code> <policy> <reason> <count> <flags> <reservation>
 *                 <code:policy:reason,...|->
 *               and a final "# answered=<n> strays=<n>" line.
 *   throughput  generates the C1 workload, tagged for the engine (accounts uniform in 0..accounts-1,
 *               instruments uniform over the attach file's ids, side 50/50, qty 1..1000,
 *               price 10.00..500.00, auto-commit) and measures orders/s end to end: the
 *               clock stops when every order is answered. Prints one line per repetition:
 *                 rate=<orders/s> orders=<n> seconds=<s> accepted=<n> rejected=<n> ...
 *
 * Idle (--idle) when the request rings are full and no answer is readable: `yield` (default:
 * pause 64 polls, then sched_yield, best when the scheduler places everything), `spin`
 * (pause only: a CPU of its own), `park` (also sleep on the busiest shard's result ring
 * until a batch of answers is there: best when pinned next to a worker on a shared CPU).
 *
 * Exit codes: 0 ok, 1 attach/IO error, 2 usage, 3 timeout (no progress for --timeout-ms).
 */
#define _GNU_SOURCE /* the header uses syscall(), MAP_POPULATE; we use sched_setaffinity */

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openpit_shm.h>

#define MAX_SHARDS 64
#define MAX_INSTRUMENTS 65536
#define MAX_REJECTS 16 /* reject records kept per request in decisions mode */

typedef enum { MODE_DECISIONS, MODE_THROUGHPUT } mode_t_;
typedef enum { IDLE_SPIN, IDLE_YIELD, IDLE_PARK } idle_t;

typedef struct {
    mode_t_ mode;
    const char *attach;
    const char *input;
    int64_t orders;   /* throughput: orders per repetition */
    int64_t warmup;   /* throughput: orders sent (and answered) before the first timed rep */
    int64_t batch;    /* records per publish */
    int64_t accounts; /* throughput: account ids 0..accounts-1 */
    int64_t pool;     /* throughput: distinct generated orders, cycled */
    int reps;
    int cpu;          /* pin to this CPU (-1: leave it to the scheduler) */
    int force_shard;  /* send everything to this shard (-1: route by account) */
    idle_t idle;
    int64_t timeout_ms;
    uint64_t seed;
} options;

typedef struct {
    int n_shards;
    int64_t capacity;
    int scale;
    uint64_t tag; /* the engine's record tag: 0 when the attach file has none */
    char request[MAX_SHARDS][256];
    char result[MAX_SHARDS][256];
    int32_t instruments[MAX_INSTRUMENTS];
    int n_instruments;
} attach_info;

/* ---- small helpers ---------------------------------------------------------------------- */

static void die_usage(const char *msg) {
    fprintf(stderr,
            "feeder: %s\n"
            "usage: feeder --attach FILE [--mode decisions|throughput] [--input FILE]\n"
            "              [--orders N] [--warmup N] [--reps R] [--batch B] [--accounts A]\n"
            "              [--pool P] [--seed S] [--cpu C] [--idle spin|yield|park]\n"
            "              [--force-shard K] [--timeout-ms T]\n",
            msg);
    exit(2);
}

static int64_t parse_i64(const char *s, const char *what) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 0);
    if (errno != 0 || *end != '\0') {
        fprintf(stderr, "feeder: bad %s: %s\n", what, s);
        exit(2);
    }
    return (int64_t)v;
}

/* xorshift64*: a fast, deterministic generator for the synthetic workload. */
static inline uint64_t rng_next(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

static inline uint64_t rng_below(uint64_t *s, uint64_t n) { return (rng_next(s) >> 11) % n; }

static int64_t pow10_i64(int n) {
    int64_t v = 1;
    while (n-- > 0) v *= 10;
    return v;
}

/* The head word of a result record (code..index) and its fields. */
static inline uint8_t res_status(const opshm_result *r) { return r->status; }
static inline int res_last(const opshm_result *r) { return r->count == 0 || r->index + 1 >= r->count; }

/* ---- options and the attach file -------------------------------------------------------- */

static options parse_options(int argc, char **argv) {
    options o = {.mode = MODE_THROUGHPUT, .attach = NULL, .input = NULL, .orders = 1000000,
                 .warmup = 100000, .batch = 256, .accounts = 1000, .pool = 1 << 16, .reps = 1,
                 .cpu = -1, .force_shard = -1, .idle = IDLE_YIELD, .timeout_ms = 10000,
                 .seed = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) die_usage("every option takes a value");
        const char *v = argv[++i];
        if (!strcmp(a, "--attach")) o.attach = v;
        else if (!strcmp(a, "--input")) o.input = v;
        else if (!strcmp(a, "--mode")) {
            if (!strcmp(v, "decisions")) o.mode = MODE_DECISIONS;
            else if (!strcmp(v, "throughput")) o.mode = MODE_THROUGHPUT;
            else die_usage("--mode is decisions or throughput");
        } else if (!strcmp(a, "--orders")) o.orders = parse_i64(v, a);
        else if (!strcmp(a, "--warmup")) o.warmup = parse_i64(v, a);
        else if (!strcmp(a, "--reps")) o.reps = (int)parse_i64(v, a);
        else if (!strcmp(a, "--batch")) o.batch = parse_i64(v, a);
        else if (!strcmp(a, "--accounts")) o.accounts = parse_i64(v, a);
        else if (!strcmp(a, "--pool")) o.pool = parse_i64(v, a);
        else if (!strcmp(a, "--seed")) o.seed = (uint64_t)parse_i64(v, a);
        else if (!strcmp(a, "--cpu")) o.cpu = (int)parse_i64(v, a);
        else if (!strcmp(a, "--force-shard")) o.force_shard = (int)parse_i64(v, a);
        else if (!strcmp(a, "--timeout-ms")) o.timeout_ms = parse_i64(v, a);
        else if (!strcmp(a, "--idle")) {
            if (!strcmp(v, "spin")) o.idle = IDLE_SPIN;
            else if (!strcmp(v, "yield")) o.idle = IDLE_YIELD;
            else if (!strcmp(v, "park")) o.idle = IDLE_PARK;
            else die_usage("--idle is spin, yield or park");
        } else die_usage("unknown option");
    }
    if (!o.attach) die_usage("--attach is required");
    if (o.mode == MODE_DECISIONS && !o.input) die_usage("decisions mode needs --input");
    if (o.batch < 1 || o.orders < 1 || o.warmup < 0 || o.reps < 1 || o.accounts < 1 ||
        o.pool < 1 || o.timeout_ms < 1)
        die_usage("counts must be positive");
    if (o.seed == 0) o.seed = 1; /* xorshift needs a non-zero state */
    return o;
}

static void read_attach(const char *path, attach_info *info) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "feeder: cannot open %s: %s\n", path, strerror(errno));
        exit(1);
    }
    memset(info, 0, sizeof *info);
    char line[512], key[64], name[256];
    int have_req = 0, have_res = 0;
    while (fgets(line, sizeof line, f)) {
        long long a;
        if (sscanf(line, "%63s", key) != 1) continue;
        if (!strcmp(key, "n_shards") && sscanf(line, "%*s %lld", &a) == 1) info->n_shards = (int)a;
        else if (!strcmp(key, "capacity") && sscanf(line, "%*s %lld", &a) == 1) info->capacity = a;
        else if (!strcmp(key, "scale") && sscanf(line, "%*s %lld", &a) == 1) info->scale = (int)a;
        else if (!strcmp(key, "tag") && sscanf(line, "%*s %lld", &a) == 1) info->tag = (uint64_t)a;
        else if ((!strcmp(key, "request") || !strcmp(key, "result")) &&
                 sscanf(line, "%*s %lld %255s", &a, name) == 2 && a >= 0 && a < MAX_SHARDS) {
            int is_req = !strcmp(key, "request");
            snprintf(is_req ? info->request[a] : info->result[a], 256, "%s", name);
            if (is_req) have_req++;
            else have_res++;
        } else if (!strcmp(key, "instrument") && sscanf(line, "%*s %lld", &a) == 1 &&
                   info->n_instruments < MAX_INSTRUMENTS)
            info->instruments[info->n_instruments++] = (int32_t)a;
    }
    fclose(f);
    if (info->n_shards < 1 || info->n_shards > MAX_SHARDS || have_req != info->n_shards ||
        have_res != info->n_shards || info->capacity < OPSHM_RING_CAPACITY_MIN) {
        fprintf(stderr, "feeder: incomplete attach file %s\n", path);
        exit(1);
    }
}

/* ---- the client: one (request, result) ring pair per shard ------------------------------ */

typedef struct {
    int n;
    opshm_ring req[MAX_SHARDS];
    opshm_ring res[MAX_SHARDS];
    idle_t idle;
    int64_t timeout_ns;
} client;

static void client_attach(client *c, const attach_info *info, const options *o) {
    c->n = info->n_shards;
    c->idle = o->idle;
    c->timeout_ns = o->timeout_ms * 1000000;
    for (int k = 0; k < c->n; k++) {
        int err = opshm_ring_attach(info->request[k], info->capacity, k, info->n_shards, &c->req[k]);
        if (err == OPSHM_OK)
            err = opshm_ring_attach(info->result[k], info->capacity, k, info->n_shards, &c->res[k]);
        if (err != OPSHM_OK) {
            fprintf(stderr, "feeder: attach shard %d: %s (errno %d)\n", k, opshm_strerror(err), errno);
            exit(1);
        }
        /* Producer/consumer pids are statistics only; mark who feeds this slot. */
        c->req[k].ctrl->producer_pid = (int64_t)getpid();
        c->res[k].ctrl->consumer_pid = (int64_t)getpid();
    }
}

static void client_detach(client *c) {
    for (int k = 0; k < c->n; k++) {
        opshm_ring_detach(&c->req[k]);
        opshm_ring_detach(&c->res[k]);
    }
}

/* Nothing to push and nothing to read: pause, and on a shared core give it to the workers.
   (On 2 CPUs with 2 workers this process shares a CPU with a worker: never spin for long.)
   `park` behaves as `yield` here; it also sleeps in run_orders (see there). */
static inline void client_idle(const client *c, int64_t *polls) {
    *polls += 1;
    if (c->idle == IDLE_SPIN || *polls < 64) opshm_cpu_relax();
    else sched_yield();
}

/* --idle park: spin briefly, then sleep on the result ring's futex (the worker wakes us
   when it publishes while we sleep), in slices of 200 us, for at most 2 ms per call. */
static const opshm_idle FEEDER_PARK = {64, 200000};
#define FEEDER_PARK_TIMEOUT_NS 2000000

static void timed_out(const char *what, int64_t done, int64_t total) {
    fprintf(stderr, "feeder: timeout: no progress while %s (%" PRId64 " of %" PRId64 " answered)\n",
            what, done, total);
    exit(3);
}

/* ---- decisions mode --------------------------------------------------------------------- */

typedef struct {
    opshm_result first;              /* the request's first result record */
    int n;                           /* reject records seen */
    uint16_t code[MAX_REJECTS];
    uint8_t policy[MAX_REJECTS], reason[MAX_REJECTS];
    int done;
} answer;

static opshm_order *read_records(const char *path, int64_t *count) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "feeder: cannot open %s: %s\n", path, strerror(errno));
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (bytes < 0 || bytes % OPSHM_RECORD_BYTES != 0) {
        fprintf(stderr, "feeder: %s is not a whole number of 64-byte records\n", path);
        exit(1);
    }
    *count = bytes / OPSHM_RECORD_BYTES;
    opshm_order *recs = malloc((size_t)bytes + OPSHM_RECORD_BYTES);
    if (!recs || fread(recs, 1, (size_t)bytes, f) != (size_t)bytes) {
        fprintf(stderr, "feeder: cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    return recs;
}

static int run_decisions(client *c, const options *o) {
    int64_t total;
    opshm_order *in = read_records(o->input, &total);
    int n = c->n;
    /* Route every record once; per shard, the input positions in submission order. */
    int64_t *order = malloc(sizeof(int64_t) * (size_t)(total + 1));
    int64_t start[MAX_SHARDS + 1] = {0}, sent[MAX_SHARDS], got[MAX_SHARDS];
    int *shard = malloc(sizeof(int) * (size_t)(total + 1));
    answer *ans = calloc((size_t)(total + 1), sizeof(answer));
    int stray[MAX_SHARDS] = {0}; /* inside an answer that matched no request */
    for (int64_t i = 0; i < total; i++) {
        shard[i] = o->force_shard >= 0 ? o->force_shard % n
                                       : (int)opshm_record_shard(&in[i], (uint32_t)n);
        start[shard[i] + 1]++;
    }
    for (int k = 0; k < n; k++) start[k + 1] += start[k];
    for (int k = 0; k < n; k++) sent[k] = got[k] = start[k];
    {
        int64_t fill[MAX_SHARDS];
        memcpy(fill, start, sizeof fill);
        for (int64_t i = 0; i < total; i++) order[fill[shard[i]]++] = i;
    }
    opshm_order *stage = malloc(sizeof(opshm_order) * (size_t)o->batch);
    int64_t answered = 0, strays = 0, polls = 0;
    int64_t last_progress = opshm_monotonic_ns();
    while (answered < total) {
        int progressed = 0;
        for (int k = 0; k < n; k++) {
            /* Push the next batch of this shard's records, verbatim. */
            int64_t left = start[k + 1] - sent[k];
            if (left > 0) {
                int64_t m = left < o->batch ? left : o->batch;
                for (int64_t j = 0; j < m; j++) stage[j] = in[order[sent[k] + j]];
                int64_t pushed = opshm_ring_push_batch(&c->req[k], stage, m);
                sent[k] += pushed;
                progressed |= pushed > 0;
            }
            /* Read this shard's answers: they come in submission order. */
            opshm_ring *r = &c->res[k];
            int64_t avail = opshm_ring_readable(r, 1);
            if (avail <= 0) continue;
            int64_t tail = opshm_ring_tail(r);
            for (int64_t j = 0; j < avail; j++) {
                const opshm_result *rec = (const opshm_result *)opshm_ring_slot(r, tail + j);
                if (res_status(rec) == OPSHM_STATUS_TEXT) continue;
                if (rec->index == 0) {
                    /* A new answer: it must be for the oldest unanswered request of this
                       shard. One that is not (a second answer to a request a dying worker
                       had already answered) is counted and skipped. */
                    if (got[k] >= sent[k] || rec->seq != in[order[got[k]]].seq) {
                        strays++;
                        stray[k] = !res_last(rec);
                        continue;
                    }
                    stray[k] = 0;
                    answer *a = &ans[order[got[k]]];
                    a->first = *rec;
                    a->n = 0;
                } else if (stray[k]) {
                    stray[k] = !res_last(rec);
                    continue;
                }
                answer *a = &ans[order[got[k]]];
                if (rec->count > 0 && a->n < MAX_REJECTS) {
                    a->code[a->n] = rec->code;
                    a->policy[a->n] = rec->policy;
                    a->reason[a->n] = rec->reason;
                    a->n++;
                }
                if (res_last(rec)) {
                    a->done = 1;
                    got[k]++;
                    answered++;
                }
            }
            opshm_ring_release(r, tail + avail);
            progressed = 1;
        }
        if (progressed) {
            polls = 0;
            last_progress = opshm_monotonic_ns();
        } else {
            client_idle(c, &polls);
            if ((polls & 1023) == 0 && opshm_monotonic_ns() - last_progress > c->timeout_ns) {
                fflush(stdout);
                timed_out("waiting for answers", answered, total);
            }
        }
    }
    for (int64_t i = 0; i < total; i++) {
        const answer *a = &ans[i];
        const opshm_result *f = &a->first;
        printf("%" PRId64 " %" PRId64 " %u %u %u %u %u %u %" PRId64 " ", i, f->seq, f->status,
               f->code, f->policy, f->reason, f->count, f->flags, f->reservation);
        if (a->n == 0) printf("-");
        for (int j = 0; j < a->n; j++)
            printf("%s%u:%u:%u", j ? "," : "", a->code[j], a->policy[j], a->reason[j]);
        printf("\n");
    }
    printf("# answered=%" PRId64 " strays=%" PRId64 "\n", answered, strays);
    free(stage);
    free(ans);
    free(shard);
    free(order);
    free(in);
    return 0;
}

/* ---- throughput mode -------------------------------------------------------------------- */

typedef struct {
    int64_t orders, accepted, rejected, errors, records;
    double seconds;
} tally;

/* The C1 workload (PERF.md): a pool of orders, cycled; seq is set when sent. */
static opshm_order *make_pool(const options *o, const attach_info *info) {
    if (info->n_instruments == 0 || info->tag == 0) {
        fprintf(stderr, "feeder: throughput mode needs the tag and instruments in the attach file\n");
        exit(1);
    }
    opshm_order *pool = calloc((size_t)o->pool, sizeof(opshm_order));
    uint64_t s = o->seed;
    int64_t unit = pow10_i64(info->scale);       /* 1.0 in fixed point */
    int64_t cent = info->scale >= 2 ? pow10_i64(info->scale - 2) : 1;
    for (int64_t i = 0; i < o->pool; i++) {
        opshm_order *r = &pool[i];
        r->account = rng_below(&s, (uint64_t)o->accounts);
        r->instrument = info->instruments[rng_below(&s, (uint64_t)info->n_instruments)];
        r->kind = OPSHM_MSG_ORDER;
        r->side = rng_below(&s, 2) ? OPSHM_SIDE_BUY : OPSHM_SIDE_SELL;
        r->flags = OPSHM_ORDER_HAS_OPERATION | OPSHM_ORDER_HAS_PRICE | OPSHM_ORDER_AUTO_COMMIT;
        r->amount = (int64_t)(1 + rng_below(&s, 1000)) * unit;
        r->price = (int64_t)(1000 + rng_below(&s, 49001)) * cent;
        r->ref = opshm_order_ref(info->tag); /* instrument ids are this engine's */
    }
    return pool;
}

/*
 * Send `count` orders from the pool and wait for every answer.
 *
 * Each order is routed with opshm_record_shard and written straight into its shard's
 * request ring slot (no staging copy); a shard's ring is published every `batch`
 * records, or earlier when the ring is full or the pool round ends. Results are
 * drained after every publish: a worker stops taking requests while its result ring
 * cannot hold a request's records, so the client must keep reading them.
 */
static tally run_orders(client *c, const options *o, const opshm_order *pool, int64_t count,
                        int64_t *seq) {
    int n = c->n;
    int64_t head[MAX_SHARDS], pending[MAX_SHARDS], room[MAX_SHARDS], inflight[MAX_SHARDS];
    for (int k = 0; k < n; k++) {
        head[k] = opshm_ring_head(&c->req[k]);
        pending[k] = 0;
        room[k] = 0;
        inflight[k] = 0;
    }
    tally t = {0};
    int64_t answered = 0, polls = 0, p = *seq % o->pool;
    int64_t t0 = opshm_monotonic_ns(), last_progress = t0;

#define PUBLISH(k)                                                        \
    do {                                                                  \
        if (pending[k] > 0) {                                             \
            head[k] += pending[k];                                        \
            opshm_ring_publish(&c->req[k], head[k]);                      \
            pending[k] = 0;                                               \
        }                                                                 \
    } while (0)

    int64_t sent = 0;
    while (answered < count) {
        int progressed = 0;
        /* Route and write up to one batch per shard's worth of orders. */
        int64_t burst = o->batch * n;
        while (sent < count && burst-- > 0) {
            const opshm_order *src = &pool[p];
            int k = o->force_shard >= 0 ? o->force_shard % n
                                        : (int)opshm_record_shard(src, (uint32_t)n);
            if (room[k] == 0) { /* no free slot known: publish, then ask the ring */
                PUBLISH(k);
                room[k] = opshm_ring_writable(&c->req[k], o->batch);
                if (room[k] <= 0) { /* that shard is full: read answers first */
                    room[k] = 0;
                    break;
                }
            }
            opshm_order *dst = opshm_ring_slot(&c->req[k], head[k] + pending[k]);
            memcpy(dst, src, sizeof *dst);
            dst->seq = (*seq)++;
            pending[k]++;
            room[k]--;
            inflight[k]++;
            sent++;
            progressed = 1;
            if (pending[k] >= o->batch) PUBLISH(k);
            if (++p == o->pool) p = 0;
        }
        for (int k = 0; k < n; k++) PUBLISH(k);
        if (c->idle == IDLE_PARK && !progressed) {
            /* Nothing could be sent: rather than polling a CPU away from the worker next to
               us, sleep until the busiest shard has a batch of answers (or ends its work). */
            int busiest = 0;
            for (int k = 1; k < n; k++)
                if (inflight[k] > inflight[busiest]) busiest = k;
            int64_t want = inflight[busiest] < o->batch ? inflight[busiest] : o->batch;
            if (want > 0)
                opshm_ring_wait_readable(&c->res[busiest], want, FEEDER_PARK,
                                         FEEDER_PARK_TIMEOUT_NS);
        }
        /* Drain every result ring: count requests whose last record arrived. */
        for (int k = 0; k < n; k++) {
            opshm_ring *r = &c->res[k];
            int64_t avail = opshm_ring_readable(r, 1);
            if (avail <= 0) continue;
            int64_t tail = opshm_ring_tail(r);
            for (int64_t j = 0; j < avail; j++) {
                const opshm_result *rec = (const opshm_result *)opshm_ring_slot(r, tail + j);
                if (rec->status == OPSHM_STATUS_TEXT || !res_last(rec)) continue;
                answered++;
                inflight[k]--;
                if (rec->status == OPSHM_STATUS_OK && rec->count == 0) t.accepted++;
                else if (rec->status == OPSHM_STATUS_ERROR) t.errors++;
                else t.rejected++;
            }
            t.records += avail;
            opshm_ring_release(r, tail + avail);
            progressed = 1;
        }
        if (progressed) {
            polls = 0;
            last_progress = opshm_monotonic_ns();
        } else {
            client_idle(c, &polls);
            if ((polls & 1023) == 0 && opshm_monotonic_ns() - last_progress > c->timeout_ns)
                timed_out("measuring throughput", answered, count);
        }
    }
#undef PUBLISH
    t.orders = count;
    t.seconds = (double)(opshm_monotonic_ns() - t0) * 1e-9;
    return t;
}

static int run_throughput(client *c, const options *o, const attach_info *info) {
    opshm_order *pool = make_pool(o, info);
    int64_t seq = 0;
    if (o->warmup > 0) run_orders(c, o, pool, o->warmup, &seq);
    for (int rep = 0; rep < o->reps; rep++) {
        tally t = run_orders(c, o, pool, o->orders, &seq);
        printf("rate=%.0f orders=%" PRId64 " seconds=%.6f accepted=%" PRId64 " rejected=%" PRId64
               " errors=%" PRId64 " records=%" PRId64 " shards=%d batch=%" PRId64 "\n",
               (double)t.orders / t.seconds, t.orders, t.seconds, t.accepted, t.rejected,
               t.errors, t.records, c->n, o->batch);
        fflush(stdout);
    }
    free(pool);
    return 0;
}

/* ---- main ------------------------------------------------------------------------------- */

int main(int argc, char **argv) {
    options o = parse_options(argc, argv);
    static attach_info info; /* large (instrument table): not on the stack */
    read_attach(o.attach, &info);
    if (o.force_shard >= info.n_shards) die_usage("--force-shard is out of range");
    if (o.batch > info.capacity / 2) die_usage("--batch must be at most capacity / 2");
    if (o.cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(o.cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0)
            fprintf(stderr, "feeder: cannot pin to CPU %d: %s\n", o.cpu, strerror(errno));
    }
    client c;
    client_attach(&c, &info, &o);
    int rc = o.mode == MODE_DECISIONS ? run_decisions(&c, &o) : run_throughput(&c, &o, &info);
    client_detach(&c);
    return rc;
}
