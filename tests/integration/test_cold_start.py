"""Cold start: a cold cache is announced in one line; after ``openpit-shm warmup`` nothing compiles.

Each program runs in its own interpreter with ``NUMBA_CACHE_DIR`` pointing at
a directory of the test's own, so "cold" and "warm" are facts of that
directory, not of whatever the suite compiled before.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).parent / "openpit-shm"
NOTICE = "openpit_shm: compiling "

#: Builds engines (in process or sharded, with or without a custom policy) and uses every door.
PROGRAM = """
import sys

import numpy as np

import openpit_shm as op
from openpit_shm import param
from openpit_shm.layout.records import ORDER_DTYPE, ORDER_HAS_OPERATION
from openpit_shm.pretrade import policies as P

class Allow(op.pretrade.Policy):
    @property
    def name(self):
        return "Allow"

    def perform_pre_trade_check(self, ctx, order):
        return op.pretrade.PolicyPreTradeResult.accept()


def build(kind):
    b = op.Engine.builder()
    b = b.no_sync() if kind == "in-process" else b.account_sync().sharded(workers=2)
    b = b.builtin(P.build_order_validation()).builtin(P.build_order_size_limit().broker_barrier(
        P.OrderSizeBrokerBarrier(P.OrderSizeLimit(max_quantity=param.Quantity(100)))))
    if kind == "sharded-custom":
        b = b.pre_trade(Allow())
    return b.build()


def use(engine):
    instrument = op.Instrument("AAPL", "USD")
    account = param.AccountId.from_int(7)
    order = op.Order(operation=op.OrderOperation(
        instrument=instrument, account_id=account, side=param.Side.BUY,
        trade_amount=param.TradeAmount.quantity("10"), price=param.Price("185")))
    engine.execute_pre_trade(order).reservation.commit()
    engine.start_pre_trade(order).request.execute().reservation.rollback()
    engine.apply_execution_report(op.ExecutionReport(
        operation=op.ExecutionReportOperation(instrument=instrument, account_id=account,
                                              side=param.Side.BUY),
        financial_impact=op.FinancialImpact(pnl=param.Pnl("-1"), fee=param.Fee("0"))))
    records = np.zeros(2, dtype=ORDER_DTYPE)
    records["account"] = [1, 2]
    records["instrument"] = engine.register_instrument(instrument)
    records["side"] = 1
    records["flags"] = ORDER_HAS_OPERATION
    records["amount"] = 10**8
    records["ref"] = engine.record_format.order_ref  # this engine's records
    engine.execute_batch(records)


if __name__ == "__main__":
    mode, kinds = sys.argv[1], sys.argv[2:]
    for kind in kinds:
        engine = build(kind)
        if mode == "use":
            use(engine)
        getattr(engine, "close", lambda: None)()
    print("done")
"""


def _run(cache: Path, *argv: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    done = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=timeout, cwd=cache.parent
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _program(tmp_path: Path) -> Path:
    path = tmp_path / "engines.py"
    path.write_text(PROGRAM)
    return path


def _index_files(cache: Path) -> dict[str, int]:
    """Every Numba index file in ``cache`` with its modification time (ns)."""
    return {str(p.relative_to(cache)): p.stat().st_mtime_ns for p in cache.rglob("*.nbi")}


def _notices(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(NOTICE)]


def test_should_say_once_what_it_compiles_on_a_cold_cache_and_nothing_once_cached(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "cache"
    program = _program(tmp_path)
    # Two builds, no decision: the notice comes at the first build; the per-order kernel itself
    # is compiled only by a first decision (none here), so this stays quick.
    done = _run(cache, sys.executable, str(program), "build", "in-process", "in-process")
    (line,) = _notices(done.stderr)
    assert "start_at" in line and "about " in line and " s, once" in line
    assert f"cache {cache}" in line
    assert "openpit-shm warmup" in line
    compile_start_at = "from openpit_shm.kernels.entries import START_AT; START_AT.compile()"
    _run(cache, sys.executable, "-c", compile_start_at)
    done = _run(cache, sys.executable, str(program), "build", "in-process")
    assert done.stderr == ""


@pytest.mark.slow
def test_should_compile_nothing_in_a_new_process_after_warmup(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    program = _program(tmp_path)
    warm = _run(cache, str(SCRIPT), "warmup")
    assert str(cache) in warm.stdout.splitlines()[-1]
    before = _index_files(cache)
    assert before, "warmup cached nothing"
    done = _run(
        cache, sys.executable, str(program), "use", "in-process", "sharded", "sharded-custom"
    )
    assert _notices(done.stderr) == []
    # A compile (in this process or in any worker) would have written or rewritten an index.
    assert _index_files(cache) == before
