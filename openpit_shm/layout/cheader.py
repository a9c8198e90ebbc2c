"""Generate the C header ``openpit_shm/include/openpit_shm.h`` from the layout descriptors.

The header is the C side of the shared-memory contract. It is generated from
``layout.segment``, ``layout.ring``, ``layout.records`` and ``layout.shard``,
committed, and shipped inside the package; ``get_include()`` returns its folder::

    gcc -O2 -I"$(python -c 'import openpit_shm.layout.cheader as c; print(c.get_include())')" \\
        my_feeder.c -o my_feeder          # add -lrt on glibc < 2.34

It contains: every numeric constant of ``records.py`` (``OPSHM_MSG_*``,
``OPSHM_SIDE_*``, ``OPSHM_ORDER_*``, ``OPSHM_STATUS_*``, ``OPSHM_RESULT_*``,
``OPSHM_RECORD_TAG_*``, ``OPSHM_CODE_*`` and the reject-code name table), the
kernels' reason variants (``OPSHM_RSN_*``, ``OPSHM_FIELD_*``, from
``kernels/codes.py``, and ``opshm_reason_name``), the segment header, ring
control page and record structs with ``_Static_assert`` on every size and
offset, the shard function and record routing (a finalization goes to the shard
its handle names), the record-tag helpers (``opshm_order_ref``), and
``static inline`` ring operations (single and batch push/pop with ``__atomic``
acquire/release, the sleeping-flag futex handshake, bounded waits) plus attach
helpers (``shm_open`` + ``mmap`` + header validation; a missing name or one a
dead engine left is an error, never a crash). It compiles as strict C11
(``-std=c11 -Wall -Wextra -Werror``) and as C++17: it defines ``_GNU_SOURCE``
itself when it is the first include, and stops with an ``#error`` that says
what to define when a system header came first without it.

Regenerate with ``python -m openpit_shm.layout.cheader`` (``--check`` exits 1
if the committed header is stale; a test runs the check).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

from openpit_shm.layout import control, handles, records, ring, segment, shard, state

__all__ = ["HEADER_NAME", "generate", "get_include", "header_path", "main"]

HEADER_NAME = "openpit_shm.h"

_C_TYPES = {
    np.dtype("<i8"): "int64_t",
    np.dtype("<u8"): "uint64_t",
    np.dtype("<i4"): "int32_t",
    np.dtype("<u4"): "uint32_t",
    np.dtype("<i2"): "int16_t",
    np.dtype("<u2"): "uint16_t",
    np.dtype("i1"): "int8_t",
    np.dtype("u1"): "uint8_t",
}

_RECORD_CONSTANT_PREFIXES = (
    "MSG_",
    "SIDE_",
    "ORDER_",
    "REPORT_",
    "STATUS_",
    "RESULT_",
    "FILL_",
    "PRICE_SOURCE_",
    "W2_",
    "HEAD_",
    "POLICY_",
    "RECORD_TAG_",
    "RECORD_REF_",
)


def get_include() -> str:
    """The folder holding ``openpit_shm.h`` (pass it to the C compiler with ``-I``)."""
    return str(Path(__file__).resolve().parent.parent / "include")


def header_path() -> Path:
    return Path(get_include()) / HEADER_NAME


def _snake_upper(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()


def _struct(cname: str, dtype: np.dtype) -> list[str]:
    """A C struct mirroring a NumPy structured dtype, with explicit padding and asserts."""
    lines = [f"typedef struct {cname} {{"]
    pos = 0
    pad = 0
    fields = sorted(dtype.fields.items(), key=lambda kv: kv[1][1])
    for fname, (fdtype, off) in fields:
        if off > pos:
            lines.append(f"    uint8_t _pad{pad}[{off - pos}];")
            pad += 1
        lines.append(f"    {_C_TYPES[fdtype]} {fname};")
        pos = off + fdtype.itemsize
    if dtype.itemsize > pos:
        lines.append(f"    uint8_t _pad{pad}[{dtype.itemsize - pos}];")
    lines.append(f"}} {cname};")
    lines.append(f'OPSHM_STATIC_ASSERT(sizeof({cname}) == {dtype.itemsize}, "{cname} size");')
    for fname, (_, off) in fields:
        lines.append(
            f'OPSHM_STATIC_ASSERT(offsetof({cname}, {fname}) == {off}, "{cname}.{fname} offset");'
        )
    return lines


def _ring_ctrl_struct() -> list[str]:
    lines = ["typedef struct opshm_ring_ctrl {", "    opshm_segment_header header;"]
    pos = segment.SEGMENT_HEADER_BYTES
    pad = 0
    for fname, off in sorted(ring.RING_OFF.items(), key=lambda kv: kv[1]):
        if off > pos:
            lines.append(f"    uint8_t _pad{pad}[{off - pos}];")
            pad += 1
        lines.append(f"    int64_t {fname};")
        pos = off + 8
    lines.append(f"    uint8_t _pad{pad}[{ring.RING_CTRL_BYTES - pos}];")
    lines.append("} opshm_ring_ctrl;")
    lines.append(
        f'OPSHM_STATIC_ASSERT(sizeof(opshm_ring_ctrl) == {ring.RING_CTRL_BYTES}, "ring ctrl size");'
    )
    for fname, off in ring.RING_OFF.items():
        lines.append(
            f"OPSHM_STATIC_ASSERT(offsetof(opshm_ring_ctrl, {fname}) == {off}, "
            f'"ring.{fname} offset");'
        )
    return lines


def _defines() -> list[str]:
    out = [
        f"#define OPSHM_LAYOUT_VERSION {segment.LAYOUT_VERSION}",
        f'#define OPSHM_SEGMENT_MAGIC UINT64_C({segment.SEGMENT_MAGIC:#018x}) /* "OPITSHM1" */',
        f"#define OPSHM_SEGMENT_HEADER_BYTES {segment.SEGMENT_HEADER_BYTES}",
        '#define OPSHM_SEGMENT_NAME_PREFIX "/opshm."',
    ]
    for kind, kname in sorted(segment.SEGMENT_KIND_NAMES.items()):
        out.append(f"#define OPSHM_SEGMENT_KIND_{kname.upper()} {kind}")
    out += [
        "",
        f"#define OPSHM_RECORD_BYTES {records.RECORD_BYTES}",
        f"#define OPSHM_FIXED_SCALE_DEFAULT {records.FIXED_SCALE_DEFAULT}",
        f"#define OPSHM_RING_CTRL_BYTES {ring.RING_CTRL_BYTES}",
        f"#define OPSHM_RING_SLOTS_OFFSET {ring.RING_SLOTS_OFFSET}",
        f"#define OPSHM_RING_CAPACITY_MIN {ring.RING_CAPACITY_MIN}",
        f"#define OPSHM_RING_CAPACITY_MAX {ring.RING_CAPACITY_MAX}",
        f"#define OPSHM_SHARD_HASH_MULTIPLIER UINT64_C({shard.SHARD_HASH_MULTIPLIER:#x})",
        "",
        "/* Reservation handles (openpit_shm/layout/handles.py): shard | client | generation |"
        " index. */",
    ]
    for name in sorted(n for n in handles.__all__ if n.startswith("HANDLE_")):
        out.append(f"#define OPSHM_{name} {getattr(handles, name)}")
    out += [
        "",
        "/* Numeric codes of openpit_shm/layout/records.py. */",
    ]
    for name in dir(records):
        value = getattr(records, name)
        if name.startswith(_RECORD_CONSTANT_PREFIXES) and isinstance(value, int):
            out.append(f"#define OPSHM_{name} {value}")
    out.append("")
    out.append("/* Reject codes: RESULT code = index + 1 in REJECT_CODES; 0 = no reject. */")
    for i, code in enumerate(records.REJECT_CODES):
        out.append(f"#define OPSHM_CODE_{_snake_upper(code)} {i + 1}")
    out.append(f"#define OPSHM_REJECT_CODE_COUNT {len(records.REJECT_CODES)}")
    return out


def _kernel_codes() -> list[tuple[str, int, str]]:
    """(name, value, comment) of every ``RSN_*`` reason and ``FIELD_*`` number, in value order.

    They live with the kernels that write them (``kernels/codes.py``, plain
    constants: importing it compiles nothing); a C consumer needs their names
    to read ``opshm_result.reason`` and a MissingRequiredField's ``d0``.
    """
    from openpit_shm.kernels import codes

    comments: dict[str, str] = {}
    source = Path(codes.__file__).read_text().splitlines()
    for line in source:
        m = re.match(r"^((?:RSN|FIELD)_\w+) = \d+\s*#:\s*(.*)$", line)
        if m:
            comments[m.group(1)] = m.group(2).replace("*/", "* /")
    found = [
        (name, getattr(codes, name), comments.get(name, ""))
        for name in dir(codes)
        if name.startswith(("RSN_", "FIELD_")) and isinstance(getattr(codes, name), int)
    ]
    return sorted(found, key=lambda t: (t[0].split("_")[0], t[1]))


def _reason_defines() -> list[str]:
    out = [
        "/* Reason variants (opshm_result.reason: which barrier, bound or malformation) and the",
        "   fields a MissingRequiredField names in d0; from openpit_shm/kernels/codes.py. */",
    ]
    for name, value, comment in _kernel_codes():
        tail = f" /* {comment} */" if comment else ""
        out.append(f"#define OPSHM_{name} {value}{tail}")
    return out


def _kind_defines() -> list[str]:
    """``OPSHM_MAX_KINDS``: the arena header's per-kind tables.

    The kinds themselves are not listed: the header then stays the same when a
    builtin is added (``docs/internals.md``, "Adding a builtin policy"). A result's
    ``policy`` byte is the registration index, which is what C readers match on.
    """
    return [f"#define OPSHM_MAX_KINDS {state.MAX_KINDS}"]


def _stat_defines() -> list[str]:
    """A shard block's stats and answer words (``layout.control``), for C monitors."""
    out = [
        "/* Shard block words of the control segment (openpit_shm/layout/control.py): word",
        "   OPSHM_CTL_S_STATS + OPSHM_STAT_* and OPSHM_CTL_S_ANSWERS + OPSHM_ANS_*. */",
        f"#define OPSHM_CTL_S_STATS {control.CTL_S_STATS}",
        f"#define OPSHM_CTL_S_ANSWERS {control.CTL_S_ANSWERS}",
    ]
    for name in control.STAT_NAMES:
        out.append(f"#define OPSHM_STAT_{name.upper()} {getattr(control, 'STAT_' + name.upper())}")
    for name in control.ANSWER_NAMES:
        out.append(f"#define OPSHM_ANS_{name.upper()} {getattr(control, 'ANS_' + name.upper())}")
    return out


def _reason_names() -> list[str]:
    out = [
        '/* The name of a reason variant ("BAD_INSTRUMENT" for OPSHM_RSN_BAD_INSTRUMENT),',
        '   "" for an unknown one. */',
        "static inline const char *opshm_reason_name(int reason) {",
        "    switch (reason) {",
    ]
    for name, _, _ in _kernel_codes():
        if name.startswith("RSN_"):
            out.append(f'    case OPSHM_{name}: return "{name[4:]}";')
    out += ['    default: return "";', "    }", "}"]
    return out


def _reject_table() -> list[str]:
    out = [
        "/* opshm_reject_code_names[code] is the openpit RejectCode name (index 0: no reject). */",
        "static const char *const opshm_reject_code_names[OPSHM_REJECT_CODE_COUNT + 1]"
        " __attribute__((unused)) = {",
        '    "",',
    ]
    out += [f'    "{code}",' for code in records.REJECT_CODES]
    out.append("};")
    return out


_PRELUDE = r"""/*
 * openpit_shm.h -- the C side of openpit_shm's shared-memory transport.
 *
 * GENERATED by openpit_shm/layout/cheader.py from the layout descriptors: do not edit.
 * Regenerate: python -m openpit_shm.layout.cheader
 *
 * One ring segment (SPSC, power-of-two capacity, 64-byte records):
 *
 *   byte    0  opshm_segment_header (128 B)     magic written last
 *   byte  256  head   producer cursor (free-running int64)   producer writes (release)
 *   byte  384  tail   consumer cursor (free-running int64)   consumer writes (release)
 *   byte  512  consumer_sleeping  futex word (Dekker-gated wake-up)
 *   byte  640  producer_sleeping  futex word
 *   byte  768  producer-private line (tail_cache, pid, wakes, parks)
 *   byte  896  consumer-private line (head_cache, pid, wakes, parks)
 *   byte 4096  slots[capacity] of opshm_order / opshm_result
 *
 * Producer: write records into slots[(head + k) & mask], then opshm_ring_publish(head + n).
 * Consumer: n = opshm_ring_readable(), read slots[(tail + k) & mask], opshm_ring_release(tail + n).
 * Use at most one producer and one consumer per ring at a time.
 *
 * Compiles as strict C11 (gcc -std=c11 -Wall -Wextra -Werror) and as C++ (g++ -std=c++17).
 * It needs POSIX.1-2008 (clock_gettime, shm_open, kill) and syscall() (the futex), which
 * strict C hides: it defines _GNU_SOURCE itself when included before any system header;
 * a file that includes a system header first must define _GNU_SOURCE at its top (or pass
 * -D_GNU_SOURCE), else compilation stops with an #error saying so. Add -lrt on glibc < 2.34.
 */
#ifndef OPENPIT_SHM_H
#define OPENPIT_SHM_H

/* Feature macros take effect only before the first system header: define them now. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* glibc fixed its features at the first system header: if that came before this one
   without _GNU_SOURCE (strict -std=c11), clock_gettime/syscall are hidden. Say so clearly. */
#if defined(__GLIBC__) && (!defined(__USE_POSIX199309) || !defined(__USE_MISC))
#error "openpit_shm.h: #define _GNU_SOURCE before the first #include, or pass -D_GNU_SOURCE"
#else /* the rest of the header, skipped after the #error so that it is the only message */

#ifdef __cplusplus
#define OPSHM_STATIC_ASSERT static_assert
extern "C" {
#else
#define OPSHM_STATIC_ASSERT _Static_assert
#endif
"""

_CODE = r"""
/* ---- shard function (openpit_shm/layout/shard.py) ----------------------------------------- */

/* The shard that owns `account`: Fibonacci hashing, high 32 bits, modulo n_shards (> 0). */
static inline uint32_t opshm_shard_of(uint64_t account, uint32_t n_shards) {
    return (uint32_t)(((account * OPSHM_SHARD_HASH_MULTIPLIER) >> 32) % n_shards);
}

/* ---- the engine's record tag (openpit_shm/layout/records.py) ------------------------------ */

/* Instrument ids are numbered per engine, so records that name one (OPSHM_MSG_ORDER,
   OPSHM_MSG_START, OPSHM_MSG_DRY_START, OPSHM_MSG_DRY_ORDER, OPSHM_MSG_DROP_COPY,
   OPSHM_MSG_REPORT) carry the engine's record tag (the "tag" of engine.external_client()) in
   `ref`; an engine answers a record with another tag OPSHM_STATUS_ERROR /
   OPSHM_RSN_WRONG_ENGINE. */
static inline int64_t opshm_order_ref(uint64_t tag) {
    return (int64_t)(tag << OPSHM_RECORD_TAG_SHIFT);
}

/* `ref` of an OPSHM_MSG_REPORT: the tag and the decimals pnl and fee were written with
   (0..OPSHM_REPORT_SCALE_MAX each; 0 and 0 when unknown: texts then use the shortest form). */
static inline int64_t opshm_report_ref(uint64_t tag, int pnl_scale, int fee_scale) {
    return (int64_t)(tag << OPSHM_RECORD_TAG_SHIFT) |
           (int64_t)(pnl_scale | fee_scale << OPSHM_REPORT_SCALE_SHIFT);
}

/* The shard a reservation or request handle belongs to (its shard field). */
static inline uint32_t opshm_handle_shard(int64_t handle) {
    return (uint32_t)(((uint64_t)handle >> OPSHM_HANDLE_SHARD_SHIFT)
                      & ((1u << OPSHM_HANDLE_SHARD_BITS) - 1));
}

/* Where a record goes: MSG_EXECUTE / MSG_COMMIT / MSG_ROLLBACK / MSG_FILL to the shard their handle
 * (ref) names (0 if it names none of n_shards: that shard refuses it), every other record to
 * its account's shard. */
static inline uint32_t opshm_record_shard(const opshm_order *o, uint32_t n_shards) {
    if (o->kind == OPSHM_MSG_EXECUTE || o->kind == OPSHM_MSG_COMMIT
        || o->kind == OPSHM_MSG_ROLLBACK || o->kind == OPSHM_MSG_FILL) {
        uint32_t named = opshm_handle_shard(o->ref);
        return named < n_shards ? named : 0;
    }
    return opshm_shard_of(o->account, n_shards);
}

/* ---- CPU and OS helpers -------------------------------------------------------------------- */

static inline void opshm_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

static inline int64_t opshm_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Shared (not FUTEX_PRIVATE) futexes on the low 32 bits of an int64 word: cross-process. */
#define OPSHM_FUTEX_WAIT 0
#define OPSHM_FUTEX_WAKE 1

static inline long opshm_futex_wait(int64_t *word, uint32_t expected, int64_t timeout_ns) {
    struct timespec ts;
    struct timespec *tp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = (time_t)(timeout_ns / 1000000000);
        ts.tv_nsec = (long)(timeout_ns % 1000000000);
        tp = &ts;
    }
    return syscall(SYS_futex, (uint32_t *)word, OPSHM_FUTEX_WAIT, expected, tp, NULL, 0);
}

static inline long opshm_futex_wake(int64_t *word, int n) {
    return syscall(SYS_futex, (uint32_t *)word, OPSHM_FUTEX_WAKE, n, NULL, NULL, 0);
}

/* ---- a mapped ring ------------------------------------------------------------------------- */

typedef struct opshm_ring {
    opshm_ring_ctrl *ctrl;  /* the control page (offset 0 of the mapping) */
    uint8_t *slots;         /* capacity * 64 bytes (offset OPSHM_RING_SLOTS_OFFSET) */
    int64_t capacity;
    int64_t mask;
    size_t map_bytes;
} opshm_ring;

#define OPSHM_LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define OPSHM_LOAD_RLX(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define OPSHM_STORE_REL(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define OPSHM_STORE_RLX(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define OPSHM_FENCE() __atomic_thread_fence(__ATOMIC_SEQ_CST)

/* The slot of cursor `cursor` (a 64-byte record). */
static inline void *opshm_ring_slot(const opshm_ring *r, int64_t cursor) {
    return r->slots + (size_t)(cursor & r->mask) * OPSHM_RECORD_BYTES;
}

/* ---- producer side ------------------------------------------------------------------------- */

static inline int64_t opshm_ring_head(const opshm_ring *r) {
    return OPSHM_LOAD_RLX(&r->ctrl->head);
}

/* Free slots; re-reads the consumer cursor only when the cached one shows fewer than `want`. */
static inline int64_t opshm_ring_writable(opshm_ring *r, int64_t want) {
    opshm_ring_ctrl *c = r->ctrl;
    int64_t head = OPSHM_LOAD_RLX(&c->head);
    int64_t free_ = r->capacity - (head - c->tail_cache);
    if (free_ < want) {
        int64_t tail = OPSHM_LOAD_ACQ(&c->tail);
        c->tail_cache = tail;
        free_ = r->capacity - (head - tail);
    }
    return free_;
}

/* Release-store head; wake the consumer only if it sleeps (Dekker: store, fence, load). */
static inline int opshm_ring_publish(opshm_ring *r, int64_t new_head) {
    opshm_ring_ctrl *c = r->ctrl;
    OPSHM_STORE_REL(&c->head, new_head);
    OPSHM_FENCE();
    if (OPSHM_LOAD_RLX(&c->consumer_sleeping) != 0) {
        OPSHM_STORE_RLX(&c->consumer_sleeping, 0);
        opshm_futex_wake(&c->consumer_sleeping, 1);
        c->producer_wakes += 1;
        return 1;
    }
    return 0;
}

/* Copy up to `count` 64-byte records from `recs` into the ring and publish once.
   Returns how many were pushed (0 when full). */
static inline int64_t opshm_ring_push_batch(opshm_ring *r, const void *recs, int64_t count) {
    if (count <= 0) return 0;
    int64_t free_ = opshm_ring_writable(r, count);
    int64_t n = count < free_ ? count : free_;
    if (n <= 0) return 0;
    int64_t head = OPSHM_LOAD_RLX(&r->ctrl->head);
    const uint8_t *src = (const uint8_t *)recs;
    for (int64_t k = 0; k < n; k++)
        memcpy(opshm_ring_slot(r, head + k), src + k * OPSHM_RECORD_BYTES, OPSHM_RECORD_BYTES);
    opshm_ring_publish(r, head + n);
    return n;
}

/* Push one record; returns 1, or 0 when the ring is full. */
static inline int opshm_ring_push(opshm_ring *r, const void *rec) {
    return (int)opshm_ring_push_batch(r, rec, 1);
}

/* ---- consumer side ------------------------------------------------------------------------- */

static inline int64_t opshm_ring_tail(const opshm_ring *r) {
    return OPSHM_LOAD_RLX(&r->ctrl->tail);
}

/* Readable records; re-reads (acquire) the producer cursor only when the cache shows < `want`. */
static inline int64_t opshm_ring_readable(opshm_ring *r, int64_t want) {
    opshm_ring_ctrl *c = r->ctrl;
    int64_t tail = OPSHM_LOAD_RLX(&c->tail);
    int64_t avail = c->head_cache - tail;
    if (avail < want) {
        int64_t head = OPSHM_LOAD_ACQ(&c->head);
        c->head_cache = head;
        avail = head - tail;
    }
    return avail;
}

/* Release-store tail; wake the producer only if it sleeps on a full ring. */
static inline int opshm_ring_release(opshm_ring *r, int64_t new_tail) {
    opshm_ring_ctrl *c = r->ctrl;
    OPSHM_STORE_REL(&c->tail, new_tail);
    OPSHM_FENCE();
    if (OPSHM_LOAD_RLX(&c->producer_sleeping) != 0) {
        OPSHM_STORE_RLX(&c->producer_sleeping, 0);
        opshm_futex_wake(&c->producer_sleeping, 1);
        c->consumer_wakes += 1;
        return 1;
    }
    return 0;
}

/* Copy up to `max_count` records into `out` and release them once. Returns how many. */
static inline int64_t opshm_ring_pop_batch(opshm_ring *r, void *out, int64_t max_count) {
    if (max_count <= 0) return 0;
    int64_t avail = opshm_ring_readable(r, max_count);
    int64_t n = max_count < avail ? max_count : avail;
    if (n <= 0) return 0;
    int64_t tail = OPSHM_LOAD_RLX(&r->ctrl->tail);
    uint8_t *dst = (uint8_t *)out;
    for (int64_t k = 0; k < n; k++)
        memcpy(dst + k * OPSHM_RECORD_BYTES, opshm_ring_slot(r, tail + k), OPSHM_RECORD_BYTES);
    opshm_ring_release(r, tail + n);
    return n;
}

/* Pop one record into `out`; returns 1, or 0 when the ring is empty. */
static inline int opshm_ring_pop(opshm_ring *r, void *out) {
    return (int)opshm_ring_pop_batch(r, out, 1);
}

/* ---- waiting: spin, then park on the futex behind the sleeping flag ----------------------- */

/* Idle strategy: spin `spins` times with pause, then park in slices of at most `park_ns`. */
typedef struct opshm_idle {
    int64_t spins;
    int64_t park_ns;
} opshm_idle;

static const opshm_idle OPSHM_IDLE_DEFAULT __attribute__((unused)) = {1000, 10000000};

static inline int64_t opshm__wait(opshm_ring *r, int producer, int64_t want, opshm_idle idle,
                                  int64_t timeout_ns) {
    if (want > r->capacity) want = r->capacity;
    int64_t have = producer ? opshm_ring_writable(r, want) : opshm_ring_readable(r, want);
    if (have >= want || timeout_ns == 0) return have;
    int64_t deadline = timeout_ns > 0 ? opshm_monotonic_ns() + timeout_ns : -1;
    int64_t *flag = producer ? &r->ctrl->producer_sleeping : &r->ctrl->consumer_sleeping;
    int64_t *parks = producer ? &r->ctrl->producer_parks : &r->ctrl->consumer_parks;
    for (int64_t k = 1;; k++) {
        have = producer ? opshm_ring_writable(r, want) : opshm_ring_readable(r, want);
        if (have >= want) return have;
        int64_t slice = idle.park_ns;
        if (deadline >= 0) {
            if (k <= idle.spins && (k & 63) != 0) { opshm_cpu_relax(); continue; }
            int64_t left = deadline - opshm_monotonic_ns();
            if (left <= 0) return have;
            if (left < slice) slice = left;
        }
        if (k <= idle.spins) { opshm_cpu_relax(); continue; }
        OPSHM_STORE_RLX(flag, 1);
        OPSHM_FENCE();
        have = producer ? opshm_ring_writable(r, want) : opshm_ring_readable(r, want);
        if (have >= want) { OPSHM_STORE_RLX(flag, 0); return have; }
        *parks += 1;
        opshm_futex_wait(flag, 1, slice);
        OPSHM_STORE_RLX(flag, 0);
    }
}

/* Wait until >= want slots are free. Returns the free count (< want: timeout_ns passed;
   timeout_ns < 0 waits forever, 0 does not wait). */
static inline int64_t opshm_ring_wait_writable(opshm_ring *r, int64_t want, opshm_idle idle,
                                               int64_t timeout_ns) {
    return opshm__wait(r, 1, want, idle, timeout_ns);
}

/* Wait until >= want records are readable. Returns the readable count (< want: timeout). */
static inline int64_t opshm_ring_wait_readable(opshm_ring *r, int64_t want, opshm_idle idle,
                                               int64_t timeout_ns) {
    return opshm__wait(r, 0, want, idle, timeout_ns);
}

/* ---- attaching ----------------------------------------------------------------------------- */

#define OPSHM_OK 0
#define OPSHM_ERR_OPEN (-1)       /* shm_open failed (errno says why) */
#define OPSHM_ERR_MAP (-2)        /* fstat/mmap failed (errno says why) */
#define OPSHM_ERR_SIZE (-3)       /* the segment is smaller than its header says */
#define OPSHM_ERR_MAGIC (-4)      /* not an openpit_shm segment, or not initialised yet */
#define OPSHM_ERR_VERSION (-5)    /* layout version differs from OPSHM_LAYOUT_VERSION */
#define OPSHM_ERR_KIND (-6)       /* another segment kind */
#define OPSHM_ERR_CAPACITY (-7)   /* capacity differs, or is not a power of two */
#define OPSHM_ERR_RECORD (-8)     /* record size is not OPSHM_RECORD_BYTES */
#define OPSHM_ERR_SHARD (-9)      /* shard id or shard count differs */
#define OPSHM_ERR_STALE (-10)     /* left behind: the process that created it has exited */

static inline const char *opshm_strerror(int err) {
    switch (err) {
    case OPSHM_OK: return "ok";
    case OPSHM_ERR_OPEN: return "shm_open failed";
    case OPSHM_ERR_MAP: return "fstat/mmap failed";
    case OPSHM_ERR_SIZE: return "segment smaller than its header says";
    case OPSHM_ERR_MAGIC: return "not an openpit_shm segment (bad magic) or not initialised";
    case OPSHM_ERR_VERSION: return "layout version mismatch";
    case OPSHM_ERR_KIND: return "wrong segment kind";
    case OPSHM_ERR_CAPACITY: return "capacity mismatch";
    case OPSHM_ERR_RECORD: return "record size mismatch";
    case OPSHM_ERR_SHARD: return "shard id/count mismatch";
    case OPSHM_ERR_STALE: return "stale segment: its creator (the engine) has exited";
    default: return "unknown error";
    }
}

/* 1 while the process that created a segment runs: `pid` exists, is not a zombie and, when
   `start_ticks` != 0, started at `start_ticks` (field 22 of /proc/<pid>/stat), so a reused pid
   does not count. The rule of `python -m openpit_shm sweep` (openpit_shm/shm/sweep.py).
   Pids mean something inside one pid namespace only: a producer in another one (a container
   sharing /dev/shm) compiles with -DOPSHM_NO_CREATOR_CHECK and is on its own. */
static inline int opshm_creator_alive(int64_t pid, int64_t start_ticks) {
#ifdef OPSHM_NO_CREATOR_CHECK
    (void)pid;
    (void)start_ticks;
    return 1;
#else
    if (pid <= 0 || pid > INT32_MAX) return 0;
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) return 0;
    char path[32] = "/proc/";
    char digits[16];
    int n = 0;
    for (int64_t v = pid; v > 0; v /= 10) digits[n++] = (char)('0' + v % 10);
    size_t len = 6;
    while (n > 0) path[len++] = digits[--n];
    memcpy(path + len, "/stat", 6);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 1; /* no /proc: the pid exists, which is all that can be told */
    char buf[1024];
    ssize_t got = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (got <= 0) return 1;
    buf[got] = 0;
    /* The command (field 2) may hold spaces and parentheses: fields 3.. follow the last ')'. */
    const char *p = strrchr(buf, ')');
    if (p == NULL || p[1] == 0) return 1;
    p += 2;
    if (*p == 'Z' || *p == 'X') return 0;
    if (start_ticks == 0) return 1;
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (p == NULL) return 1;
        p++;
    }
    int64_t ticks = 0;
    while (*p >= '0' && *p <= '9') ticks = ticks * 10 + (*p++ - '0');
    return ticks == start_ticks;
#endif
}

/* Map segment `name` read-write (pre-faulted) and check magic, version, kind (if >= 0),
   size, and that its creator still runs (a name a dead engine left behind is refused, not
   fed). On success *base / *bytes describe the mapping (munmap it when done); on failure
   they are set to NULL / 0 and nothing stays mapped. */
static inline int opshm_segment_attach(const char *name, int64_t kind, void **base,
                                       size_t *bytes) {
    *base = NULL;
    *bytes = 0;
    int fd = shm_open(name, O_RDWR, 0);
    if (fd < 0) return OPSHM_ERR_OPEN;
    struct stat st;
    if (fstat(fd, &st) != 0) { close(fd); return OPSHM_ERR_MAP; }
    if ((size_t)st.st_size < OPSHM_SEGMENT_HEADER_BYTES) { close(fd); return OPSHM_ERR_SIZE; }
    int flags = MAP_SHARED;
#ifdef MAP_POPULATE
    flags |= MAP_POPULATE; /* pre-fault every page now, not on the first orders */
#endif
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, flags, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return OPSHM_ERR_MAP;
    const opshm_segment_header *h = (const opshm_segment_header *)p;
    int err = OPSHM_OK;
    if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != OPSHM_SEGMENT_MAGIC) err = OPSHM_ERR_MAGIC;
    else if (h->version != OPSHM_LAYOUT_VERSION) err = OPSHM_ERR_VERSION;
    else if (kind >= 0 && h->kind != kind) err = OPSHM_ERR_KIND;
    else if (h->segment_bytes > (int64_t)st.st_size) err = OPSHM_ERR_SIZE;
    else if (!opshm_creator_alive(h->creator_pid, h->creator_start)) err = OPSHM_ERR_STALE;
    if (err != OPSHM_OK) { munmap(p, (size_t)st.st_size); return err; }
    *base = p;
    *bytes = (size_t)st.st_size;
    return OPSHM_OK;
}

/* Attach ring `name`. expect_capacity / expect_shard_count: 0 = any; expect_shard_id: -1 = any.
   Returns OPSHM_OK, or an OPSHM_ERR_* code (a missing name: OPSHM_ERR_OPEN; one a dead engine
   left: OPSHM_ERR_STALE) with *out zeroed: pushing to or popping from it is a caller bug, and
   opshm_ring_detach(out) is a no-op. */
static inline int opshm_ring_attach(const char *name, int64_t expect_capacity,
                                    int64_t expect_shard_id, int64_t expect_shard_count,
                                    opshm_ring *out) {
    memset(out, 0, sizeof *out);
    void *base;
    size_t bytes;
    int err = opshm_segment_attach(name, OPSHM_SEGMENT_KIND_RING, &base, &bytes);
    if (err != OPSHM_OK) return err;
    const opshm_segment_header *h = (const opshm_segment_header *)base;
    int64_t cap = h->capacity;
    if (cap < OPSHM_RING_CAPACITY_MIN || cap > OPSHM_RING_CAPACITY_MAX || (cap & (cap - 1)) != 0 ||
        (expect_capacity > 0 && cap != expect_capacity))
        err = OPSHM_ERR_CAPACITY;
    else if (h->record_bytes != OPSHM_RECORD_BYTES)
        err = OPSHM_ERR_RECORD;
    else if ((expect_shard_id >= 0 && h->shard_id != expect_shard_id) ||
             (expect_shard_count > 0 && h->shard_count != expect_shard_count))
        err = OPSHM_ERR_SHARD;
    else if ((size_t)(OPSHM_RING_SLOTS_OFFSET + cap * OPSHM_RECORD_BYTES) > bytes)
        err = OPSHM_ERR_SIZE;
    if (err != OPSHM_OK) { munmap(base, bytes); return err; }
    out->ctrl = (opshm_ring_ctrl *)base;
    out->slots = (uint8_t *)base + OPSHM_RING_SLOTS_OFFSET;
    out->capacity = cap;
    out->mask = cap - 1;
    out->map_bytes = bytes;
    return OPSHM_OK;
}

static inline void opshm_ring_detach(opshm_ring *r) {
    if (r->ctrl) munmap((void *)r->ctrl, r->map_bytes);
    r->ctrl = NULL;
    r->slots = NULL;
}
"""

_EPILOGUE = r"""
#ifdef __cplusplus
}
#endif

#endif /* the feature check */
#endif /* OPENPIT_SHM_H */
"""


def _quote_defines() -> list[str]:
    """The keyed quote table's words, kinds, flags and codes (``layout.quotes``)."""
    from . import quotes

    out = ["/* Quote table (openpit_shm/layout/quotes.py): header, index, seqlocked rows. */"]
    for name in sorted(quotes.__all__):
        value = getattr(quotes, name)
        if isinstance(value, int) and name.startswith(("QT_", "QK_", "QR_", "QUOTE_")):
            out.append(f"#define OPSHM_{name} {value}")
    return out


_QUOTE_CODE = r"""
/* ---- quote producers (the writer side of kernels/market_data.py) ------------------ */

typedef struct opshm_quotes {
    int64_t *words;     /* the table: header, index, rows (layout/quotes.py) */
    int64_t capacity;   /* slots (a power of two) */
    void *base;         /* the mapping */
    size_t map_bytes;
} opshm_quotes;

/* Attach the quote table `name` (external_client()["quotes"]). */
static inline int opshm_quotes_attach(const char *name, opshm_quotes *out) {
    memset(out, 0, sizeof *out);
    void *base;
    size_t bytes;
    int err = opshm_segment_attach(name, OPSHM_SEGMENT_KIND_QUOTES, &base, &bytes);
    if (err != OPSHM_OK) return err;
    const opshm_segment_header *h = (const opshm_segment_header *)base;
    int64_t cap = h->capacity;
    int64_t need = OPSHM_QT_HEADER_WORDS + cap * (OPSHM_QT_INDEX_WORDS + 8);
    int64_t *w = (int64_t *)((uint8_t *)base + h->data_offset);
    if (cap < 2 || (cap & (cap - 1)) != 0) err = OPSHM_ERR_CAPACITY;
    else if ((size_t)(h->data_offset + need * 8) > bytes) err = OPSHM_ERR_SIZE;
    else if (w[OPSHM_QT_CAPACITY] != cap || w[OPSHM_QT_VERSION] != OPSHM_QUOTE_TABLE_VERSION)
        err = OPSHM_ERR_VERSION;
    if (err != OPSHM_OK) { munmap(base, bytes); return err; }
    out->words = w;
    out->capacity = cap;
    out->base = base;
    out->map_bytes = bytes;
    return OPSHM_OK;
}

static inline void opshm_quotes_detach(opshm_quotes *q) {
    if (q->base) munmap(q->base, q->map_bytes);
    memset(q, 0, sizeof *q);
}

static inline uint64_t opshm__fmix64(uint64_t h) {
    h ^= h >> 33; h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33; h *= UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    return h;
}

/* kernels/market_data.py qt_hash. */
static inline uint64_t opshm_quote_hash(int64_t kind, uint64_t instrument, uint64_t key) {
    uint64_t h = opshm__fmix64(instrument + UINT64_C(0x9e3779b97f4a7c15));
    h = opshm__fmix64(h ^ key);
    return opshm__fmix64(h ^ (uint64_t)kind);
}

/* The slot of key (kind, instrument, key), claimed if new: >= 0, or -1 full, -2 busy. */
static inline int64_t opshm_quote_slot(opshm_quotes *q, int64_t kind, uint64_t instrument,
                                       uint64_t key) {
    int64_t *w = q->words, cap = q->capacity, mask = cap - 1, limit = cap - cap / 4;
    int64_t i = (int64_t)(opshm_quote_hash(kind, instrument, key) & (uint64_t)mask);
    for (int64_t n = 0; n < cap; n++, i = (i + 1) & mask) {
        int64_t *e = w + OPSHM_QT_HEADER_WORDS + i * OPSHM_QT_INDEX_WORDS;
        for (long spins = 0;; spins++) {
            int64_t st = __atomic_load_n(&e[OPSHM_QT_I_STATE], __ATOMIC_ACQUIRE);
            if (st == OPSHM_QT_ENTRY_EMPTY) {
                if (__atomic_fetch_add(&w[OPSHM_QT_USED], 1, __ATOMIC_ACQ_REL) >= limit) {
                    __atomic_fetch_sub(&w[OPSHM_QT_USED], 1, __ATOMIC_ACQ_REL);
                    return -1;
                }
                int64_t expect = OPSHM_QT_ENTRY_EMPTY;
                if (__atomic_compare_exchange_n(&e[OPSHM_QT_I_STATE], &expect,
                                                OPSHM_QT_ENTRY_CLAIMING, 0, __ATOMIC_ACQ_REL,
                                                __ATOMIC_ACQUIRE)) {
                    __atomic_store_n(&e[OPSHM_QT_I_KIND], kind, __ATOMIC_RELEASE);
                    __atomic_store_n(&e[OPSHM_QT_I_INSTRUMENT], (int64_t)instrument,
                                     __ATOMIC_RELEASE);
                    __atomic_store_n(&e[OPSHM_QT_I_KEY], (int64_t)key, __ATOMIC_RELEASE);
                    __atomic_store_n(&e[OPSHM_QT_I_STATE], OPSHM_QT_ENTRY_READY, __ATOMIC_RELEASE);
                    __atomic_fetch_or(&w[OPSHM_QT_KINDS_USED], (int64_t)1 << kind,
                                      __ATOMIC_ACQ_REL);
                    return i;
                }
                __atomic_fetch_sub(&w[OPSHM_QT_USED], 1, __ATOMIC_ACQ_REL);
                continue;
            }
            if (st == OPSHM_QT_ENTRY_CLAIMING) {
                if (spins >= OPSHM_QUOTE_WRITE_SPINS) return -2;
                opshm_cpu_relax();
                continue;
            }
            break;
        }
        if (__atomic_load_n(&e[OPSHM_QT_I_KIND], __ATOMIC_RELAXED) == kind &&
            __atomic_load_n(&e[OPSHM_QT_I_INSTRUMENT], __ATOMIC_RELAXED) == (int64_t)instrument &&
            __atomic_load_n(&e[OPSHM_QT_I_KEY], __ATOMIC_RELAXED) == (int64_t)key)
            return i;
    }
    return -1;
}

/* Push a quote into bucket (kind, instrument, key): kind OPSHM_QK_DEFAULT (key 0),
   OPSHM_QK_ACCOUNT (key = account id) or OPSHM_QK_GROUP (key = group id). flags:
   OPSHM_QUOTE_PRESENT | OPSHM_QUOTE_HAS_{MARK,BID,ASK}; prices in fixed point at the
   table's scale (words[OPSHM_QT_SCALE]); pushed_ns on the engine's clock
   (opshm_monotonic_ns() for an engine on the default clock); age_ns = the source age.
   The row is replaced under its seqlock exactly as kernels/quotes.py does: readers never
   use a torn quote. Returns OPSHM_QUOTE_OK, OPSHM_QUOTE_FULL or OPSHM_QUOTE_BUSY. The
   instrument must be registered with the engine's MarketDataService (kernels answer
   "unknown instrument" otherwise); the service's own get() does not see C pushes. */
static inline int opshm_quote_push(opshm_quotes *q, uint64_t instrument, int64_t kind,
                                   uint64_t key, int64_t flags, int64_t mark, int64_t bid,
                                   int64_t ask, int64_t pushed_ns, int64_t age_ns) {
    if (kind < OPSHM_QK_DEFAULT || kind > OPSHM_QK_GROUP) return OPSHM_QUOTE_FULL;
    int64_t slot = opshm_quote_slot(q, kind, instrument, key);
    if (slot == -1) return OPSHM_QUOTE_FULL;
    if (slot == -2) return OPSHM_QUOTE_BUSY;
    int64_t *r = q->words + OPSHM_QT_HEADER_WORDS + q->capacity * OPSHM_QT_INDEX_WORDS + slot * 8;
    if (age_ns < 0) age_ns = 0;
    for (long n = 0; n < OPSHM_QUOTE_WRITE_SPINS; n++) {
        int64_t seq = __atomic_load_n(&r[OPSHM_QUOTE_W_SEQ], __ATOMIC_RELAXED);
        if ((seq & 1) == 0 &&
            __atomic_compare_exchange_n(&r[OPSHM_QUOTE_W_SEQ], &seq, seq + 1, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED)) {
            __atomic_store_n(&r[OPSHM_QUOTE_W_FLAGS], flags, __ATOMIC_RELEASE);
            __atomic_store_n(&r[OPSHM_QUOTE_W_MARK], mark, __ATOMIC_RELEASE);
            __atomic_store_n(&r[OPSHM_QUOTE_W_BID], bid, __ATOMIC_RELEASE);
            __atomic_store_n(&r[OPSHM_QUOTE_W_ASK], ask, __ATOMIC_RELEASE);
            __atomic_store_n(&r[OPSHM_QUOTE_W_PUSHED_NS], pushed_ns, __ATOMIC_RELEASE);
            __atomic_store_n(&r[OPSHM_QUOTE_W_AGE_NS], age_ns, __ATOMIC_RELEASE);
            __atomic_store_n(&r[OPSHM_QUOTE_W_INSTRUMENT], (int64_t)instrument, __ATOMIC_RELEASE);
            __atomic_store_n(&r[OPSHM_QUOTE_W_SEQ], seq + 2, __ATOMIC_RELEASE);
            return OPSHM_QUOTE_OK;
        }
        opshm_cpu_relax();
    }
    return OPSHM_QUOTE_BUSY;
}
"""


def generate() -> str:
    """The full text of ``openpit_shm.h``."""
    parts: list[str] = [_PRELUDE]
    parts.append(
        "/* ---- constants ---------------------------------------------------------- */\n"
    )
    parts.append("\n".join(_defines()) + "\n\n")
    parts.append("\n".join(_reject_table()) + "\n\n")
    parts.append("\n".join(_reason_defines()) + "\n\n")
    parts.append("\n".join(_reason_names()) + "\n\n")
    parts.append("\n".join(_kind_defines()) + "\n\n")
    parts.append("\n".join(_stat_defines()) + "\n\n")
    parts.append("\n".join(_quote_defines()) + "\n\n")
    parts.append(
        "/* ---- segment header (openpit_shm/layout/segment.py) ---------------------- */\n"
    )
    parts.append("\n".join(_struct("opshm_segment_header", segment.SEGMENT_HEADER_DTYPE)) + "\n\n")
    parts.append(
        "/* ---- records (openpit_shm/layout/records.py) ----------------------------- */\n"
    )
    parts.append("\n".join(_struct("opshm_order", records.ORDER_DTYPE)) + "\n\n")
    parts.append("\n".join(_struct("opshm_result", records.RESULT_DTYPE)) + "\n\n")
    parts.append(
        "/* ---- ring control page (openpit_shm/layout/ring.py) ---------------------- */\n"
    )
    parts.append("\n".join(_ring_ctrl_struct()) + "\n")
    parts.append(_CODE)
    parts.append(_QUOTE_CODE)
    parts.append(_EPILOGUE)
    return "".join(parts)


def main(argv: list[str] | None = None) -> int:
    """``python -m openpit_shm.layout.cheader [--check] [--output PATH]``."""
    ap = argparse.ArgumentParser(description="Generate openpit_shm.h from the layout descriptors.")
    ap.add_argument("--check", action="store_true", help="exit 1 if the header is out of date")
    ap.add_argument("--output", type=Path, default=header_path())
    args = ap.parse_args(argv)
    text = generate()
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run python -m openpit_shm.layout.cheader")
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
