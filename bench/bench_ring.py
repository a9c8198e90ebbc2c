"""Transport benchmark: SPSC shared-memory ring throughput and round trip, with baselines.

Run from the repository root::

    .venv/bin/python bench/bench_ring.py            # full run (5 repetitions)
    .venv/bin/python bench/bench_ring.py --reps 3 --scale 0.2   # a quicker look

What it measures (producer pinned to CPU 0, consumer/server to CPU 1, both
sides busy-spinning on their own core; the launcher only blocks):

* throughput, 64-byte ORDER records, Numba consumer draining in place
  (``ring_readable`` + check + ``ring_release``), for producers:
  Numba (``ring_push_batch`` from a staging array), C (``opshm_ring_push_batch``
  from the generated header, gcc -O2) and Python (batch 1: ``RingProducer.push``
  of a tuple built per record = one structured setitem + one release store;
  batch 16/256: ``RingProducer.push_batch`` of a NumPy ORDER array);
* ping-pong round trip (one record in flight through a request ring and a
  response ring to a Numba echo server) for a Numba client (timed with rdtsc)
  and a Python client (``push`` + ``try_pop`` polling, ``perf_counter_ns``);
* baselines in the same run: ``multiprocessing.Queue`` and ``Pipe`` throughput
  (an 11-int tuple per message) and ``Pipe`` ping-pong.

Every configuration is compiled/warmed before timing, rings are pre-faulted at
creation, and each runs ``--reps`` times; the table shows the median and the
min-max range, and ratios to the baselines.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from openpit_shm.hostinfo import host_lines as host_info
from openpit_shm.kernels.atomics import cpu_relax, fetch_add, load_acquire
from openpit_shm.kernels.futex import futex_wait, futex_wake
from openpit_shm.kernels.ring import (
    idle_busy_spin,
    ring_head,
    ring_publish,
    ring_push_batch,
    ring_readable,
    ring_release,
    ring_tail,
    ring_writable,
)
from openpit_shm.layout.cheader import get_include
from openpit_shm.layout.records import ORDER_DTYPE
from openpit_shm.layout.segment import SEGMENT_KIND_CONTROL
from openpit_shm.shm.ring import Ring
from openpit_shm.shm.segment import Segment

ROOT = Path(__file__).resolve().parent.parent
CTX = mp.get_context("fork")
W_READY, W_GO = 32, 48  # words of the benchmark's control segment (same in bench/c)
CAPACITY = 4096


def pin(cpu: int) -> None:
    if cpu < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {cpu})


@intrinsic
def rdtsc(typingctx):  # type: ignore[no-untyped-def]
    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        fnty = ir.FunctionType(ir.IntType(64), [])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.readcyclecounter")
        return builder.call(fn, [])

    return types.int64(), codegen


@njit(cache=True)
def _rdtsc():  # type: ignore[no-untyped-def]
    return rdtsc()


def tsc_hz() -> float:
    _rdtsc()
    t0, c0 = time.perf_counter_ns(), _rdtsc()
    time.sleep(0.2)
    t1, c1 = time.perf_counter_ns(), _rdtsc()
    return (c1 - c0) * 1e9 / (t1 - t0)


# ---- start line: every process attaches, counts itself ready, and sleeps on GO ---------------


@njit(cache=True)
def _ready_and_wait(ctl):  # type: ignore[no-untyped-def]
    fetch_add(ctl, W_READY, 1)
    while load_acquire(ctl, W_GO) == 0:
        futex_wait(ctl, W_GO, 0, 10_000_000)


@njit(cache=True)
def _go(ctl):  # type: ignore[no-untyped-def]
    ctl[W_GO] = 1
    futex_wake(ctl, W_GO, 16)


def _start(ctl_seg: Segment, n_ready: int) -> None:
    deadline = time.monotonic() + 60
    while ctl_seg.words[W_READY] < n_ready:
        if time.monotonic() > deadline:
            raise RuntimeError("benchmark processes did not get ready")
        time.sleep(0.001)
    time.sleep(0.02)
    _go(ctl_seg.words)


# ---- kernels ----------------------------------------------------------------------------------


@njit(cache=True)
def bench_consume(ctrl, slots, total, max_batch):  # type: ignore[no-untyped-def]
    """Drain ``total`` records in place, checking the sequence; returns the bad-record count."""
    mask = slots.shape[0] - 1
    expected = 0
    bad = 0
    while expected < total:
        avail = ring_readable(ctrl, slots, max_batch)
        if avail <= 0:
            cpu_relax()
            continue
        n = avail if avail < max_batch else max_batch
        tail = ring_tail(ctrl)
        for k in range(n):
            if slots[(tail + k) & mask, 0] != expected + k:
                bad += 1
        ring_release(ctrl, tail + n)
        expected += n
    return bad


@njit(cache=True)
def bench_produce(ctrl, slots, total, batch):  # type: ignore[no-untyped-def]
    """Fill a staging batch and push it with ``ring_push_batch`` (spin while full)."""
    src = np.zeros((batch, 8), np.int64)
    seq = 0
    while seq < total:
        n = batch if total - seq > batch else total - seq
        for k in range(n):
            s = seq + k
            src[k, 0] = s
            src[k, 1] = s & 1023
            src[k, 2] = (s & 63) | (1 << 32) | (1 << 40)
            src[k, 3] = 1000000 + (s & 255)
            src[k, 4] = 1 + (s & 7)
            src[k, 5] = 0
            src[k, 6] = 0
            src[k, 7] = 0
        done = 0
        while done < n:
            m = ring_push_batch(ctrl, slots, src, done, n - done)
            if m == 0:
                cpu_relax()
            done += m
        seq += n
    return seq


@njit(cache=True)
def pp_server(req_ctrl, req_slots, resp_ctrl, resp_slots, n):  # type: ignore[no-untyped-def]
    """Echo ``n`` requests: copy each request record into the response ring."""
    qmask = req_slots.shape[0] - 1
    rmask = resp_slots.shape[0] - 1
    for _ in range(n):
        while ring_readable(req_ctrl, req_slots, 1) < 1:
            cpu_relax()
        while ring_writable(resp_ctrl, resp_slots, 1) < 1:
            cpu_relax()
        tail = ring_tail(req_ctrl)
        head = ring_head(resp_ctrl)
        i = tail & qmask
        j = head & rmask
        for w in range(8):
            resp_slots[j, w] = req_slots[i, w]
        ring_release(req_ctrl, tail + 1)
        ring_publish(resp_ctrl, head + 1)
    return n


@njit(cache=True)
def pp_client(req_ctrl, req_slots, resp_ctrl, resp_slots, n, lat):  # type: ignore[no-untyped-def]
    """``n`` round trips of one record; ``lat[i]`` in rdtsc ticks. Returns the bad count."""
    rec = np.zeros((1, 8), np.int64)
    rmask = resp_slots.shape[0] - 1
    bad = 0
    for it in range(n):
        t0 = rdtsc()
        rec[0, 0] = it
        while ring_push_batch(req_ctrl, req_slots, rec, 0, 1) == 0:
            cpu_relax()
        while ring_readable(resp_ctrl, resp_slots, 1) < 1:
            cpu_relax()
        tail = ring_tail(resp_ctrl)
        if resp_slots[tail & rmask, 0] != it:
            bad += 1
        ring_release(resp_ctrl, tail + 1)
        lat[it] = rdtsc() - t0
    return bad


def warm() -> None:
    """Compile every kernel before forking (children inherit the compiled code)."""
    with Ring.create(16) as a, Ring.create(16) as b:
        bench_produce(a.ctrl, a.slots, 8, 4)
        bench_consume(a.ctrl, a.slots, 8, 4)
        bench_produce(a.ctrl, a.slots, 1, 1)  # one request waiting in a ...
        pp_server(a.ctrl, a.slots, b.ctrl, b.slots, 1)  # ... echoed into b ...
        pp_client(a.ctrl, a.slots, b.ctrl, b.slots, 1, np.zeros(1, np.int64))  # ... read back
    _rdtsc()
    ctl = np.zeros(64, np.int64)
    ctl[W_GO] = 1
    _ready_and_wait(ctl)
    _go(ctl)


# ---- throughput runs --------------------------------------------------------------------------


def _consumer_proc(ring_name: str, ctl_name: str, total: int, q) -> None:  # type: ignore[no-untyped-def]
    pin(1)
    ring = Ring.attach(ring_name)
    ctl = Segment.attach(ctl_name)
    _ready_and_wait(ctl.words)
    t0 = time.perf_counter_ns()
    bad = bench_consume(ring.ctrl, ring.slots, total, 256)
    q.put(("consumer", time.perf_counter_ns() - t0, int(bad)))


def _numba_producer_proc(ring_name: str, ctl_name: str, total: int, batch: int, q) -> None:  # type: ignore[no-untyped-def]
    pin(0)
    ring = Ring.attach(ring_name)
    ctl = Segment.attach(ctl_name)
    _ready_and_wait(ctl.words)
    t0 = time.perf_counter_ns()
    bench_produce(ring.ctrl, ring.slots, total, batch)
    q.put(("producer", time.perf_counter_ns() - t0, 0))


def _python_producer_proc(ring_name: str, ctl_name: str, total: int, batch: int, q) -> None:  # type: ignore[no-untyped-def]
    pin(0)
    ring = Ring.attach(ring_name)
    ctl = Segment.attach(ctl_name)
    p = ring.producer(idle=idle_busy_spin(), timeout=60)
    if batch == 1:
        push = p.push
        _ready_and_wait(ctl.words)
        t0 = time.perf_counter_ns()
        for s in range(total):
            push((s, s & 1023, s & 63, 1, 1, 2, 1000000 + (s & 255), 1 + (s & 7), 0, 0, 0))
    else:
        arr = np.zeros(batch, ORDER_DTYPE)
        ar = np.arange(batch, dtype=np.int64)
        arr["account"] = ar & 1023
        arr["instrument"] = ar & 63
        arr["kind"] = 1
        arr["side"] = 1
        arr["price"] = 1000000
        arr["amount"] = 1
        seqs = arr["seq"]
        push_batch = p.push_batch
        _ready_and_wait(ctl.words)
        t0 = time.perf_counter_ns()
        for base in range(0, total, batch):
            np.add(ar, base, out=seqs)
            push_batch(arr)
    q.put(("producer", time.perf_counter_ns() - t0, 0))


def run_throughput(kind: str, batch: int, total: int, c_exe: Path | None) -> tuple[float, float]:
    """One run: (consumer msgs/s, producer ns/msg)."""
    if kind == "python" and batch > 1:
        total -= total % batch
    with (
        Ring.create(CAPACITY) as ring,
        Segment.create(SEGMENT_KIND_CONTROL, 4096) as ctl,
    ):
        q = CTX.Queue()
        cons = CTX.Process(target=_consumer_proc, args=(ring.name, ctl.name, total, q))
        cons.start()
        cproc = None
        if kind == "c":
            cproc = subprocess.Popen(
                [str(c_exe), ring.name, ctl.name, str(total), str(batch)],
                stdout=subprocess.PIPE,
                text=True,
                preexec_fn=lambda: pin(0),
            )
        else:
            target = _numba_producer_proc if kind == "numba" else _python_producer_proc
            prod = CTX.Process(target=target, args=(ring.name, ctl.name, total, batch, q))
            prod.start()
        _start(ctl, 2)
        res = {}
        for _ in range(1 if cproc else 2):
            who, ns, bad = q.get(timeout=600)
            res[who] = (ns, bad)
        if cproc:
            out, _ = cproc.communicate(timeout=600)
            res["producer"] = (float(out) * 1e9, 0)
        else:
            prod.join(60)
        cons.join(60)
        ns, bad = res["consumer"]
        if bad:
            raise RuntimeError(f"{kind} batch {batch}: {bad} records out of sequence")
        return total / (ns / 1e9), res["producer"][0] / total


# ---- ping-pong --------------------------------------------------------------------------------


def _pp_server_proc(a: str, b: str, ctl_name: str, n: int) -> None:
    pin(1)
    ra, rb = Ring.attach(a), Ring.attach(b)
    ctl = Segment.attach(ctl_name)
    _ready_and_wait(ctl.words)
    pp_server(ra.ctrl, ra.slots, rb.ctrl, rb.slots, n)


def run_pingpong(python_client: bool, n: int, hz: float) -> np.ndarray:
    """Round-trip latencies in ns (the first 10% dropped as warm-up)."""
    with (
        Ring.create(1024) as req,
        Ring.create(1024) as resp,
        Segment.create(SEGMENT_KIND_CONTROL, 4096) as ctl,
    ):
        srv = CTX.Process(target=_pp_server_proc, args=(req.name, resp.name, ctl.name, n))
        srv.start()
        _start(ctl, 1)
        pin(0)
        try:
            if python_client:
                lat = np.zeros(n, np.int64)
                p, c = req.producer(idle=idle_busy_spin()), resp.consumer(idle=idle_busy_spin())
                push, try_pop, pc = p.push, c.try_pop, time.perf_counter_ns
                rec = (0, 17, 3, 1, 1, 2, 1000000, 5, 0, 0, 0)
                for it in range(n):
                    t0 = pc()
                    push(rec)
                    r = try_pop()
                    while r is None:
                        r = try_pop()
                    lat[it] = pc() - t0
                ns = lat.astype(np.float64)
            else:
                lat = np.zeros(n, np.int64)
                bad = pp_client(req.ctrl, req.slots, resp.ctrl, resp.slots, n, lat)
                if bad:
                    raise RuntimeError(f"ping-pong: {bad} wrong echoes")
                ns = lat * (1e9 / hz)
        finally:
            os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
        srv.join(60)
        return ns[n // 10 :]


# ---- baselines --------------------------------------------------------------------------------

_MSG = (0, 17, 3, 1, 1, 2, 1000000, 5, 0, 0, 0)


def _q_consumer(q, n: int, res) -> None:  # type: ignore[no-untyped-def]
    pin(1)
    q.get()
    t0 = time.perf_counter_ns()
    for _ in range(n - 1):
        q.get()
    res.put(time.perf_counter_ns() - t0)


def _q_producer(q, n: int) -> None:  # type: ignore[no-untyped-def]
    pin(0)
    for _ in range(n):
        q.put(_MSG)


def _p_consumer(conn, n: int, res) -> None:  # type: ignore[no-untyped-def]
    pin(1)
    conn.recv()
    t0 = time.perf_counter_ns()
    for _ in range(n - 1):
        conn.recv()
    res.put(time.perf_counter_ns() - t0)


def _p_producer(conn, n: int) -> None:  # type: ignore[no-untyped-def]
    pin(0)
    for _ in range(n):
        conn.send(_MSG)


def _p_echo(conn, n: int) -> None:  # type: ignore[no-untyped-def]
    pin(1)
    for _ in range(n):
        conn.send(conn.recv())


def run_queue(n: int, pipe: bool) -> float:
    res = CTX.Queue()
    if pipe:
        a, b = CTX.Pipe(duplex=False)
        c = CTX.Process(target=_p_consumer, args=(a, n, res))
        p = CTX.Process(target=_p_producer, args=(b, n))
    else:
        q = CTX.Queue()
        c = CTX.Process(target=_q_consumer, args=(q, n, res))
        p = CTX.Process(target=_q_producer, args=(q, n))
    c.start()
    p.start()
    ns = res.get(timeout=600)
    p.join()
    c.join()
    return (n - 1) / (ns / 1e9)


def run_pipe_pingpong(n: int) -> np.ndarray:
    a, b = CTX.Pipe()
    e = CTX.Process(target=_p_echo, args=(b, n))
    e.start()
    pin(0)
    lat = np.zeros(n, np.int64)
    try:
        for i in range(n):
            t = time.perf_counter_ns()
            a.send(_MSG)
            a.recv()
            lat[i] = time.perf_counter_ns() - t
    finally:
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    e.join()
    return lat[n // 10 :].astype(np.float64)


# ---- report -----------------------------------------------------------------------------------


def build_c() -> Path:
    exe = Path(tempfile.mkdtemp(prefix="opshm_bench_")) / "ring_producer"
    subprocess.run(["gcc", "-O2", "-I", get_include(), str(ROOT / "bench/c/ring_producer.c"),
                    "-o", str(exe)], check=True)  # fmt: skip
    return exe


def summarize(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply message counts")
    ap.add_argument("--only", choices=["throughput", "pingpong", "baselines"], nargs="*")
    args = ap.parse_args(argv)
    only = set(args.only or ["throughput", "pingpong", "baselines"])
    reps, sc = args.reps, args.scale

    for line in host_info():
        print(line)
    print(f"reps={reps} scale={sc}; producer on CPU 0, consumer on CPU 1; ring capacity {CAPACITY}")
    print("compiling/warming ...", flush=True)
    warm()
    c_exe = build_c()
    hz = tsc_hz()

    base_q = base_p = None
    if "baselines" in only:
        nq = max(int(200_000 * sc), 1000)
        qs = [run_queue(nq, pipe=False) for _ in range(reps)]
        ps = [run_queue(nq, pipe=True) for _ in range(reps)]
        base_q, base_p = statistics.median(qs), statistics.median(ps)

    rows = []
    if "throughput" in only:
        plan = [
            ("numba", 1, 5_000_000), ("numba", 16, 20_000_000), ("numba", 256, 40_000_000),
            ("c", 1, 5_000_000), ("c", 16, 20_000_000), ("c", 256, 40_000_000),
            ("python", 1, 1_000_000), ("python", 16, 4_000_000), ("python", 256, 20_000_000),
        ]  # fmt: skip
        for kind, batch, total in plan:
            total = max(int(total * sc), 1024)
            runs = [run_throughput(kind, batch, total, c_exe) for _ in range(reps)]
            rates = [r[0] for r in runs]
            prod_ns = statistics.median(r[1] for r in runs)
            rows.append((kind, batch, *summarize(rates), prod_ns))
            print(f"  {kind:>6} batch {batch:>3}: {statistics.median(rates) / 1e6:7.2f} M msg/s",
                  flush=True)  # fmt: skip

    print()
    if base_q:
        print("| baseline (11-int tuple, batch 1) | median msg/s | ns/msg | range (k msg/s) |")
        print("|---|---|---|---|")
        for label, vals in (
            ("multiprocessing.Queue put/get", qs),
            ("multiprocessing.Pipe send/recv", ps),
        ):
            med, lo, hi = summarize(vals)
            rng = f"{lo / 1e3:,.0f}-{hi / 1e3:,.0f}"
            print(f"| {label} | {med / 1e3:,.0f} k | {1e9 / med:,.0f} | {rng} |")
        print()
    if rows:
        print("| producer -> Numba consumer | batch | median M msg/s | ns/msg | range (M msg/s) "
              "| producer ns/msg | x Queue | x Pipe |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|")
        for kind, batch, med, lo, hi, prod_ns in rows:
            xq = f"{med / base_q:,.0f}x" if base_q else "-"
            xp = f"{med / base_p:,.0f}x" if base_p else "-"
            label = {"numba": "Numba", "c": "C (gcc -O2)", "python": "Python"}[kind]
            rng = f"{lo / 1e6:.2f}-{hi / 1e6:.2f}"
            print(f"| {label} | {batch} | {med / 1e6:.2f} | {1e9 / med:.1f} | {rng} "
                  f"| {prod_ns:.1f} | {xq} | {xp} |")  # fmt: skip
        print()

    if "pingpong" in only:
        print("| round trip (1 in flight) | p50 ns | p99 ns | p99.9 ns | p50 range | x Pipe p50 |")
        print("|---|---|---|---|---|---|")
        pipe_p50 = None
        if "baselines" in only:
            pr = [run_pipe_pingpong(max(int(50_000 * sc), 1000)) for _ in range(reps)]
            stats = [np.percentile(x, [50, 99, 99.9]) for x in pr]
            pipe_p50 = statistics.median(s[0] for s in stats)
        for label, py, n in (("Numba client <-> Numba server", False, 200_000),
                             ("Python client <-> Numba server", True, 100_000)):  # fmt: skip
            n = max(int(n * sc), 1000)
            stats = [np.percentile(run_pingpong(py, n, hz), [50, 99, 99.9]) for _ in range(reps)]
            p50s = [s[0] for s in stats]
            med = [statistics.median(s[i] for s in stats) for i in range(3)]
            ratio = f"{pipe_p50 / med[0]:,.0f}x faster" if pipe_p50 else "-"
            print(f"| {label} | {med[0]:,.0f} | {med[1]:,.0f} | {med[2]:,.0f} "
                  f"| {min(p50s):,.0f}-{max(p50s):,.0f} | {ratio} |")  # fmt: skip
        if pipe_p50 is not None:
            p99 = statistics.median(np.percentile(x, 99) for x in pr)
            p999 = statistics.median(np.percentile(x, 99.9) for x in pr)
            print(f"| multiprocessing.Pipe ping-pong (baseline) | {pipe_p50:,.0f} | "
                  f"{p99:,.0f} | {p999:,.0f} | - | 1x |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
