"""layout.cheader: the committed header is current, compiles, pins offsets and round-trips."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

import openpit_shm.layout.records as records
from openpit_shm.layout.cheader import generate, get_include, header_path
from openpit_shm.layout.ring import RING_OFF
from openpit_shm.layout.segment import HDR_OFF, LAYOUT_VERSION, SEGMENT_MAGIC
from openpit_shm.shm.ring import Ring


def test_should_ship_an_up_to_date_generated_header():
    assert header_path().parent == Path(get_include())
    assert header_path().read_text() == generate(), (
        "include/openpit_shm.h is stale: run python -m openpit_shm.layout.cheader"
    )


def _defines(text: str) -> dict[str, str]:
    return dict(re.findall(r"^#define (OPSHM_\w+) (.+?)(?:\s*/\*.*)?$", text, re.M))


def test_should_carry_every_record_constant_and_reject_code():
    d = _defines(generate())
    for name in dir(records):
        value = getattr(records, name)
        if re.match(r"^(MSG|SIDE|ORDER|REPORT|STATUS|RESULT|POLICY)_", name) and isinstance(
            value, int
        ):
            assert int(d[f"OPSHM_{name}"]) == value, name
    for code, number in records.CODE_NUMBER.items():
        snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", code).upper()
        assert int(d[f"OPSHM_CODE_{snake}"]) == number
    assert int(d["OPSHM_REJECT_CODE_COUNT"]) == len(records.REJECT_CODES)
    assert int(d["OPSHM_LAYOUT_VERSION"]) == LAYOUT_VERSION
    assert f"{SEGMENT_MAGIC:#018x}" in d["OPSHM_SEGMENT_MAGIC"]


_PROBE = r"""
#include <stdio.h>
#include "openpit_shm.h"
#define P(T, F) printf("%s.%s %zu\n", #T, #F, offsetof(T, F))
int main(void) {
    P(opshm_order, seq); P(opshm_order, account); P(opshm_order, instrument); P(opshm_order, kind);
    P(opshm_order, side); P(opshm_order, flags); P(opshm_order, price); P(opshm_order, amount);
    P(opshm_order, pnl); P(opshm_order, fee); P(opshm_order, ref);
    P(opshm_result, seq); P(opshm_result, reservation); P(opshm_result, code);
    P(opshm_result, policy); P(opshm_result, reason); P(opshm_result, status);
    P(opshm_result, flags); P(opshm_result, count); P(opshm_result, index); P(opshm_result, d0);
    P(opshm_result, d4);
    P(opshm_ring_ctrl, head); P(opshm_ring_ctrl, tail); P(opshm_ring_ctrl, consumer_sleeping);
    P(opshm_ring_ctrl, producer_sleeping); P(opshm_ring_ctrl, tail_cache);
    P(opshm_ring_ctrl, head_cache);
    P(opshm_segment_header, creator_pid); P(opshm_segment_header, shard_count);
    printf("reject.28 %s\n", opshm_reject_code_names[28]);
    return 0;
}
"""


def test_should_compile_with_warnings_as_errors_and_agree_on_every_offset(c_build):
    out = subprocess.run([c_build("probe", _PROBE)], capture_output=True, text=True, check=True)
    seen = dict(line.split() for line in out.stdout.splitlines())
    for name, (_, off) in records.ORDER_DTYPE.fields.items():
        assert int(seen[f"opshm_order.{name}"]) == off
    for name in ("seq", "reservation", "code", "policy", "reason", "status", "flags", "count",
                 "index", "d0", "d4"):  # fmt: skip
        assert int(seen[f"opshm_result.{name}"]) == records.RESULT_DTYPE.fields[name][1]
    for name in (
        "head",
        "tail",
        "consumer_sleeping",
        "producer_sleeping",
        "tail_cache",
        "head_cache",
    ):
        assert int(seen[f"opshm_ring_ctrl.{name}"]) == RING_OFF[name]
    assert int(seen["opshm_segment_header.creator_pid"]) == HDR_OFF["creator_pid"]
    assert seen["reject.28"] == records.REJECT_CODES[27] == "AccountBlocked"


def test_should_compile_as_strict_c11_and_as_cpp(c_build, tmp_path):
    c_build("strict", _PROBE, "-std=c11", "-D_GNU_SOURCE", "-pedantic")
    src = tmp_path / "probe.cpp"
    src.write_text(_PROBE)
    subprocess.run(["g++", "-fsyntax-only", "-Wall", "-Werror", "-I", get_include(), str(src)],
                   check=True)  # fmt: skip


def test_should_fail_to_compile_when_an_offset_drifts(tmp_path):
    # The _Static_asserts pin the layout: shift one field and gcc must refuse the header.
    text = generate().replace("int64_t price;", "int32_t price_lo; int64_t price;", 1)
    (tmp_path / "openpit_shm.h").write_text(text)
    src = tmp_path / "t.c"
    src.write_text('#include "openpit_shm.h"\nint main(void) { return 0; }\n')
    res = subprocess.run(["gcc", "-I", str(tmp_path), str(src), "-o", str(tmp_path / "t")],
                         capture_output=True, text=True)  # fmt: skip
    assert res.returncode != 0 and "opshm_order.price offset" in res.stderr


_POPPER = r"""
#include <stdio.h>
#include <stdlib.h>
#include "openpit_shm.h"
int main(int argc, char **argv) {
    (void)argc;
    opshm_ring r;
    int err = opshm_ring_attach(argv[1], atoll(argv[2]), -1, 0, &r);
    if (err != OPSHM_OK) { printf("ERR %d %s\n", err, opshm_strerror(err)); return 1; }
    opshm_order buf[8];
    int64_t total = 0;
    for (;;) {
        if (opshm_ring_wait_readable(&r, 1, OPSHM_IDLE_DEFAULT, 60000000000) < 1) break;
        int64_t n = opshm_ring_pop_batch(&r, buf, 8);
        for (int64_t k = 0; k < n; k++)
            printf("%lld %llu %d %lld\n", (long long)buf[k].seq, (unsigned long long)buf[k].account,
                   buf[k].side, (long long)buf[k].amount);
        total += n;
        if (buf[n - 1].seq < 0) break;
    }
    opshm_ring_detach(&r);
    return 0;
}
"""


def test_should_let_a_c_consumer_pop_what_python_pushed(c_build):
    exe = c_build("popper", _POPPER)
    with Ring.create(16) as r:
        recs = np.zeros(40, records.ORDER_DTYPE)
        recs["seq"] = np.arange(40)
        recs["seq"][-1] = -1  # end marker
        recs["account"] = 2**64 - 1 - np.arange(40, dtype=np.uint64)
        recs["side"] = 2
        recs["amount"] = np.arange(40) * 3
        proc = subprocess.Popen([exe, r.name, "16"], stdout=subprocess.PIPE, text=True)
        r.producer(timeout=60).push_batch(recs)  # (bounds for a loaded host, not a timing)
        out, _ = proc.communicate(timeout=30)
    lines = [list(map(int, ln.split())) for ln in out.splitlines()]
    assert lines == [[int(x["seq"]), int(x["account"]), 2, int(x["amount"])] for x in recs]


@pytest.mark.parametrize(("args", "code"), [(["32"], -7), (["0"], 0)])
def test_should_report_attach_errors_from_c(c_build, args, code):
    exe = c_build("popper", _POPPER)
    with Ring.create(16) as r:
        if code == 0:
            r.producer().push((-1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        res = subprocess.run([exe, r.name, *args], capture_output=True, text=True, timeout=30)
    if code:
        assert res.stdout.startswith(f"ERR {code} capacity mismatch")
    else:
        assert res.returncode == 0 and res.stdout.split()[0] == "-1"


# ---- strict C11 / C++ on its own, reason names, clean attach failures (issue 9, #21) ----------

_HEADER_FIRST = """#include "openpit_shm.h"
#include <stdio.h>
int main(void) {
    printf("%lld %s\\n", (long long)opshm_monotonic_ns(), opshm_reason_name(OPSHM_RSN_BAD_SIDE));
    return 0;
}
"""


@pytest.mark.parametrize(
    ("compiler", "std", "suffix", "extra"),
    [("gcc", "c11", "c", ["-pedantic"]), ("gcc", "c17", "c", ["-pedantic"]),
     ("g++", "c++17", "cpp", []), ("g++", "c++20", "cpp", [])],
)  # fmt: skip
def test_should_compile_on_its_own_under_strict_standards(tmp_path, compiler, std, suffix, extra):
    """No -D_GNU_SOURCE: the header sets the feature macros it needs when it comes first."""
    src = tmp_path / f"first.{suffix}"
    src.write_text(_HEADER_FIRST)
    exe = tmp_path / "first"
    res = subprocess.run(
        [compiler, f"-std={std}", "-Wall", "-Wextra", "-Werror", *extra, "-I", get_include(),
         str(src), "-o", str(exe)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    out = subprocess.run([exe], capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) > 0 and out[1] == "BAD_SIDE"


def test_should_say_what_to_define_when_a_system_header_comes_first_under_strict_c(tmp_path):
    src = tmp_path / "late.c"
    src.write_text('#include <stdio.h>\n#include "openpit_shm.h"\nint main(void) { return 0; }\n')
    res = subprocess.run(
        ["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-I", get_include(),
         str(src)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert res.returncode != 0
    assert "#define _GNU_SOURCE before the first #include, or pass -D_GNU_SOURCE" in res.stderr
    assert res.stderr.count("error:") == 1, "the #error is the only message"


_REASONS = r"""
#include <stdio.h>
#include "openpit_shm.h"
int main(void) {
    for (int r = 0; r < 256; r++) printf("%d %s|\n", r, opshm_reason_name(r));
    return 0;
}
"""


def test_should_name_every_reason_variant_and_missing_field(c_build):
    from openpit_shm.kernels import codes

    d = _defines(generate())
    named = {n: getattr(codes, n) for n in dir(codes) if n.startswith(("RSN_", "FIELD_"))}
    assert "RSN_WRONG_ENGINE" in named and "RSN_BAD_INSTRUMENT" in named
    for name, value in named.items():
        assert int(d[f"OPSHM_{name}"]) == value, name
    reasons = {v: n[4:] for n, v in named.items() if n.startswith("RSN_")}
    exe = c_build("reasons", _REASONS)
    out = subprocess.run([exe], capture_output=True, text=True, check=True).stdout
    got = {int(line.split(" ", 1)[0]): line.split(" ", 1)[1].rstrip("|") for line in
           out.splitlines()}  # fmt: skip
    assert got == {r: reasons.get(r, "") for r in range(256)}


_ATTACHER = r"""
#include <stdio.h>
#include <string.h>
#include "openpit_shm.h"
int main(int argc, char **argv) {
    (void)argc;
    opshm_ring r;
    memset(&r, 0xAB, sizeof r);  /* garbage, as an uninitialized local would hold */
    int err = opshm_ring_attach(argv[1], 0, -1, 0, &r);
    int zeroed = r.ctrl == NULL && r.slots == NULL && r.capacity == 0;
    printf("%d %d %d\n", err, zeroed, err == OPSHM_OK);
    opshm_ring_detach(&r);  /* a no-op after a failed attach */
    return 0;
}
"""


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


@pytest.mark.parametrize("case", ["live", "missing", "dead creator", "reused creator pid"])
def test_should_refuse_a_missing_or_stale_ring_cleanly_from_c(c_build, case):
    from openpit_shm.layout.segment import HDR_W

    exe = c_build("attacher", _ATTACHER)
    with Ring.create(16) as ring:
        words = ring.segment.words
        if case == "dead creator":
            words[HDR_W["creator_pid"]] = _dead_pid()
        elif case == "reused creator pid":  # our pid, another process's start time
            words[HDR_W["creator_start"]] += 1
        name = "/opshm.0000missing0000.ring" if case == "missing" else ring.name
        res = subprocess.run([exe, name], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr  # never a crash
    err, zeroed, ok = map(int, res.stdout.split())
    want = {"live": 0, "missing": -1, "dead creator": -10, "reused creator pid": -10}[case]
    assert err == want
    assert zeroed == (not ok)
