"""The registry of builtins (``builtins.kinds``) is the one place that lists them.

Every part that needs the list (specs, the Book, the engine builder's hooks,
``configure()``, texts) reads the registry; a new row is picked up by all of
them without touching any of them. The fake builtin below takes the arena
slot (kind id) of order validation, so the real order-validation kernel
decides for it while every Python side (spec, policy object, configure,
texts, attach) is the fake's own.
"""

from __future__ import annotations

import datetime
import inspect
from typing import Any

import pytest

import openpit_shm as op
from openpit_shm.builtins import kinds, specs
from openpit_shm.builtins.base import BuiltinPolicy
from openpit_shm.builtins.book import Book
from openpit_shm.builtins.book_rows import BookRows
from openpit_shm.builtins.kind_table import BuiltinKind, BuiltinKinds, builder_hooks
from openpit_shm.builtins.texts import Description, Record
from openpit_shm.engine import configure as engine_configure
from openpit_shm.engine.builder import ReadyEngineBuilder
from openpit_shm.engine.configure import Configurator
from openpit_shm.layout.state import MAX_KINDS


def test_should_derive_every_builtin_list_from_the_registry() -> None:
    names = kinds.KINDS.names()
    assert names == ("order_validation", "rate_limit", "order_size_limit", "pnl_bounds_killswitch",
                     "spot_funds", "restricted_instruments")  # fmt: skip
    assert {row.name: row.policy_name for row in kinds.KINDS} == specs.POLICY_NAMES
    assert names == specs.KIND_NAMES
    for row in kinds.KINDS:
        assert issubclass(row.policy_class, BuiltinPolicy)
        # texts: each policy class words its own records (no central table to extend)
        assert row.policy_class.describe is not BuiltinPolicy.describe
        assert hasattr(ReadyEngineBuilder, row.hook)
        assert Book.kind_row(row.name) is row
        assert 0 <= row.kind_id < MAX_KINDS
        for method, fn in row.configure.items():
            assert getattr(Configurator, method) is fn
            assert fn.__qualname__ == f"Configurator.{method}"
        configurable = engine_configure._settings_type(row.name)
        assert (configurable is None) == (row.settings_type is None)
    assert sorted(m for row in kinds.KINDS for m in row.configure) == [
        "order_size_limit", "pnl_bounds_killswitch", "rate_limit", "restricted_instruments",
        "set_account_pnl", "spot_funds",
    ]  # fmt: skip


def test_should_keep_openpits_configure_signatures() -> None:
    sig = inspect.signature(Configurator.set_account_pnl)
    assert list(sig.parameters) == ["self", "name", "extra", "account", "settlement_asset", "pnl"]
    with pytest.raises(TypeError, match="missing 3 required keyword arguments"):
        Configurator.set_account_pnl(object.__new__(Configurator), "P")


def test_should_refuse_a_table_with_clashing_rows() -> None:
    row = kinds.KINDS.row("rate_limit")
    with pytest.raises(ValueError, match="share a kind id"):
        BuiltinKinds([row, _fake_row(kind_id=row.kind_id)])
    with pytest.raises(ValueError, match="outside the arena"):
        BuiltinKinds([_fake_row(kind_id=MAX_KINDS)])


# ---- a new row, picked up everywhere -----------------------------------------------------------


class FakeProbe(BuiltinPolicy):
    """A test-only builtin: a label it words its records with, retunable at runtime."""

    restored = False

    def __init__(self, spec: Any, index: int) -> None:
        super().__init__(spec, index)
        self.label = spec.config["label"]

    def restore(self, book: BookRows) -> None:
        self.restored = True

    def configure(self, book: BookRows, method: str, **settings: Any) -> None:
        if method != "fake_probe":
            super().configure(book, method, **settings)
        self.label = settings["label"]

    def describe(self, book: BookRows, rec: Record, subject: Any = None) -> Description:
        return (self.name, rec.code_name, f"probe {self.label}", "fake", rec.scope, 0)


def _parse_fake(*, label: Any) -> dict[str, Any]:
    if not isinstance(label, str):
        raise TypeError("label must be a str")
    return {"label": label}


def _configure_fake(self: Any, name: str, *, label: Any) -> None:
    self._apply(name, "fake_probe", "fake_probe", label=label)


def _fake_row(kind_id: int) -> BuiltinKind:
    return BuiltinKind(
        name="fake_probe",
        kind_id=kind_id,
        policy_name="FakeProbePolicy",
        policy_class=FakeProbe,
        parse_spec=_parse_fake,
        settings_type="fake_probe::FakeProbeSettings",
        configure={"fake_probe": _configure_fake},
    )


@pytest.fixture
def fake_kinds(monkeypatch: pytest.MonkeyPatch) -> BuiltinKinds:
    """The registry with the fake row in order validation's arena slot."""
    slot = kinds.KINDS.row("order_validation").kind_id
    table = kinds.KINDS.replaced(_fake_row(slot), drop=("order_validation",))
    monkeypatch.setattr(kinds, "KINDS", table)
    return table


def _zero_quantity_order() -> Any:
    p = op.param
    return op.Order(
        operation=op.OrderOperation(
            instrument=op.Instrument("AAPL", "USD"),
            side=p.Side.BUY,
            trade_amount=p.TradeAmount.quantity(p.Quantity("0")),
            account_id=p.AccountId.from_int(7),
            price=p.Price("10"),
        )
    )


def test_should_pick_up_a_new_row_in_specs_and_builder_hooks(fake_kinds: BuiltinKinds) -> None:
    spec = specs.make_spec("fake_probe", label="a", policy_group_id=3)
    assert (spec.kind, spec.name, spec.policy_group_id, spec.config) == (
        "fake_probe", "FakeProbePolicy", 3, {"label": "a"},
    )  # fmt: skip
    with pytest.raises(TypeError, match="label must be a str"):
        specs.make_spec("fake_probe", label=1)
    with pytest.raises(ValueError, match="unknown builtin policy kind 'order_validation'"):
        specs.make_spec("order_validation")  # (dropped from this table)

    calls: list[tuple[str, dict[str, Any]]] = []

    class Recorder(builder_hooks(fake_kinds)):  # type: ignore[misc]
        def _add_builtin(self, kind: str, **params: Any) -> None:
            calls.append((kind, params))

    Recorder()._add_builtin_fake_probe(label="b")
    assert calls == [("fake_probe", {"label": "b"})]
    assert not hasattr(Recorder, "_add_builtin_order_validation")


def test_should_run_a_new_row_through_engine_book_configure_and_texts(
    fake_kinds: BuiltinKinds,
) -> None:
    builder = op.Engine.builder().no_sync()
    pol = op.pretrade.policies
    limit = pol.RateLimitBrokerBarrier(pol.RateLimit(100, datetime.timedelta(hours=1)))
    builder = builder.builtin(pol.build_rate_limit().broker_barrier(limit))
    builder._add_builtin("fake_probe", label="first")  # the hook every generated method calls
    engine = builder.build()

    (reject,) = engine.start_pre_trade(_zero_quantity_order()).rejects
    assert (reject.policy, reject.code, reject.reason) == (
        "FakeProbePolicy", "InvalidFieldValue", "probe first",
    )  # fmt: skip

    configurator = engine.configure()
    retune = fake_kinds.row("fake_probe").configure["fake_probe"]  # (a Configurator method)
    retune(configurator, "FakeProbePolicy", label="2nd")
    (reject,) = engine.start_pre_trade(_zero_quantity_order()).rejects
    assert reject.reason == "probe 2nd"
    with pytest.raises(op.PolicyConfigureError) as mismatch:
        configurator.rate_limit("FakeProbePolicy")
    assert "fake_probe::FakeProbeSettings" in str(mismatch.value)

    book = engine._book
    attached = Book.from_description(
        book.description(), state=book.state.copy(), shared=book.shared.copy()
    )
    probe = attached.policies_by_kind()["fake_probe"]
    assert isinstance(probe, FakeProbe) and probe.restored
