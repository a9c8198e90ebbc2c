"""The restricted-instrument list: build errors, decisions, ``configure()``, texts, restore.

The decisions of a seeded stream (with list changes mid-stream) are checked
against a model of the list and compared between the object door, the
kernels' batch door (``Book.process``, every reject) and ``execute_batch``
(first reject). Sharded and C doors: ``tests/sharded/test_restricted_instruments.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

import openpit_shm as op
from openpit_shm.builtins.book import Book
from openpit_shm.errors import ConfigureErrorKind, PolicyConfigureError
from openpit_shm.layout.records import CODE_NUMBER

from . import restricted_stream as RS

pol = op.pretrade.policies
I = op.Instrument  # noqa: E741
RESTRICTED = ("RestrictedInstrumentsPolicy", "InstrumentRestricted", "instrument restricted")


def _engine(*instruments: op.Instrument, group: int | None = None) -> op.Engine:
    b = pol.build_restricted_instruments()
    if group is not None:
        b = b.with_policy_group_id(group)
    return op.Engine.builder().no_sync().builtin(b.restrict(*instruments)).build()


def _texts(engine: op.Engine, inst: tuple[str, str] | None) -> RS.Texts:
    return RS.object_door(engine, (1, inst, "BUY", 10, 100))


# ---- build -----------------------------------------------------------------------------------


def test_should_build_with_chained_and_duplicate_instruments_and_a_group() -> None:
    b = pol.build_restricted_instruments().with_policy_group_id(3)
    ready = b.restrict(I("AAPL", "USD")).restrict(I("AAPL", "USD"), I("BTC", "USDT"))
    assert isinstance(ready, pol.RestrictedInstrumentsReadyBuilder)
    assert pol.RestrictedInstrumentsBuilder.NAME == "RestrictedInstrumentsPolicy"
    engine = op.Engine.builder().no_sync().builtin(ready).build()
    assert _texts(engine, ("AAPL", "USD")) == (
        (*RESTRICTED, "instrument AAPL/USD is restricted", "order"),
    )
    assert _texts(engine, ("BTC", "USDT"))[0][3] == "instrument BTC/USDT is restricted"
    assert _texts(engine, ("AAPL", "EUR")) == ()
    assert _texts(engine, ("USD", "AAPL")) == (), "the pair is ordered"


def test_should_build_an_empty_list_that_accepts_everything() -> None:
    engine = _engine()
    assert _texts(engine, ("AAPL", "USD")) == ()


@pytest.mark.parametrize(
    ("items", "error", "text"),
    [
        (["AAPL/USD"], TypeError, "'str' object is not an instance of 'Instrument'"),
        ([("AAPL", "USD")], TypeError, "'tuple' object is not an instance of 'Instrument'"),
        ([None], TypeError, "'None' is not an instance of 'Instrument'"),
        ([I("AAPL", "USD"), 7], TypeError, "'int' object is not an instance of 'Instrument'"),
    ],
)
def test_should_refuse_what_is_not_an_instrument_at_build(
    items: list, error: type, text: str
) -> None:
    ready = pol.build_restricted_instruments().restrict(*items)
    with pytest.raises(error) as exc:
        op.Engine.builder().no_sync().builtin(ready)
    assert str(exc.value) == text


@pytest.mark.parametrize(("group", "error"), [(-1, OverflowError), (1 << 16, OverflowError),
                                              ("1", TypeError)])  # fmt: skip
def test_should_check_the_policy_group_id_like_every_builtin(group: object, error: type) -> None:
    ready = pol.build_restricted_instruments().with_policy_group_id(group).restrict()  # type: ignore[arg-type]
    with pytest.raises(error):
        op.Engine.builder().no_sync().builtin(ready)


def test_should_not_register_the_entry_builder_before_restrict() -> None:
    with pytest.raises(AttributeError):
        op.Engine.builder().no_sync().builtin(pol.build_restricted_instruments())


# ---- decisions -------------------------------------------------------------------------------


def test_should_leave_an_order_without_an_operation_to_the_order_validation() -> None:
    engine = (
        op.Engine.builder().no_sync()
        .builtin(pol.build_restricted_instruments().restrict(I("AAPL", "USD")))
        .builtin(pol.build_order_validation()).build()
    )  # fmt: skip
    res = engine.execute_pre_trade(op.Order())
    assert [(r.policy, r.code) for r in res.rejects] == [
        ("OrderValidationPolicy", "MissingRequiredField")
    ]


def test_should_reject_without_blocking_the_account() -> None:
    engine = _engine(I("AAPL", "USD"))
    assert _texts(engine, ("AAPL", "USD"))[0][4] == "order"
    assert not engine._book.is_account_blocked(1)
    assert _texts(engine, ("MSFT", "USD")) == ()


def test_should_restrict_an_instrument_registered_before_or_after_the_list() -> None:
    engine = _engine(I("LATE", "USD"))
    early = engine.register_instrument(I("EARLY", "USD"))
    engine.configure().restricted_instruments(
        "RestrictedInstrumentsPolicy", restrict=[I("EARLY", "USD")]
    )
    late = engine.register_instrument(I("LATE", "USD"))
    got = engine.execute_batch(RS.records(engine, [(1, ("EARLY", "USD"), "BUY", 1, 1),
                                                   (1, ("LATE", "USD"), "BUY", 1, 1)]))  # fmt: skip
    assert (early, late) != (0, 0) and got["code"].tolist() == [CODE_NUMBER[RESTRICTED[1]]] * 2


@pytest.mark.parametrize("seed", range(4))
def test_should_decide_a_seeded_stream_alike_on_every_in_process_door(seed: int) -> None:
    reqs, changes = RS.stream(seed, 900)
    expected_lists = RS.model(changes, len(reqs))
    one, many, first = (RS.builder().build() for _ in range(3))
    restricted_seen = unrestricted_seen = 0
    for at, chunk, change in RS.chunks(reqs, changes):
        if change is not None:
            for e in (one, many, first):
                change.apply(e)
        objects = [RS.object_door(one, r) for r in chunk]
        assert RS.batch_door(many, chunk, at) == objects, f"chunk at {at}"
        got = first.execute_batch(RS.records(first, chunk, at))
        want_first = [CODE_NUMBER[t[0][1]] if t else 0 for t in objects]
        assert got["code"].tolist() == want_first
        for k, (req, texts) in enumerate(zip(chunk, objects, strict=True)):
            inst = req[1]
            hit = inst is not None and inst in expected_lists[at + k]
            mine = [t for t in texts if t[0] == RESTRICTED[0]]
            details = f"instrument {'/'.join(inst)} is restricted" if hit else ""
            want = [(*RESTRICTED, details, "order")] if hit else []
            assert mine == want, (at + k, req)
            restricted_seen += hit
            unrestricted_seen += inst is not None and not hit
    assert restricted_seen > 100 and unrestricted_seen > 100


# ---- configure() -----------------------------------------------------------------------------


def test_should_restrict_and_allow_at_runtime() -> None:
    engine = _engine(I("AAPL", "USD"))
    cfg = engine.configure()
    cfg.restricted_instruments("RestrictedInstrumentsPolicy", allow=[I("AAPL", "USD")])
    assert _texts(engine, ("AAPL", "USD")) == ()
    cfg.restricted_instruments("RestrictedInstrumentsPolicy", restrict=(I("MSFT", "USD"),),
                               allow=[I("NEVER", "SEEN")])  # fmt: skip
    assert _texts(engine, ("MSFT", "USD"))[0][3] == "instrument MSFT/USD is restricted"
    cfg.restricted_instruments("RestrictedInstrumentsPolicy")  # nothing to change
    assert _texts(engine, ("MSFT", "USD")) != () and _texts(engine, ("AAPL", "USD")) == ()
    policy = engine._book.policies_by_kind()["restricted_instruments"]
    assert policy.restricted == {("MSFT", "USD")}


def _cfg_error(engine: op.Engine, *args: object, **kwargs: object) -> BaseException:
    with pytest.raises(Exception) as exc:
        engine.configure().restricted_instruments(*args, **kwargs)
    return exc.value


def test_should_refuse_bad_runtime_arguments_and_change_nothing() -> None:
    engine = _engine(I("AAPL", "USD"))
    name = "RestrictedInstrumentsPolicy"
    err = _cfg_error(engine, name, restrict=[I("MSFT", "USD")], allow=[I("MSFT", "USD")])
    assert isinstance(err, PolicyConfigureError) and err.kind == ConfigureErrorKind.VALIDATION
    assert str(err) == (
        "policy RestrictedInstrumentsPolicy rejected the update: "
        "instrument MSFT/USD is both restricted and allowed"
    )
    err = _cfg_error(engine, name, restrict="AAPL/USD")
    assert type(err) is TypeError and str(err) == "Can't extract `str` to `Vec`"
    err = _cfg_error(engine, name, restrict=[I("MSFT", "USD"), "GOOG/USD"])
    assert type(err) is TypeError and "'str' object is not an instance of 'Instrument'" in str(err)
    err = _cfg_error(engine, name, allow=I("AAPL", "USD"))
    assert type(err) is TypeError and "is not an instance of 'Sequence'" in str(err)
    err = _cfg_error(engine, name, [I("MSFT", "USD")])
    assert type(err) is TypeError
    err = _cfg_error(engine, "NoSuchPolicy", restrict=[])
    assert isinstance(err, PolicyConfigureError) and err.kind == ConfigureErrorKind.UNKNOWN
    # nothing changed
    assert _texts(engine, ("AAPL", "USD")) != () and _texts(engine, ("MSFT", "USD")) == ()


def test_should_name_its_settings_type_when_another_builtin_is_configured_with_it() -> None:
    engine = (
        op.Engine.builder().no_sync()
        .builtin(pol.build_restricted_instruments().restrict())
        .builtin(pol.build_order_size_limit().asset_barriers()).build()
    )  # fmt: skip
    with pytest.raises(PolicyConfigureError) as exc:
        engine.configure().order_size_limit("RestrictedInstrumentsPolicy", asset_barriers=[])
    assert exc.value.kind == ConfigureErrorKind.TYPE_MISMATCH
    assert "RestrictedInstrumentsSettings" in str(exc.value)
    with pytest.raises(PolicyConfigureError) as exc:
        engine.configure().restricted_instruments("OrderSizeLimitPolicy", restrict=[])
    assert exc.value.kind == ConfigureErrorKind.TYPE_MISMATCH


# ---- the arena is authoritative --------------------------------------------------------------


def test_should_read_the_list_back_from_the_arena() -> None:
    engine = _engine(I("AAPL", "USD"), I("BTC", "USDT"))
    engine.configure().restricted_instruments(
        "RestrictedInstrumentsPolicy", restrict=[I("MSFT", "USD")], allow=[I("BTC", "USDT")]
    )
    book = engine._book
    again = Book.from_description(
        book.description(), state=np.array(book.state), shared=np.array(book.shared)
    )
    policy = again.policies_by_kind()["restricted_instruments"]
    assert policy.restricted == {("AAPL", "USD"), ("MSFT", "USD")}
    assert again.snapshot(0) == book.snapshot(0)
