/* C producer for bench/bench_ring.py: pushes `total` ORDER records into a ring, `batch` at a time.
 *
 * Build: gcc -O2 -I "$(python -c 'import openpit_shm.layout.cheader as c; print(c.get_include())')" \
 *            bench/c/ring_producer.c -o ring_producer
 * Usage: ring_producer RING CONTROL total batch
 *   CONTROL is a control segment: word 32 = ready counter, word 48 = GO flag (a futex word).
 * Prints the producer's elapsed seconds on stdout.
 */
#include "openpit_shm.h" /* first: it sets the feature macros (clock_gettime, syscall) */

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define W_READY 32
#define W_GO 48

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s RING CONTROL total batch\n", argv[0]);
        return 2;
    }
    opshm_ring r;
    int err = opshm_ring_attach(argv[1], 0, -1, 0, &r);
    if (err != OPSHM_OK) { fprintf(stderr, "ring: %s\n", opshm_strerror(err)); return 1; }
    void *cbase;
    size_t cbytes;
    err = opshm_segment_attach(argv[2], OPSHM_SEGMENT_KIND_CONTROL, &cbase, &cbytes);
    if (err != OPSHM_OK) { fprintf(stderr, "control: %s\n", opshm_strerror(err)); return 1; }
    int64_t *ctl = (int64_t *)cbase;
    int64_t total = atoll(argv[3]), batch = atoll(argv[4]);
    if (batch < 1 || batch > 4096) return 2;
    opshm_order *buf = calloc((size_t)batch, sizeof(opshm_order));

    __atomic_fetch_add(&ctl[W_READY], 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&ctl[W_GO], __ATOMIC_ACQUIRE) == 0) opshm_futex_wait(&ctl[W_GO], 0, 10000000);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int64_t seq = 0; seq < total;) {
        int64_t n = total - seq < batch ? total - seq : batch;
        for (int64_t k = 0; k < n; k++) {
            int64_t s = seq + k;
            opshm_order *o = &buf[k];
            o->seq = s; o->account = (uint64_t)(s & 1023); o->instrument = (int32_t)(s & 63);
            o->kind = OPSHM_MSG_ORDER; o->side = OPSHM_SIDE_BUY; o->flags = OPSHM_ORDER_HAS_PRICE;
            o->price = 1000000 + (s & 255); o->amount = 1 + (s & 7); o->pnl = 0; o->fee = 0; o->ref = 0;
        }
        int64_t done = 0;
        while (done < n) {  /* busy-spin on a full ring: the benchmark pins each side to a core */
            int64_t m = opshm_ring_push_batch(&r, buf + done, n - done);
            if (m == 0) opshm_cpu_relax();
            done += m;
        }
        seq += n;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%.9f\n", (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    free(buf);
    opshm_ring_detach(&r);
    munmap(cbase, cbytes);
    return 0;
}
