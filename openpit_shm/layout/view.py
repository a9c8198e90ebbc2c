"""The request view: what a policy kernel reads about the request it decides, by name.

Every door produces the same 64-byte order record (``layout.records``). Before any
policy runs, the dispatcher (``kernels.dispatch.view_open``) copies the record into
the view's first 8 words and resolves what every policy would otherwise recompute
(word 2 unpacked, the instrument's assets, the clock, dry run). Policy kernels take
the view (an ``int64`` pointer) and read ``view[V_*]``: no positional arguments, so
a field a new builtin needs (``V_SIDE``, ``V_LOCK_PRICE``) is one more name here,
not one more argument through every door.

The object door owns one view per engine (``Book.view``, also holding the call's
addresses, so its kernel entry takes one argument); the batch door and the shard
workers keep one per ``process`` call and refill it per record. Words::

     0 seq        1 account     2 word 2       3 price       4 amount
     5 pnl | lock price         6 fee | slippage             7 ref (tag, scales or handle)
     ---- resolved by view_open ----------------------------------------------------------
     8 instrument 9 kind       10 side        11 flags      12 underlying (asset id, -1)
    13 settlement (asset id, -1)                14 now (ns)   15 dry (0/1)
    16 client slot              17 latch_before (first custom account reject, 255: none)
    18 run the block gate (0/1) 19 report scales (pnl | fee << 8, -1: shortest form)
     ---- the object door's call (Book) ---------------------------------------------------
    20 state address  21 shared address  22 out address  23 handle the call produced
     ---- holds proposed by main stages, applied together if the order is accepted --------
    24 lock price of the policy group (0: none)   25 legs proposed (V_LEG_MAX at most)
    26.. V_LEG_MAX legs of LEG_WORDS: kind, held word (arena offset), amount, basis
     ---- market data (set once per view by its owner, never by view_open) ----------------
    42 quote table address (0: the engine has none)   43 its slot count
       (``kernels.market_data.quote_for(view, ...)`` reads quotes through these)

Words 0..7 are the record itself (``ORDER_W_*`` indexes), so ``view[V_PRICE]`` is
the order's price whichever door wrote it.
"""

from __future__ import annotations

from .records import (
    ORDER_W_ACCOUNT,
    ORDER_W_AMOUNT,
    ORDER_W_FEE,
    ORDER_W_INSTR_KIND,
    ORDER_W_PNL,
    ORDER_W_PRICE,
    ORDER_W_REF,
    ORDER_W_SEQ,
)

V_SEQ = ORDER_W_SEQ
V_ACCOUNT = ORDER_W_ACCOUNT
V_WORD2 = ORDER_W_INSTR_KIND
V_PRICE = ORDER_W_PRICE
V_AMOUNT = ORDER_W_AMOUNT
V_PNL = ORDER_W_PNL  #: reports: pnl; orders: lock price; fills: remaining quantity
V_FEE = ORDER_W_FEE  #: reports and fills: fee; orders: slippage
V_REF = ORDER_W_REF
V_LOCK_PRICE_IN = ORDER_W_PNL  #: an order's caller-given lock price (ORDER_HAS_LOCK_PRICE)
V_SLIPPAGE = ORDER_W_FEE  #: an order's slippage (ORDER_HAS_SLIPPAGE)
V_FILL_PRICE = ORDER_W_PRICE  #: MSG_FILL
V_FILL_QTY = ORDER_W_AMOUNT  #: MSG_FILL
V_REMAINING = ORDER_W_PNL  #: MSG_FILL (FILL_HAS_REMAINING)
V_FEE_AMOUNT = ORDER_W_FEE  #: MSG_FILL (FILL_HAS_FEE); the fee asset is V_INSTRUMENT
V_HANDLE = ORDER_W_REF  #: MSG_EXECUTE / MSG_COMMIT / MSG_ROLLBACK / MSG_FILL

V_INSTRUMENT = 8
V_KIND = 9
V_SIDE = 10
V_FLAGS = 11
V_UNDERLYING = 12
V_SETTLEMENT = 13
V_NOW = 14
V_DRY = 15
V_CLIENT = 16
V_LATCH_BEFORE = 17
V_RUN_GATE = 18
V_SCALES = 19
V_STATE_ADDR = 20
V_SHARED_ADDR = 21
V_OUT_ADDR = 22
V_RESULT_HANDLE = 23
V_LOCK_PRICE = 24
V_N_LEGS = 25
V_LEGS = 26

# ---- one proposed hold leg (the same words in a reservation slot, ``layout.state``) ----
LEG_KIND = 0  #: the builtin kind that holds it (its ``finalize`` runs on commit/rollback)
LEG_AT = 1  #: arena word offset of the held counter (a row word; rows never move)
LEG_AMOUNT = 2  #: amount still held
LEG_BASIS = 3  #: what a fill consumes from it (HOLD_BASIS_*)
LEG_WORDS = 4
V_LEG_MAX = 4
V_QUOTES_ADDR = V_LEGS + V_LEG_MAX * LEG_WORDS  # 42
V_QUOTES_CAP = V_QUOTES_ADDR + 1
#: 1: no registered kind has a main stage (``process`` sets it once per call, so the main
#: stage costs nothing for engines without one); 0, the default of a fresh view: run it.
V_SKIP_MAIN = V_QUOTES_CAP + 1
VIEW_WORDS = V_SKIP_MAIN + 1  # 45

#: Fill reconciliation bases: a fill of q at price p consumes from a leg ...
HOLD_BASIS_QUANTITY = 0  #: ... q (an underlying held by a sell)
HOLD_BASIS_NOTIONAL = 1  #: ... q * lock price (a settlement held by a buy, at the lock price)

NO_LATCH = 255  #: V_LATCH_BEFORE when no custom policy produced an account-scope reject

__all__ = sorted(name for name in dir() if name.isupper())
