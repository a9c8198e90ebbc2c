"""P&L texts of reports that arrive as records: the decimal scales ride in ``ref``.

openpit prints the accumulated P&L at the scale its Decimal arithmetic
leaves ("realized pnl -2101.00"); fixed-point records cannot tell that, so a
``MSG_REPORT`` record carries ``pnl_scale | fee_scale << 8`` in ``ref``.
Checked against openpit (the oracle) through the batch door of the
in-process engine, the object door, and a sharded engine (whose client fills
``ref`` itself).
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import openpit
import pytest

import openpit_shm
from openpit_shm.builtins.book import Book
from openpit_shm.builtins.specs import make_spec
from openpit_shm.builtins.texts import Record
from openpit_shm.layout.records import (
    MSG_REPORT,
    ORDER_DTYPE,
    ORDER_HAS_OPERATION,
    RECORD_REF_LOW_MASK,
    REPORT_HAS_FINANCIAL,
    REPORT_SCALE_MAX,
    REPORT_SCALE_SHIFT,
    RESULT_DTYPE,
    SIDE_BUY,
)
from openpit_shm.pretrade import policies as P
from tests.records import stamped
from tests.sharded.conftest import shm_entries

Report = tuple[int, str, str]  # (account, pnl, fee) as decimal strings


def _engine(mod: Any) -> Any:
    pol = mod.pretrade.policies
    bounds = pol.PnlBoundsBrokerBarrier("USD", mod.param.Pnl(-50), mod.param.Pnl(50))
    builtin = pol.build_pnl_bounds_killswitch().broker_barriers(bounds)
    return mod.Engine.builder().no_sync().builtin(builtin).build()


def _report(mod: Any, account: int, pnl: str, fee: str) -> Any:
    p = mod.param
    return mod.ExecutionReport(
        operation=mod.ExecutionReportOperation(
            instrument=mod.Instrument("AAPL", "USD"), side=p.Side.BUY,
            account_id=p.AccountId.from_int(account),
        ),
        financial_impact=mod.FinancialImpact(pnl=p.Pnl(pnl), fee=p.Fee(fee)),
    )  # fmt: skip


def _decimal(rng: random.Random, span: int) -> str:
    """A decimal string with 0..4 decimals, trailing zeros and zeros of every scale included."""
    if rng.random() < 0.2:
        return rng.choice(["0", "0.0", "0.00", "0.000", "-0.00"])
    digits = rng.randint(0, 4)
    whole = rng.randint(-span, span)
    if digits == 0:
        return str(whole)
    # mostly trailing zeros: the scale, not the value, decides how the text looks
    frac = "0" * digits if rng.random() < 0.7 else str(rng.randint(0, 10**digits - 1))
    frac = frac.rjust(digits, "0")
    sign = "-" if whole == 0 and rng.random() < 0.5 else ""
    return f"{sign}{whole}.{frac}"


def _stream(seed: int, n: int) -> list[Report]:
    rng = random.Random(seed)
    return [(rng.randint(1, 40), _decimal(rng, 80), _decimal(rng, 3)) for _ in range(n)]


def _scales(pnl: str, fee: str) -> int:
    p, f = openpit_shm.param.Pnl(pnl), openpit_shm.param.Fee(fee)
    return p._s | f._s << REPORT_SCALE_SHIFT


def _records(reports: list[Report], iid: int, refs: list[int]) -> np.ndarray:
    rec = np.zeros(len(reports), ORDER_DTYPE)
    for i, ((account, pnl, fee), ref) in enumerate(zip(reports, refs, strict=True)):
        rec[i]["seq"], rec[i]["account"], rec[i]["instrument"] = i, account, iid
        rec[i]["kind"], rec[i]["side"] = MSG_REPORT, SIDE_BUY
        rec[i]["flags"] = ORDER_HAS_OPERATION | REPORT_HAS_FINANCIAL
        rec[i]["pnl"] = openpit_shm.param.Pnl(pnl)._to_fixed(8)
        rec[i]["fee"] = openpit_shm.param.Fee(fee)._to_fixed(8)
        rec[i]["ref"] = ref
    return rec


def _oracle(reports: list[Report]) -> list[list[tuple[str, str]]]:
    engine = _engine(openpit)
    out = []
    for account, pnl, fee in reports:
        result = engine.apply_execution_report(_report(openpit, account, pnl, fee))
        out.append([(b.reason, b.details) for b in result.account_blocks])
    return out


def _texts(book: Any, results: np.ndarray) -> list[list[tuple[str, str]]]:
    out = []
    for row in results:
        rec = Record.of(row)
        out.append([book.describe(rec)[2:4]] if rec.count else [])
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_should_print_the_pnl_of_report_records_as_openpit_does(seed: int) -> None:
    reports = _stream(seed, 400)
    want = _oracle(reports)
    assert sum(1 for w in want if w) > 50, "the stream must trip the kill switch"
    engine = _engine(openpit_shm)
    iid = engine.register_instrument(openpit_shm.Instrument("AAPL", "USD"))
    records = _records(reports, iid, [_scales(pnl, fee) for _, pnl, fee in reports])
    got = _texts(engine._book, engine.execute_batch(stamped(records, engine)))
    for i, (w, g) in enumerate(zip(want, got, strict=True)):
        assert g == w, f"report {i} {reports[i]}"


def test_should_print_the_same_texts_through_the_object_door() -> None:
    reports = _stream(7, 300)
    engine = _engine(openpit_shm)
    got = []
    for account, pnl, fee in reports:
        result = engine.apply_execution_report(_report(openpit_shm, account, pnl, fee))
        got.append([(b.reason, b.details) for b in result.account_blocks])
    assert got == _oracle(reports)


def _book_text(ref: int, pnl: int, fee: int = 0) -> str:
    book = Book.create(
        [(0, make_spec("pnl_bounds_killswitch",
                       broker_barriers=[P.PnlBoundsBrokerBarrier("USD", -2000)]))],
        n_policies=1,
    )  # fmt: skip
    iid = book.instrument_id("AAPL", "USD")
    rec = _records([(1, "0", "0")], iid, [ref])
    rec["pnl"], rec["fee"] = pnl, fee
    results = np.zeros(4, RESULT_DTYPE)
    assert book.process(stamped(rec, book), results, 1_000) == (1, 1)
    return book.describe(Record.of(results[0]))[3]


def test_should_take_the_scales_from_ref_and_fall_back_to_the_shortest_form() -> None:
    s8 = 10**8
    text = "realized pnl {}, settlement asset USD".format
    assert _book_text(2, -2101 * s8) == text("-2101.00")
    assert _book_text(2 | 3 << REPORT_SCALE_SHIFT, -2101 * s8, s8 // 2) == text("-2101.500")
    assert _book_text(REPORT_SCALE_MAX, -2101 * s8) == text("-2101." + "0" * REPORT_SCALE_MAX)
    # 0 (not known) and anything that is not a pair of scales: the shortest exact form,
    # never the value widened to all of the engine's decimals. (The bits above the low 16
    # carry the engine's record tag, which ``stamped`` sets.)
    for ref in (0, RECORD_REF_LOW_MASK, REPORT_SCALE_MAX + 1, (REPORT_SCALE_MAX + 1) << 8):
        assert _book_text(ref, -2101 * s8 - s8 // 2) == text("-2101.5"), ref
        assert _book_text(ref, -2101 * s8) == text("-2101"), ref
    assert _book_text(1, -2101 * s8 - s8 // 4) == text("-2101.25")  # too small: raised


def test_should_print_openpits_pnl_texts_from_a_sharded_engine() -> None:
    before = shm_entries()
    reports = _stream(11, 200)
    want = _oracle(reports)
    bounds = P.PnlBoundsBrokerBarrier("USD", openpit_shm.param.Pnl(-50), openpit_shm.param.Pnl(50))
    engine = (
        openpit_shm.Engine.builder().account_sync().sharded(workers=2)
        .builtin(P.build_pnl_bounds_killswitch().broker_barriers(bounds))
        .build()
    )  # fmt: skip
    with engine:
        got = []
        for account, pnl, fee in reports:  # the client puts the scales in ``ref``
            result = engine.apply_execution_report(_report(openpit_shm, account, pnl, fee))
            got.append([(b.reason, b.details) for b in result.account_blocks])
        assert got == want
        # The batch door of the same engine, other accounts: records carrying scales.
        shifted = [(account + 100, pnl, fee) for account, pnl, fee in reports]
        iid = engine.register_instrument(openpit_shm.Instrument("AAPL", "USD"))
        records = _records(shifted, iid, [_scales(pnl, fee) for _, pnl, fee in shifted])
        assert _texts(engine._replica, engine.execute_batch(stamped(records, engine))) == want
    assert shm_entries() <= before
