"""Descriptor of the builtin policies' kernel state: one int64 arena + one int64 shared array.

The kernels keep every table of one engine (or one shard) in a single flat
``int64`` array, the **arena** (``Book.state``), so that in sharded mode it can
live in a shared-memory segment and a restarted worker re-attaches to it as
is. Nothing in the arena is a pointer: every reference is a word offset into
the arena itself. State that spans shards (the broker- and asset-wide fixed
rate windows, and whether anything is blocked anywhere) lives in a second
``int64`` array, **shared** (``Book.shared``), updated only with atomics.

All words are little-endian int64; amounts are fixed point at ``H_SCALE``.
Every constant below is a word index (multiply by 8 for bytes).

Arena
=====

::

    word 0                                                        H_SIZE (128)
    +------------------------------------------------------------+-----------------------------+
    | header: identity, bump allocator, table roots, block        | regions, bump-allocated:    |
    | counters, reservations root, per-policy configuration       | tables, rows, logs, ...     |
    +------------------------------------------------------------+-----------------------------+

Header (``H_*``)::

      0 magic            1 version          2 scale            3 10**scale
      4 top (bump ptr)   5 cap (words)      6 n_policies       7 n_builtins
      8..15 one word per kind (``H_KIND_ROOT + KIND``), its kernel module's own (zero until it
            writes it; e.g. the offset of the kind's own config block)
     16 accounts table   17 account+asset table   18 groups table
     19 asset rows base  20 asset capacity
     21 instrument rows  22 instrument capacity    23 instruments registered
     24 blocked accounts 25 blocked groups (this arena's; engine-wide: ``SH_*`` below)
     26 reserved (the engine-wide block lived here before version 3)
     28 reservations base 29 capacity  30 free-list head  31 next fresh slot  32 live
     33 sliding-log ring capacity cap (entries, power of two)
     34 words retired by table growth and not reused   35..36 scrap region [start, end):
        the latest retired table region, carved into rows and log blocks before bumping
     37 this arena's shard   38 shards (0: not sharded; else records whose account
        ``layout.shard.shard_of`` puts elsewhere are refused)
     40..47 free-list heads of sliding-log blocks, one per size class
     48..52 rate limit: #asset barriers, #account barriers, #account+asset barriers,
            account generation, account+asset generation
     56..62 order size: broker flags, broker max qty, broker max notional,
            broker cap scales, #asset barriers, #account+asset barriers, a+a generation
     64..66 P&L kill switch: #broker barriers, #account+asset barriers, a+a generation
     68 assets registered   69 asset-name directory (``AN_*``, H_ASSET_CAP entries)
     72..79 registration index per kind (``KIND`` of each kernel module; -1 = absent)
     80..87 kinds in registration order (n_builtins of them; MAX_KINDS = 8)
     88 redo entries pending (0: none)   89..126 the redo log: (arena word, new value) pairs
        of the hold transition being applied (``kernels.holds``; REDO_MAX pairs)

A **generation** tags account-keyed configuration: a row's barrier is live
only while its ``*_GEN`` word equals the header's generation, so replacing a
whole axis at runtime is "bump the generation, write the new rows" (O(new
barriers), no sweep over a million rows) and a zeroed row never carries a
barrier (generations start at 1).

Hash tables (``kernels.hashtable``): a 8-word header ``TB_*`` and a slot
region of ``cap`` slots of ``key_words + 1`` words ``[key0, (key1), row]``,
``row == 0`` meaning empty (row offsets are never 0). Rows are fixed-width
records allocated from the arena and never moved, so a table only maps keys
to row offsets; growth is incremental (see ``kernels.hashtable``).

Account row (``AC_*``, 24 words = 3 cache lines, one per account that has state,
64-byte aligned)::

     0 rate gen  1 rate max (u64 bits)  2 rate window ns (u64 bits)  3 rate log offset
     4..16 room for a summary-only sliding log (``LG_RING`` words), so the common
           large-``max_orders`` account barrier costs no separate block and no
           extra cache miss; ring logs are separate blocks (``LG_*``)
    17 block state (BLOCK_*) | group id << 8   18..23 latched cause (result head, d0..d4)

The words an order touches (barrier, log head, top counter) sit in the first
two cache lines of the row, which the batch door prefetches ahead.

Account+asset row (``AA_*``, 16 words, one per (account, asset) with state)::

     0 realized P&L accumulator   1 its decimal scale (for texts)
     2 P&L barrier gen  3 P&L flags (BOUND_*)  4 lower  5 upper  6 bound scales
     7 rate gen  8 rate max  9 rate window  10 rate log offset
    11 size gen  12 size flags (CAP_*)  13 max quantity  14 max notional  15 cap scales

Asset row (``A_*``, 8 words, indexed by the dense asset id)::

     0 size flags  1 max quantity  2 max notional  3 cap scales
     4 P&L broker flags  5 lower  6 upper  7 bound scales

Instrument row (``I_*``, 2 words, indexed by instrument id): underlying, settlement.

Asset-name directory entry (``AN_*``, 2 words, indexed by asset id): word offset
and byte length of the asset's UTF-8 name, bump-allocated in the arena. With
the instrument rows it makes the arena self-describing: a process attaching to
it (a restarted shard worker) rebuilds the asset and instrument registries
from the arena alone, and the policies' configuration from the rows and
header words above (``Book.attach``).

Group row (``G_*``, 2 words): blocked flag, reserved.

Sliding-window log (``LG_*``, rate-limit account and account+asset axes)::

     0 head | len << 32 (R = 0: the last push's count)   1 ring capacity R
     2 window the summary is bucketed by (slot width d = ceil(window / LOG_S))
     3 summary total   4 newest summarized ts   5 summary top slot   6 top slot start
     7..12 summary slot counters (LOG_SLOTS)    13.. ring of R timestamps

A barrier's ``*_RL_GEN`` word packs ``generation << 8 | log size class`` (the
class follows from ``max_orders``, see ``kernels.sliding_log``).

Reservation slot (``RS_*``, 20 words)::

     0 gen << 8 | client << 3 | state (RES_*)     1 account (next free slot + 1 while free)
     2 lock price of the policy group              3 legs held (RS_LEG_MAX at most)
     4.. RS_LEG_MAX legs of LEG_WORDS (``layout.view``): kind, held word, amount, basis
         (while RES_REQUEST*: the started order's record, 8 words, for the main stage)

``gen`` counts the slot's uses (its handles' generation, ``layout.handles``),
``client`` is the client slot that owns it. A slot whose accept took holds stays live
after commit (``RES_HELD``) until its final fill.

Every hold transition (take, release, reconcile, and retiring the slot) is first
written as absolute (word, new value) pairs to the arena's redo log (``H_REDO``),
then published (``H_REDO_N``), applied, and cleared. Applying a pair twice writes
the same value, so a worker that dies anywhere in between is made whole by
re-applying the log (``kernels.holds.holds_recover``, run by every entry before it
reads the arena): a hold is applied and released exactly once.

Shared array
============

::

      0 magic  1 version  2 asset capacity  3 writers (processes deciding over this array)
      4 the engine's record tag (``layout.records``: records with another tag are refused)
      8 blocks live anywhere   9 engine-wide block (ENGINE_BLOCK_*)   (a line of their own)
     16..31 broker fixed window (FW_*, a 128-byte line of its own)
     32 + 8*asset .. asset fixed windows (FW_*, one 64-byte line per asset)

The array must be 16-byte aligned (the Book checks): the window pairs are
swapped with 16-byte compare-and-swap.

Blocks (``SH_N_BLOCKED``, ``SH_ENGINE_BLOCK``): openpit rejects an order
without an account while *any* block exists anywhere in the engine, and a
report without an account blocks the whole engine. A shard's arena only
knows its own accounts, so the gate of every shard reads these two words:
``SH_N_BLOCKED`` counts live blocks over every arena (account and group
blocks, one per real transition in the arena that made it, plus 1 while the
engine-wide block is set), updated atomically by the block kernels, never
below 0; ``SH_ENGINE_BLOCK`` is the engine-wide block itself, set by
compare-and-swap (the first cause wins; setting or clearing it again is a
no-op, so a block broadcast to every shard counts once). With one Book (the
in-process engine) the words say exactly what the arena's counters say.

Fixed-window row (``FW_*``): ``0`` reserved, ``1 configured``, ``2 max`` (u64
bits), ``3 window ns`` (u64 bits), ``4 window start``, ``5 count``; not
started while ``count == 0`` (a zeroed row) or ``start == FW_NOT_STARTED``
(a reset row). ``start``/``count`` are one 16-byte aligned pair, updated
lock-free (``kernels.rate_limit.fw_push``: an atomic add inside a live
window, a 16-byte compare-and-swap to start, restart or reset it), so a
broker limit holds exactly across shards and no shard can block another.
With ``SH_WRITERS`` == 1 (an in-process engine, a one-worker sharded
engine) no other core can race a push, and the add inside a live window is
a plain one: a locked add is a quarter of C1's kernel time.

Changing any offset here changes compiled kernels: bump ``STATE_VERSION``
(``Book.attach`` refuses an arena of another version). Numba's on-disk cache
is keyed on each kernel's own source file, not on the constants it imports;
``kernels.cacheguard`` drops it on import whenever a layout or kernel module
changed.
"""

from __future__ import annotations

STATE_MAGIC = int.from_bytes(b"OPITSTAT", "little")
# 2: asset names in the arena (H_N_ASSETS, H_ANAME_BASE, AN_*); 3: cross-shard block words
# (SH_N_BLOCKED, SH_ENGINE_BLOCK; H_ENGINE_BLOCK retired); 4: lock-free fixed windows (no
# FW_LOCK or FW_STARTED: count 0 or start FW_NOT_STARTED = not started); 5: H_SHARD_ID and
# H_N_SHARDS; 6: SH_WRITERS; 7: reservation slots record their owning client (RS_OWNER_SHIFT)
# 8: 8 kinds (H_POLICY_INDEX, H_EXEC moved), 24-word reservation slots carrying holds,
# 3 state bits (RES_HELD); 9: Spot Funds' table roots in header words 8..11 and its rows
# (kernels.spot_funds, P&L state word of kernels.spot_pnl)
STATE_VERSION = 9
SHARED_MAGIC = int.from_bytes(b"OPITSHRD", "little")

# ---- policy kinds ------------------------------------------------------------------------------
# A builtin's kind id is the ``KIND`` constant of its kernel module (``kernels.dispatch``
# lists them; ``builtins.kinds`` names each once for the Python side).
MAX_KINDS = 8  #: kind ids are 0..MAX_KINDS-1 (the header's per-kind tables)

# ---- arena header --------------------------------------------------------------------------
H_MAGIC = 0
H_VERSION = 1
H_SCALE = 2
H_POW10 = 3
H_TOP = 4
H_CAP = 5
H_N_POLICIES = 6
H_N_BUILTINS = 7
H_KIND_ROOT = 8  # + kind (MAX_KINDS): one word each kind's kernel module owns
H_T_ACC = 16
H_T_AA = 17
H_T_GRP = 18
H_ASSET_BASE = 19
H_ASSET_CAP = 20
H_INSTR_BASE = 21
H_INSTR_CAP = 22
H_N_INSTR = 23
H_N_BLOCKED_ACC = 24
H_N_BLOCKED_GRP = 25
H_RES_BASE = 28
H_RES_CAP = 29
H_RES_FREE = 30
H_RES_FRESH = 31
H_RES_LIVE = 32
H_LOG_CAP = 33
H_RETIRED = 34
H_SCRAP = 35
H_SCRAP_END = 36
H_SHARD_ID = 37
H_N_SHARDS = 38
H_LOG_FREE = 40  # + size class (LOG_CLASSES of them)
H_RL_N_ASSET = 48
H_RL_N_ACC = 49
H_RL_N_AA = 50
H_RL_ACC_GEN = 51
H_RL_AA_GEN = 52
H_OSL_BROKER_FLAGS = 56
H_OSL_BROKER_QTY = 57
H_OSL_BROKER_NOTIONAL = 58
H_OSL_BROKER_SCALES = 59
H_OSL_N_ASSET = 60
H_OSL_N_AA = 61
H_OSL_AA_GEN = 62
H_PNL_N_BROKER = 64
H_PNL_N_AA = 65
H_PNL_AA_GEN = 66
H_N_ASSETS = 68
H_ANAME_BASE = 69
H_POLICY_INDEX = 72  # + kind (MAX_KINDS)
H_EXEC = 80  # + position (MAX_KINDS)
H_REDO_N = 88
H_REDO = 89  # + 2 * entry: (word, value)
REDO_MAX = 19
H_SIZE = 128

NO_POLICY = -1

# ---- engine-wide block state (SH_ENGINE_BLOCK) ---------------------------------------------------
ENGINE_BLOCK_NONE = 0
ENGINE_BLOCK_EXTERNAL = 1  #: set from Python (finalizer failure, ...): the engine holds the text
ENGINE_BLOCK_KILL_SWITCH = 2  #: a report without a readable account blocked everything

# ---- account block state (AC_BLOCK) --------------------------------------------------------------
BLOCK_NONE = 0
BLOCK_EXTERNAL = 1  #: recorded from Python; the engine keeps the cause object
BLOCK_KERNEL = 2  #: latched by a kernel; the cause is the 6 numeric words AC_CAUSE..

# ---- hash table header -------------------------------------------------------------------------
TB_KEYW = 0  # key words per slot (1 or 2)
TB_CAP = 1  # slots, a power of two
TB_COUNT = 2  # keys stored (in the current region, migrated ones included)
TB_SLOTS = 3  # offset of the current slot region
TB_OLD_CAP = 4  # slots of the region being migrated away from (0: not migrating)
TB_OLD_SLOTS = 5
TB_MIGRATE = 6  # next old slot to migrate
TB_ROWW = 7  # words per row
TB_SIZE = 8

# ---- account row ---------------------------------------------------------------------------
AC_RL_GEN = 0
AC_RL_MAX = 1
AC_RL_WINDOW = 2
AC_RL_LOG = 3
AC_RL_INLINE = 4  # a summary-only log lives here, next to its barrier (LG_RING words)
AC_BLOCK = 17  # block state (BLOCK_*, low 8 bits) | group id << GROUP_SHIFT
GROUP_SHIFT = 8
AC_CAUSE = 18  # 6 words: result head word, d0..d4
CAUSE_WORDS = 6
W_ACC = 24
ROW_ALIGN = 8  # rows of >= 8 words start on a 64-byte line (fewest lines per order)

# ---- account+asset row ---------------------------------------------------------------------
AA_PNL = 0
AA_PNL_SCALE = 1
AA_PNL_GEN = 2
AA_PNL_FLAGS = 3
AA_PNL_LOWER = 4
AA_PNL_UPPER = 5
AA_PNL_SCALES = 6
AA_RL_GEN = 7
AA_RL_MAX = 8
AA_RL_WINDOW = 9
AA_RL_LOG = 10
AA_OSL_GEN = 11
AA_OSL_FLAGS = 12
AA_OSL_QTY = 13
AA_OSL_NOTIONAL = 14
AA_OSL_SCALES = 15
W_AA = 16

# ---- asset row -----------------------------------------------------------------------------
A_OSL_FLAGS = 0
A_OSL_QTY = 1
A_OSL_NOTIONAL = 2
A_OSL_SCALES = 3
A_PNL_FLAGS = 4
A_PNL_LOWER = 5
A_PNL_UPPER = 6
A_PNL_SCALES = 7
W_ASSET = 8

# ---- instrument row ------------------------------------------------------------------------
I_UNDERLYING = 0
I_SETTLEMENT = 1
W_INSTR = 2

# ---- asset-name directory entry ------------------------------------------------------------
AN_OFFSET = 0  # word offset of the UTF-8 bytes
AN_BYTES = 1  # byte length
W_ANAME = 2

# ---- group row -----------------------------------------------------------------------------
G_BLOCKED = 0
W_GRP = 2

# ---- flags of caps and bounds ----------------------------------------------------------------
CAP_QTY = 1
CAP_NOTIONAL = 2
BOUND_LOWER = 1
BOUND_UPPER = 2
#: Decimal scales of two configured values packed in one word: ``first | second << 8``.
SCALE_SHIFT = 8

# ---- sliding-window log --------------------------------------------------------------------
LG_META = 0  # head (low 32 bits) | len << 32
LG_R = 1
LG_W = 2
LG_TOTAL = 3
LG_NEWEST = 4
LG_TOP = 5
LG_TOP_START = 6
LG_C0 = 7
LOG_S = 5  # the summary buckets the window into LOG_S slots of ceil(w / LOG_S) ns ...
LOG_SLOTS = LOG_S + 1  # ... and keeps LOG_S + 1 counters (a window spans at most that many)
LG_RING = LG_C0 + LOG_SLOTS
LOG_CLASSES = 8  # ring capacity classes: 0 (summary only), 1, 2, 4, ..., 64
LOG_CAP_MAX = 64
LOG_CAP_DEFAULT = 64
GEN_SHIFT = 8  # *_RL_GEN = generation << GEN_SHIFT | log size class

# ---- reservations --------------------------------------------------------------------------
RS_GEN_STATE = 0
RS_LINK = 1
RS_LOCK_PRICE = 2
RS_N_LEGS = 3
RS_LEGS = 4
RS_LEG_MAX = 4  #: = layout.view.V_LEG_MAX
W_RES = 20
RS_STATE_MASK = 7
RS_OWNER_SHIFT = 3  #: RS_GEN_STATE: the owning client slot, 5 bits above the 3 state bits
RS_GEN_SHIFT = 8  #: RS_GEN_STATE: the slot's generation above the owner
RES_FREE = 0
RES_REQUEST = 1  #: started (MSG_START): waiting for MSG_EXECUTE
RES_RESERVED = 2  #: accepted: waiting for MSG_COMMIT / MSG_ROLLBACK
#: started (MSG_START) by an order without an account: MSG_EXECUTE's gate re-check then
#: answers "account could not be verified" while any block exists (openpit)
RES_REQUEST_NO_ACCOUNT = 3
#: committed with holds still live: waiting for MSG_FILL (the final one retires it)
RES_HELD = 4
RES_CAP_DEFAULT = 1 << 10

# ---- shared array --------------------------------------------------------------------------
SH_MAGIC = 0
SH_VERSION = 1
SH_ASSET_CAP = 2
SH_WRITERS = 3
SH_RECORD_TAG = 4
SH_N_BLOCKED = 8
SH_ENGINE_BLOCK = 9
SH_BROKER = 16
SH_ASSETS = 32
W_SH_ASSET = 8
FW_ON = 1
FW_MAX = 2
FW_WINDOW = 3
FW_START = 4  # (FW_START, FW_COUNT): one 16-byte aligned pair
FW_COUNT = 5
FW_NOT_STARTED = -(1 << 63)  #: FW_START of a reset window (no clock reads this value)
SH_ALIGN_BYTES = 16

# ---- sizing defaults -----------------------------------------------------------------------
ASSET_CAP_DEFAULT = 256
INSTR_CAP_DEFAULT = 256
TABLE_CAP_DEFAULT = 1024
RESERVE_WORDS_DEFAULT = 1 << 22  # 32 MiB; the Book grows the arena (a copy) when it runs short


def shared_words(asset_cap: int) -> int:
    """Length of the shared array for ``asset_cap`` assets."""
    return SH_ASSETS + W_SH_ASSET * asset_cap


assert H_KIND_ROOT + MAX_KINDS <= H_T_ACC
assert H_EXEC + MAX_KINDS <= H_REDO_N and H_REDO + 2 * REDO_MAX <= H_SIZE
assert RS_LEGS + RS_LEG_MAX * 4 == W_RES

__all__ = sorted(name for name in dir() if name.isupper() or name == "shared_words")
