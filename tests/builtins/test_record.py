"""Record decoding (every door's result records) and the cached texts of the reject path."""

from __future__ import annotations

import numpy as np
import openpit
import pytest

import openpit_shm
from openpit_shm.builtins.numbers import fixed_text, fixed_to_decimal, fmt_decimal
from openpit_shm.builtins.record import D0, D4, Record
from openpit_shm.layout.records import RESULT_BLOCK_LATCHED, RESULT_DTYPE, RESULT_SCOPE_ACCOUNT

_FIELDS = ("seq", "reservation", "code", "policy", "reason", "status", "flags", "count", "index")


def _random_results(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.zeros(n, dtype=RESULT_DTYPE)
    for name in RESULT_DTYPE.names:
        info = np.iinfo(RESULT_DTYPE[name])
        out[name] = rng.integers(info.min, info.max, n, dtype=RESULT_DTYPE[name], endpoint=True)
    out["index"][0] = 255  # a head word with bit 63 set (a negative int64)
    out["d0"][1] = np.iinfo(np.int64).min
    return out


def _expected(r: np.void) -> tuple:
    return (*(int(r[f]) for f in _FIELDS), tuple(int(r[f"d{k}"]) for k in range(5)))


def test_should_decode_records_from_buffers_rows_voids_and_words_alike() -> None:
    out = _random_results(64, seed=7)
    words = out.view(np.int64).reshape(-1, 8)
    for i in range(out.shape[0]):
        want = _expected(out[i])
        u64_words = [int(w) & ((1 << 64) - 1) for w in words[i]]
        for rec in (
            Record.at(out, i), Record.at(words, i), Record.of(out[i]), Record.of(words[i]),
            Record.of(words[i].tolist()), Record.of(u64_words), Record.from_words(u64_words),
        ):  # fmt: skip
            got = (*(getattr(rec, f) for f in _FIELDS), rec.d)
            assert got == want
            assert rec[D0:D4 + 1] == want[-1]
            assert rec == Record(*want)


def test_should_derive_scope_and_flags_from_the_flag_byte() -> None:
    out = np.zeros(2, dtype=RESULT_DTYPE)
    out["flags"][1] = RESULT_SCOPE_ACCOUNT | RESULT_BLOCK_LATCHED
    out["code"][1] = 28
    order, account = Record.at(out, 0), Record.at(out, 1)
    assert (order.scope, order.latched, order.code_name) == ("order", False, "")
    assert (account.scope, account.latched, account.code_name) == (
        "account", True, "AccountBlocked",
    )  # fmt: skip
    assert "flags=3" in repr(account) and "d=(0, 0, 0, 0, 0)" in repr(account)


@pytest.mark.parametrize("scale", [0, 2, 8, 18])
def test_should_print_cached_fixed_texts_exactly_like_the_decimal_round_trip(scale: int) -> None:
    rng = np.random.default_rng(scale)
    raws = [0, 1, -1, 10**scale, -(10**scale) * 105 // 2, 2**63 - 1, -(2**63)]
    raws += [int(x) for x in rng.integers(-(2**62), 2**62, 200)]
    for raw in raws:
        for display in (None, 0, 1, 2, scale, scale + 3):
            want = fmt_decimal(fixed_to_decimal(raw, scale, display))
            assert fixed_text(raw, scale, display) == want
            assert fixed_text(raw, scale, display) == want  # the cached hit


def _size_engine(pkg: object, caps: dict) -> object:
    P = pkg.pretrade.policies
    limit = P.OrderSizeLimit(**caps)  # quantity caps key on AAPL, notional caps on USD
    barriers = [P.OrderSizeAssetBarrier(limit, "AAPL"), P.OrderSizeAssetBarrier(limit, "USD")]
    return pkg.Engine.builder().no_sync().builtin(
        P.build_order_size_limit().asset_barriers(*barriers)
        .broker_barrier(P.OrderSizeBrokerBarrier(P.OrderSizeLimit(max_notional="1000000")))
    ).build()


def _order(pkg: object, qty: str | None, vol: str | None, price: str | None) -> object:
    p = pkg.param
    amount = p.TradeAmount.quantity(p.Quantity(qty)) if qty else p.TradeAmount.volume(
        p.Volume(vol)
    )
    return pkg.Order(operation=pkg.OrderOperation(
        instrument=pkg.Instrument("AAPL", "USD"), side=p.Side.SELL, trade_amount=amount,
        account_id=p.AccountId.from_int(3), price=price,
    ))  # fmt: skip


@pytest.mark.parametrize(
    ("caps", "qty", "vol", "price"),
    [
        ({"max_quantity": "10.50"}, "10.5010", None, "2.5"),
        ({"max_quantity": "10"}, None, "400.000", "-3.0"),
        ({"max_notional": "99.9"}, "100", None, "1.00"),
        ({"max_notional": "5000.0"}, None, "5000.01", None),
        ({"max_quantity": "1", "max_notional": "1.0"}, "1.25", None, "7.10"),
        ({"max_quantity": "1", "max_notional": "1.0"}, None, "33.333", "3"),
        ({"max_quantity": "0.0"}, "0.001", None, None),
        ({"max_quantity": "10000000"}, None, "1000000.001", "1"),  # the broker cap
    ],
)
def test_should_print_order_size_rejects_with_the_orders_own_decimals(
    caps: dict, qty: str | None, vol: str | None, price: str | None
) -> None:
    ours = _size_engine(openpit_shm, caps).execute_pre_trade(_order(openpit_shm, qty, vol, price))
    theirs = _size_engine(openpit, caps).execute_pre_trade(_order(openpit, qty, vol, price))
    assert not theirs.ok
    assert [(r.policy, r.code, r.reason, r.details, r.scope) for r in ours.rejects] == [
        (r.policy, r.code, r.reason, r.details, r.scope) for r in theirs.rejects
    ]


def test_should_keep_memoized_size_texts_exact_across_scales_and_retunes() -> None:
    def run(pkg: object) -> list[str]:
        P, p = pkg.pretrade.policies, pkg.param
        engine = _size_engine(pkg, {"max_quantity": "985"})
        texts = []
        for step, qty in enumerate(["990", "990.0", "990", "990.00", "1000", "990.0"]):
            if step == 3:  # the same cap value, printed at another scale
                engine.configure().order_size_limit(
                    "OrderSizeLimitPolicy",
                    asset_barriers=[P.OrderSizeAssetBarrier(
                        P.OrderSizeLimit(max_quantity=p.Quantity("985.0")), "AAPL"
                    )],
                )  # fmt: skip
            result = engine.execute_pre_trade(_order(pkg, qty, None, "1"))
            texts += [r.details for r in result.rejects]
        return texts

    ours = run(openpit_shm)
    assert ours == run(openpit)
    assert ours[0] != ours[1] and ours[2] == ours[0] and ours[3].endswith("985.0")


def test_should_tell_apart_quantities_with_the_same_digits_in_memoized_texts() -> None:
    def run(pkg: object) -> list[str]:
        engine = _size_engine(pkg, {"max_quantity": "9"})
        return [
            engine.execute_pre_trade(_order(pkg, qty, None, "1")).rejects[0].details
            for qty in ("99", "9.9", "99", "99.0")
        ]

    ours = run(openpit_shm)
    assert ours == run(openpit) == [
        "requested 99, max allowed: 9", "requested 9.9, max allowed: 9",
        "requested 99, max allowed: 9", "requested 99.0, max allowed: 9",
    ]  # fmt: skip
