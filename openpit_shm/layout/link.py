"""A client's ring addresses as kernels read them: the ``rings`` table and the link descriptor.

Both live in the client's (or worker's) own memory, never in a segment: they
hold addresses valid only in the process that built them, so they are not part
of the shared layout (no ``LAYOUT_VERSION``, no C header).

**The rings table** (``int64[n, RINGS_COLUMNS]``): one row per ring pair, read by a
shard worker (``kernels.agent``, one row per client slot) and by the sharded
client's batch door (``kernels.client.pump_batch``, one row per shard)::

     word  0 active  1 req ctrl  2 req slots  3 res ctrl  4 res slots

``active`` is 0 (no ring), ``SLOT_SERVED`` or ``SLOT_REFUSED`` (``kernels.agent``);
the addresses are those of each ring segment's control page (``RING_CTRL_WORDS``
words) and slots (``capacity`` 8-word records).

**The link descriptor** (``int64[LINK_WORDS]``, one per ``sharded.link.ShardLink``):
everything ``kernels.client.exchange`` needs for one request, so its call takes the
descriptor's address and a mode, not the record's words one by one. Python writes
the request into the descriptor's record with one ``ORDER_STRUCT.pack_into``
(``LINK_RECORD_OFFSET``), exactly the record the ring slot gets::

    byte  0       8       16      24      32      40      48      56      64
          +-------+-------+-------+-------+-------+-------+-------+-------+
        0 |  (0)  |reqctrl|reqslot|resctrl|resslot|  cap  |  out  |out rws|  a rings row, then
          +-------+-------+-------+-------+-------+-------+-------+-------+  the call's arrays
       64 | idle  |cancel |timeout|          (reserved, 0)                |
          +-------+-------+-------+---------------------------------------+
      128 |  seq  |account| word 2| price |amount | pnl   |  fee  |  ref  |  the record
          +-------+-------+-------+-------+-------+-------+-------+-------+  (ORDER_DTYPE)

* words 1..4: the link's row of a rings table (same ``RINGS_W_*`` indexes);
* ``cap``: both rings' capacity (a power of two);
* ``out``/``out rows``: the address and row count of the ``int64[rows, 8]`` array
  answers are copied to;
* ``idle``: the address of the link's idle strategy (``int64[4]``, ``kernels.ring``);
* ``cancel``: the address of the client's close flag (``int64[1]``, != 0: closing);
* ``timeout``: the bound, in ns, on the time a call waits without progress;
* the record: the request to send, its ``seq`` the link's own number (an answer
  is taken only if it carries it).
"""

from __future__ import annotations

from .records import RECORD_BYTES

__all__ = [
    "LINK_RECORD_OFFSET",
    "LINK_WORDS",
    "LINK_W_CANCEL",
    "LINK_W_CAPACITY",
    "LINK_W_IDLE",
    "LINK_W_OUT",
    "LINK_W_OUT_ROWS",
    "LINK_W_RECORD",
    "LINK_W_TIMEOUT_NS",
    "RINGS_COLUMNS",
    "RINGS_W_ACTIVE",
    "RINGS_W_REQ_CTRL",
    "RINGS_W_REQ_SLOTS",
    "RINGS_W_RES_CTRL",
    "RINGS_W_RES_SLOTS",
]

# ---- the rings table -------------------------------------------------------------------------
RINGS_W_ACTIVE = 0
RINGS_W_REQ_CTRL = 1
RINGS_W_REQ_SLOTS = 2
RINGS_W_RES_CTRL = 3
RINGS_W_RES_SLOTS = 4
RINGS_COLUMNS = 5

# ---- the link descriptor ---------------------------------------------------------------------
# (words 1..4 are ``RINGS_W_REQ_CTRL``..``RINGS_W_RES_SLOTS``)
LINK_W_CAPACITY = 5
LINK_W_OUT = 6
LINK_W_OUT_ROWS = 7
LINK_W_IDLE = 8
LINK_W_CANCEL = 9
LINK_W_TIMEOUT_NS = 10
LINK_W_RECORD = 16  #: the record's first word (its ``seq``); ``ORDER_W_*`` index from here
LINK_RECORD_OFFSET = LINK_W_RECORD * 8  #: byte offset of the record (``ORDER_STRUCT``)
LINK_WORDS = LINK_W_RECORD + RECORD_BYTES // 8

assert LINK_W_TIMEOUT_NS < LINK_W_RECORD
