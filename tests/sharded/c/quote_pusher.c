/* Pushes quotes into a sharded engine's quote table through openpit_shm.h only.
   usage: quote_pusher NAME INSTRUMENT KIND KEY MARK BID ASK AGE_NS
   (pushed at opshm_monotonic_ns(); MARK/BID/ASK "-" = absent). Prints the push code. */
#define _GNU_SOURCE /* the header uses syscall() and MAP_POPULATE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openpit_shm.h"

static int64_t price(const char *s, int64_t *flags, int64_t bit) {
    if (strcmp(s, "-") == 0) return 0;
    *flags |= bit;
    return strtoll(s, NULL, 10);
}

int main(int argc, char **argv) {
    if (argc != 9) { fprintf(stderr, "usage\n"); return 2; }
    opshm_quotes q;
    int err = opshm_quotes_attach(argv[1], &q);
    if (err != OPSHM_OK) { fprintf(stderr, "attach: %s\n", opshm_strerror(err)); return 1; }
    int64_t flags = OPSHM_QUOTE_PRESENT;
    int64_t mark = price(argv[5], &flags, OPSHM_QUOTE_HAS_MARK);
    int64_t bid = price(argv[6], &flags, OPSHM_QUOTE_HAS_BID);
    int64_t ask = price(argv[7], &flags, OPSHM_QUOTE_HAS_ASK);
    int code = opshm_quote_push(&q, strtoull(argv[2], NULL, 10), strtoll(argv[3], NULL, 10),
                                strtoull(argv[4], NULL, 10), flags, mark, bid, ask,
                                opshm_monotonic_ns(), strtoll(argv[8], NULL, 10));
    printf("%d\n", code);
    opshm_quotes_detach(&q);
    return 0;
}
