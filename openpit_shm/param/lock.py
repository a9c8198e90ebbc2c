"""Lock: the (policy_group_id, price) entries a reservation carries onto later reports.

Public as ``openpit_shm.pretrade.Lock`` (openpit's ``openpit.pretrade.Lock``). It lives
with the value types because it is one: ``core``'s fill details hold one, and ``core``
sits under ``pretrade`` (``tests/integration/test_import_graph.py``).

Serialized forms group prices by policy group, default group (0) first, then
the other groups in order of first appearance: JSON
``[["1","3"],[5,"2.5","7.50"],[2,"4"]]``; MessagePack and CBOR encode the same
nested arrays (prices as decimal strings, group ids as unsigned integers).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from typing import Any

from .values import Price

__all__ = ["Lock", "check_policy_group_id"]

_GROUP_MAX = 65535


def check_policy_group_id(gid: object) -> int:
    """A policy group id (u16) as openpit checks it; a bool counts as an int."""
    if not isinstance(gid, int) or not 0 <= gid <= _GROUP_MAX:
        raise ValueError("policy_group_id must be an integer in range 0..=65535")
    return int(gid)


def _price(value: object) -> Any:
    return value if isinstance(value, Price) else Price(value)  # type: ignore[arg-type]


class Lock:
    """Ordered ``(policy_group_id, Price)`` entries; prices of one group keep insertion order."""

    __slots__ = ("_groups",)

    def __init__(self, entries: Lock | Iterable[tuple[int, Any]] | None = None) -> None:
        self._groups: dict[int, list[Any]] = {0: []}
        if entries is None:
            return
        if isinstance(entries, Lock):
            self.merge(entries)
            return
        try:
            pairs = [(gid, price) for gid, price in entries]
        except (TypeError, ValueError):
            raise TypeError(
                "entries must be an iterable of (policy_group_id, price) pairs"
            ) from None
        for gid, price in pairs:
            self.push(gid, price)

    def push(self, policy_group_id: int, price: Any) -> None:
        self._groups.setdefault(check_policy_group_id(policy_group_id), []).append(_price(price))

    def push_many(self, policy_group_id: int, prices: Iterable[Any]) -> None:
        gid = check_policy_group_id(policy_group_id)
        converted = [_price(p) for p in prices]
        self._groups.setdefault(gid, []).extend(converted)

    def extend(self, entries: Iterable[tuple[int, Any]]) -> None:
        for gid, p in entries:
            self.push(gid, p)

    def merge(self, other: Lock) -> None:
        for gid, prices in other._groups.items():
            self._groups.setdefault(gid, []).extend(prices)

    def __len__(self) -> int:
        return sum(len(v) for v in self._groups.values())

    def prices_of(self, policy_group_id: int) -> list[Any]:
        return list(self._groups.get(check_policy_group_id(policy_group_id), ()))

    def entries(self) -> list[tuple[int, Any]]:
        return [(gid, p) for gid, prices in self._groups.items() for p in prices]

    def _nested(self) -> list[list[Any]]:
        if not len(self):
            return []
        out: list[list[Any]] = [[str(p) for p in self._groups[0]]]
        for gid, prices in self._groups.items():
            if gid != 0 and prices:
                out.append([gid, *(str(p) for p in prices)])
        return out

    @classmethod
    def _from_nested(cls, data: object) -> Lock:
        lock = cls()
        if not isinstance(data, list):
            raise ValueError("lock payload must be an array")
        for i, group in enumerate(data):
            if not isinstance(group, list):
                raise ValueError("lock group must be an array")
            if i == 0:
                lock.push_many(0, [_price(p) for p in group])
            elif group:
                lock.push_many(check_policy_group_id(group[0]), [_price(p) for p in group[1:]])
        return lock

    def to_json(self) -> str:
        return json.dumps(self._nested(), separators=(",", ":"))

    @staticmethod
    def from_json(text: str) -> Lock:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"lock json decode failed: {exc}") from None
        try:
            return Lock._from_nested(data)
        except Exception as exc:
            raise ValueError(f"lock json decode failed: {exc}") from None

    def to_msgpack(self) -> bytes:
        return _encode(self._nested(), _MSGPACK)

    @staticmethod
    def from_msgpack(data: bytes) -> Lock:
        try:
            value, end = _decode_msgpack(bytes(data), 0)
            if end != len(data):
                raise ValueError("trailing bytes")
            return Lock._from_nested(value)
        except Exception as exc:
            raise ValueError(f"lock msgpack decode failed: {exc}") from None

    def to_cbor(self) -> bytes:
        return _encode(self._nested(), _CBOR)

    @staticmethod
    def from_cbor(data: bytes) -> Lock:
        try:
            value, end = _decode_cbor(bytes(data), 0)
            if end != len(data):
                raise ValueError("trailing bytes")
            return Lock._from_nested(value)
        except Exception as exc:
            raise ValueError(f"lock cbor decode failed: {exc}") from None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Lock):
            return False
        return self._nested() == other._nested()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = ", ".join(f"({gid}, {p})" for gid, p in self.entries())
        return f"Lock([{inner}])"


# ---- minimal encoders for the lock's shape: arrays of small uints and strings ---------------

_MSGPACK, _CBOR = 0, 1


def _encode(value: Any, fmt: int) -> bytes:
    out = bytearray()
    _put(out, value, fmt)
    return bytes(out)


def _put(out: bytearray, value: Any, fmt: int) -> None:
    if isinstance(value, list):
        _head(out, len(value), fmt, kind="array")
        for item in value:
            _put(out, item, fmt)
    elif isinstance(value, str):
        raw = value.encode()
        _head(out, len(raw), fmt, kind="str")
        out += raw
    else:
        _head(out, int(value), fmt, kind="uint")


def _head(out: bytearray, n: int, fmt: int, kind: str) -> None:
    if fmt == _CBOR:
        major = {"uint": 0, "str": 3, "array": 4}[kind] << 5
        if n < 24:
            out.append(major | n)
        elif n < 256:
            out += bytes([major | 24, n])
        elif n < 65536:
            out.append(major | 25)
            out += struct.pack(">H", n)
        else:
            out.append(major | 26)
            out += struct.pack(">I", n)
        return
    if kind == "uint":
        if n < 128:
            out.append(n)
        elif n < 256:
            out += bytes([0xCC, n])
        else:
            out.append(0xCD)
            out += struct.pack(">H", n)
    elif kind == "str":
        if n < 32:
            out.append(0xA0 | n)
        elif n < 256:
            out += bytes([0xD9, n])
        else:
            out.append(0xDA)
            out += struct.pack(">H", n)
    else:
        if n < 16:
            out.append(0x90 | n)
        else:
            out.append(0xDC)
            out += struct.pack(">H", n)


def _decode_msgpack(b: bytes, i: int) -> tuple[Any, int]:
    t = b[i]
    if t < 0x80:
        return t, i + 1
    if 0x90 <= t <= 0x9F or t == 0xDC:
        if t == 0xDC:
            n, i = struct.unpack_from(">H", b, i + 1)[0], i + 3
        else:
            n, i = t & 0x0F, i + 1
        items = []
        for _ in range(n):
            item, i = _decode_msgpack(b, i)
            items.append(item)
        return items, i
    if 0xA0 <= t <= 0xBF:
        n = t & 0x1F
        return b[i + 1 : i + 1 + n].decode(), i + 1 + n
    if t == 0xD9:
        n = b[i + 1]
        return b[i + 2 : i + 2 + n].decode(), i + 2 + n
    if t == 0xDA:
        n = struct.unpack_from(">H", b, i + 1)[0]
        return b[i + 3 : i + 3 + n].decode(), i + 3 + n
    if t == 0xCC:
        return b[i + 1], i + 2
    if t == 0xCD:
        return struct.unpack_from(">H", b, i + 1)[0], i + 3
    raise ValueError(f"unexpected msgpack byte 0x{t:02x}")


def _decode_cbor(b: bytes, i: int) -> tuple[Any, int]:
    t = b[i]
    major, info = t >> 5, t & 0x1F
    i += 1
    if info < 24:
        n = info
    elif info == 24:
        n, i = b[i], i + 1
    elif info == 25:
        n, i = struct.unpack_from(">H", b, i)[0], i + 2
    elif info == 26:
        n, i = struct.unpack_from(">I", b, i)[0], i + 4
    else:
        raise ValueError(f"unsupported cbor length 0x{t:02x}")
    if major == 0:
        return n, i
    if major == 3:
        return b[i : i + n].decode(), i + n
    if major == 4:
        items = []
        for _ in range(n):
            item, i = _decode_cbor(b, i)
            items.append(item)
        return items, i
    raise ValueError(f"unexpected cbor major type {major}")


Lock.__module__ = "openpit_shm.pretrade"
