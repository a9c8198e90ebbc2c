"""``attach_market_data``: give an engine's kernels the quotes of a ``MarketDataService``.

A builtin that prices from market data (Spot Funds' market orders and FX) is
built with a service (openpit: ``build_spot_funds().market_data(service, ...)``);
the engine that registers it calls ``attach_market_data(engine, service)``
once built. From then on the service writes every registration, TTL change,
push and clear through to the engine's quote table (``table.QuoteTableMirror``;
what it held before is copied first), and kernels on every door read it with
``kernels.market_data.quote_for(view, ...)``:

* in-process ``Engine``: a private NumPy table, named in the Book's request
  view (object door) and passed to ``Book.process`` (batch door);
* ``ShardedEngine``: the quote segment the topology created
  (``sharded.topology``), written here and read by every worker.

Pushes take the service's clock, which is the engine builder's (``with_clock``),
so ``now`` on each door and ``pushed_ns`` in the table are the same clock.
"""

from __future__ import annotations

from typing import Any

from .table import QuoteTable, QuoteTableMirror, attach_mirror

__all__ = ["IN_PROCESS_QUOTE_SLOTS", "attach_market_data", "engine_quote_table"]

#: Slots of an in-process engine's quote table (3/4 hold keys).
IN_PROCESS_QUOTE_SLOTS = 4096


def engine_quote_table(engine: Any) -> QuoteTable:
    """The engine's quote table, made on first use (in-process) or mapped (sharded)."""
    topology = getattr(engine, "_topology", None)
    if topology is not None:  # sharded: the segment every worker maps
        table = getattr(topology, "quote_table", None)
        if table is None:
            words = topology.quote_words()
            table = QuoteTable(topology.quote_slots, topology.scale, buffer=words, fresh=False)
            topology.quote_table = table
        return table
    book = engine._book
    table = getattr(book, "quote_table", None)
    if table is None:
        table = QuoteTable(IN_PROCESS_QUOTE_SLOTS, book.scale)
        book.quote_table = table
        book.set_quote_table(table.words)
    return table


def attach_market_data(engine: Any, service: Any) -> QuoteTable:
    """Mirror ``service`` into ``engine``'s quote table (idempotent per pair)."""
    table = engine_quote_table(engine)
    holder = getattr(engine, "_topology", None) or engine._book
    current = getattr(holder, "quote_service", None)
    if current is service:
        return table
    if current is not None:
        # One table answers one service's reads: a second would mix their buckets.
        raise ValueError("this engine's quotes already come from another MarketDataService")
    attach_mirror(service, QuoteTableMirror(table))
    holder.quote_service = service
    return table
