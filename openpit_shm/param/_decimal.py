"""rust_decimal arithmetic on Python ints: the number model behind every param value type.

A decimal here is a pair ``(m, s)``: a signed integer mantissa ``m`` with
``|m| <= MAX`` (96 bits) and a scale ``s`` in ``0..=28``, meaning ``m / 10**s``.
Like rust_decimal, the scale is part of the value's identity (``1.50`` keeps
two places) but not of its numeric equality. rust_decimal also has a negative
zero; the few operations that can produce or pass one through say so in their
docstring and carry an explicit ``neg`` flag, because a Python int cannot.

Every function reproduces what openpit 0.10 (rust_decimal underneath) returns,
including its quirks: ``x * 0`` drops the scale, ``x + 0`` keeps the other
operand's scale, division strips only some trailing zeros, string parsing has
an exact and a rounding flavour, and floats convert through rust_decimal's
``from_f64``. The differential tests in ``tests/param`` hold this module to the
real package. Failures are reported as ``None`` (the caller knows which
``ParamError`` text applies); nothing here raises for bad numbers.
"""

from __future__ import annotations

import math
import struct

__all__ = [
    "MAX",
    "MAX_SCALE",
    "P10",
    "add",
    "cmp",
    "div",
    "f64_display",
    "from_f64",
    "from_py_decimal",
    "mul",
    "normalize",
    "parse_exact",
    "parse_rounding",
    "rem",
    "round_dp",
    "to_f64",
    "to_str",
]

MAX = (1 << 96) - 1
MAX_SCALE = 28
P10 = tuple(10**i for i in range(80))

_U32 = 1 << 32
_I128_MAX = (1 << 127) - 1

# Strategies of ``round_dp`` (openpit's RoundingStrategy values).
NEAREST_EVEN = "MidpointNearestEven"
AWAY_FROM_ZERO = "MidpointAwayFromZero"
UP = "Up"
DOWN = "Down"


# --------------------------------------------------------------------------- parsing


def _carry_out(data: int, scale: int) -> tuple[int, int]:
    """A rounding carry reached 2**96: drop one place (the dropped digit is a 6, so round up)."""
    return data // 10 + 1, scale - 1


def _scan(s: str, rounding: bool) -> tuple[int, int] | None:
    """rust_decimal's radix-10 byte parser: ``from_str`` when ``rounding``, else ``from_str_exact``.

    Grammar: optional sign as first byte, then digits, at most one point, and
    ``_`` separators once a digit was seen; at least one digit. The exact
    flavour rejects anything that does not fit 96 bits / 28 places. The
    rounding flavour stops at the first digit that does not fit, rounds on it
    (>= 5 rounds up) and ignores the rest of the string, as rust_decimal does.
    """
    n = len(s)
    if n == 0:
        return None
    i = 0
    neg = False
    c = s[0]
    if c == "-":
        neg = True
        i = 1
    elif c == "+":
        i = 1
    data = 0
    scale = 0
    point = False
    has = False
    while i < n:
        c = s[i]
        i += 1
        o = ord(c) - 48
        if 0 <= o <= 9:
            has = True
            new = data * 10 + o
            if new > MAX:
                if not (point and rounding):
                    return None
                if o >= 5:
                    data += 1
                    if data > MAX:
                        if scale == 0:
                            return None
                        data, scale = _carry_out(data, scale)
                break
            data = new
            if point:
                scale += 1
                if scale >= MAX_SCALE and i < n:
                    if not rounding:
                        return None
                    o = ord(s[i]) - 48
                    if 0 <= o <= 9:
                        if o >= 5:
                            data += 1
                            if data > MAX:
                                data, scale = _carry_out(data, scale)
                    elif s[i] != "_":
                        return None
                    break
        elif c == ".":
            if point:
                return None
            point = True
        elif c == "_":
            if not has:
                return None
        else:
            return None
    if not has:
        return None
    return (-data if neg else data), scale


def parse_exact(s: str) -> tuple[int, int] | None:
    """``Decimal::from_str_exact``: the grammar the value-type constructors accept."""
    if s.isascii() and len(s) <= 28:
        # Fast paths for the common shapes; anything unusual takes the full scanner.
        if s.isdigit():
            return int(s), 0
        a, dot, f = s.partition(".")
        if dot and f.isdigit() and a.isdigit():
            return int(a + f), len(f)
    return _scan(s, False)


def _parse_u32(text: str) -> int | None:
    """Rust's ``u32::from_str``: optional ``+``, ASCII digits, no overflow."""
    body = text[1:] if text[:1] == "+" else text
    if not body or not body.isascii() or not body.isdigit():
        return None
    v = int(body)
    return v if v < _U32 else None


def parse_rounding(s: str) -> tuple[int, int, bool] | None:
    """``Decimal::from_str`` as openpit's rounded constructors use it: ``(m, s, neg)``.

    The radix parser (rounding on overflow) runs first; if it fails, the text
    is read as scientific notation ``base e exp`` with rust_decimal's lossy
    rescale when a negative exponent pushes the scale past 28 (which is the one
    way this can return a negative zero).
    """
    r = _scan(s, True)
    if r is not None:
        return r[0], r[1], False
    cut = -1
    for i, c in enumerate(s):
        if c == "e" or c == "E":
            cut = i
            break
    if cut < 0:
        return None
    base = _scan(s[:cut], True)
    if base is None:
        return None
    m, sc = base
    exp_text = s[cut + 1 :]
    if exp_text[:1] == "-":
        e = _parse_u32(exp_text[1:])
        if e is None or e > MAX_SCALE:
            return None
        if sc + e > MAX_SCALE:
            new_scale = MAX_SCALE - e
            q = _rescale_down_away(abs(m), sc, new_scale)
            return (-q if m < 0 else q), MAX_SCALE, m < 0
        return m, sc + e, False
    e = _parse_u32(exp_text)
    if e is None:
        return None
    if e <= sc:
        return m, sc - e, False
    if e > MAX_SCALE:
        return None
    # rust_decimal multiplies by BIG_POWERS_10 (10**1 ..= 10**19) in at most two steps.
    rest = e
    while rest > 0:
        step = 19 if rest >= 19 else rest
        rest -= step
        r2 = mul(m, sc, P10[step], 0)
        if r2 is None:
            return None
        m, sc = r2[0], r2[1]
    m, sc = normalize(m, sc)
    return m, sc, False


def _rescale_down_away(mag: int, scale: int, new_scale: int) -> int:
    """``Decimal::rescale`` to a smaller scale: round half away from zero on the magnitude."""
    diff = scale - new_scale
    q = mag // P10[diff]
    if q == 0 and mag // P10[diff - 1] == 0:
        return 0
    if (mag // P10[diff - 1]) % 10 >= 5:
        q += 1
    return q


_DEC_SCALE_MSG = "Scale exceeds the maximum precision allowed: {} > 28"
_DEC_MAX_MSG = "Number exceeds maximum value that can be represented."
_DEC_MIN_MSG = "Number less than minimum value that can be represented."


def from_py_decimal(d: object) -> tuple[int, int] | str:
    """A finite ``decimal.Decimal`` as ``(m, s)``, or the suffix of openpit's range error.

    The returned string is ``""`` when the mantissa does not even fit an
    i128 (openpit then prints no reason) or rust_decimal's own reason text.
    Callers handle non-finite values first.
    """
    sign, digits, exp = d.as_tuple()  # type: ignore[attr-defined]
    if exp > 0:
        if len(digits) + exp > 39:
            mag = 0 if digits == (0,) else _I128_MAX + 1
        else:
            mag = int("".join(map(str, digits))) * P10[exp]
        scale = 0
    else:
        mag = int("".join(map(str, digits))) if len(digits) < 60 else _I128_MAX + 1
        scale = -exp
    if mag > _I128_MAX:
        return ""
    if scale > MAX_SCALE:
        return _DEC_SCALE_MSG.format(scale)
    if mag > MAX:
        return _DEC_MIN_MSG if sign else _DEC_MAX_MSG
    return (-mag if sign else mag), scale


# --------------------------------------------------------------------------- floats


def from_f64(x: float) -> tuple[int, int, bool] | None:
    """``Decimal::from_f64`` (with excess-bit removal): ``(m, s, neg)`` or None.

    This is rust_decimal's binary-to-decimal walk, step for step, including its
    per-digit rounding when the scale exceeds 28. -0.0 and underflowing
    negatives give a negative zero.
    """
    if x != x or x in (math.inf, -math.inf):
        return None
    raw = struct.unpack("<Q", struct.pack("<d", x))[0]
    negative = (raw >> 63) != 0
    biased = (raw >> 52) & 0x7FF
    mantissa = raw & 0xFFFFFFFFFFFFF
    if biased == 0 and mantissa == 0:
        return 0, 0, negative
    exp2 = biased - 1023
    bits = mantissa
    if biased == 0:
        exp2 += 1
    else:
        bits |= 1 << 52
    exp2 -= 52
    exp5 = -exp2
    exp10 = exp2
    while exp5 > 0:
        if bits & 1 == 0:
            exp10 += 1
            exp5 -= 1
            bits >>= 1
        else:
            exp5 -= 1
            t = bits * 5
            if t <= MAX:
                bits = t
            else:
                exp10 += 1
                bits >>= 1
    while exp5 < 0:
        if not (bits >> 95) & 1:
            exp10 -= 1
            exp5 += 1
            bits <<= 1
        elif exp10 * 2 > -exp5:
            return None
        else:
            exp5 += 1
            bits //= 5
    while exp10 > 0:
        t = bits * 10
        if t > MAX:
            return None
        bits = t
        exp10 -= 1
    while exp10 < -MAX_SCALE:
        bits, r = divmod(bits, 10)
        exp10 += 1
        if bits == 0:
            exp10 = 0
        elif r >= 5:
            bits += 1
    while exp10 < 0 and bits >> 52:
        bits, r = divmod(bits, 10)
        exp10 += 1
        if r >= 5:
            bits += 1
    while exp10 < 0:
        q, r = divmod(bits, 10)
        if r:
            break
        bits = q
        exp10 += 1
    return (-bits if negative else bits), -exp10, negative


def _f64_ratio_digits(x: float) -> tuple[int, int] | None:
    """The exact value of ``|x|`` as ``(N, E)`` with ``N * 10**E``, when it has <= 18 digits."""
    num, den = x.as_integer_ratio()
    if num < 0:
        num = -num
    if den == 1:
        n, e = num, 0
        while n and n % 10 == 0:
            n //= 10
            e += 1
    elif den <= 1 << 26:
        j = den.bit_length() - 1
        n, e = num * 5**j, -j
    else:
        return None  # more than 18 significant digits: no shortest-digit tie possible
    return (n, e) if n < 10**18 else None


def f64_display(x: float) -> str:
    """Rust's ``Display`` for f64: shortest round-trip digits, never an exponent.

    Python's ``repr`` finds the same shortest digits, except on an exact tie
    between two candidates where Rust takes the larger magnitude and Python the
    even digit; that case is detected from the float's exact binary value.
    """
    if x != x:
        return "NaN"
    if x == math.inf:
        return "inf"
    if x == -math.inf:
        return "-inf"
    r = repr(x)
    neg = r[0] == "-"
    if neg:
        r = r[1:]
    mant, _, e = r.partition("e")
    ip, _, fp = mant.partition(".")
    if fp == "0":
        fp = ""
    d = int(ip + fp)
    exp = (int(e) if e else 0) - len(fp)
    if d:
        while d % 10 == 0:
            d //= 10
            exp += 1
        exact = _f64_ratio_digits(x)
        if exact is not None:
            n, ne = exact
            nd = len(str(d))
            if len(str(n)) == nd + 1 and n % 10 == 5:
                d, exp = n // 10 + 1, ne + 1
                while d % 10 == 0:
                    d //= 10
                    exp += 1
    digits = str(d)
    if exp >= 0:
        body = digits + "0" * exp if d else "0"
    elif len(digits) > -exp:
        body = digits[:exp] + "." + digits[exp:]
    else:
        body = "0." + "0" * (-exp - len(digits)) + digits
    return "-" + body if neg else body


def _powi10(n: int) -> float:
    """LLVM's ``__powidf2(10.0, n)`` (what Rust's ``f64::powi`` compiles to)."""
    a = 10.0
    r = 1.0
    while True:
        if n & 1:
            r *= a
        n >>= 1
        if n == 0:
            return r
        a *= a


def _round_half_away(v: float) -> float:
    t = float(math.trunc(v))
    if abs(v - t) >= 0.5:
        t += math.copysign(1.0, v)
    return t


def to_f64(m: int, s: int, neg: bool = False) -> float:
    """rust_decimal's ``to_f64`` (what ``float(value)`` returns in openpit)."""
    if s == 0:
        return float(m)  # via i128: a negative zero comes out as 0.0
    mag = -m if m < 0 else m
    precision = P10[s]
    integral, frac = divmod(mag, precision)
    frac_f = float(frac) / float(precision)
    integral_f = float(integral)
    if frac_f == 0.0:
        return -integral_f if (m < 0 or neg) else integral_f
    value = integral_f + frac_f
    round_to = _powi10(s)
    rounded = _round_half_away(value * round_to) / round_to
    return -rounded if m < 0 else rounded


# --------------------------------------------------------------------------- formatting


def to_str(m: int, s: int, neg: bool = False) -> str:
    """rust_decimal's ``Display``: plain digits, the scale's places, ``-`` for negatives and -0."""
    if m < 0:
        digits = str(-m)
        sign = "-"
    else:
        digits = str(m)
        sign = "-" if neg else ""
    if s:
        if len(digits) <= s:
            digits = "0" * (s - len(digits) + 1) + digits
        digits = digits[:-s] + "." + digits[-s:]
    return sign + digits


def normalize(m: int, s: int) -> tuple[int, int]:
    """Strip trailing fractional zeros (``Decimal::normalize``)."""
    if m == 0:
        return 0, 0
    while s and m % 10 == 0:
        m //= 10
        s -= 1
    return m, s


def cmp(m1: int, s1: int, m2: int, s2: int) -> int:
    """-1, 0 or 1 comparing two decimals numerically (scale and zero sign ignored)."""
    if s1 != s2:
        if s1 < s2:
            m1 *= P10[s2 - s1]
        else:
            m2 *= P10[s1 - s2]
    return (m1 > m2) - (m1 < m2)


# --------------------------------------------------------------------------- arithmetic


def _fit(p: int, s: int) -> tuple[int, int] | None:
    """Round a non-negative exact result ``p / 10**s`` into 96 bits and scale <= 28.

    rust_decimal (``Buf24::rescale`` / ``reduce_scale``) drops the fewest
    digits that make the mantissa fit, rounds half to even on the exact value,
    and overflows when that would need a negative scale.
    """
    if p <= MAX and s <= MAX_SCALE:
        return p, s
    k = s - MAX_SCALE if s > MAX_SCALE else 0
    if p > MAX:
        est = ((p.bit_length() - 97) * 77 >> 8) + 1
        if est < 1:
            est = 1
        while p // P10[est] > MAX:
            est += 1
        if est > k:
            k = est
    if k > s:
        return None
    q, r = divmod(p, P10[k])
    half = 5 * P10[k - 1]
    if r > half or (r == half and q & 1):
        q += 1
    if q > MAX:
        if s - k == 0:
            return None
        q, r = divmod(q, 10)
        if r > 5 or (r == 5 and q & 1):
            q += 1
        k += 1
    return q, s - k


def add(m1: int, s1: int, neg1: bool, m2: int, s2: int, neg2: bool, subtract: bool):
    """``checked_add`` / ``checked_sub``: ``(m, s, neg)`` or None on overflow.

    A zero operand returns the other operand unchanged, scale and sign bit
    included (``0 - x`` flips a non-zero ``x``); that is how a negative zero
    survives additions.
    """
    if m1 == 0:
        if subtract and m2 != 0:
            return -m2, s2, False
        return m2, s2, neg2
    if m2 == 0:
        return m1, s1, neg1
    if s1 == s2:
        r = m1 - m2 if subtract else m1 + m2
        s = s1
    elif s1 < s2:
        s = s2
        r = m1 * P10[s2 - s1]
        r = r - m2 if subtract else r + m2
    else:
        s = s1
        r = m2 * P10[s1 - s2]
        r = m1 - r if subtract else m1 + r
    if -MAX <= r <= MAX:
        return r, s, False
    fitted = _fit(-r if r < 0 else r, s)
    if fitted is None:
        return None
    q, s = fitted
    return (-q if r < 0 else q), s, False


def mul(m1: int, s1: int, m2: int, s2: int) -> tuple[int, int, bool] | None:
    """``checked_mul``: ``(m, s, neg)``, the exact product rounded half-even into 96 bits, or None.

    ``x * 0`` is a scale-0 zero. A product that rounds away to zero keeps its
    sign (a negative zero) unless both mantissas fit 32 bits: rust_decimal's
    32x32-bit shortcut normalizes it, its general path does not.
    """
    if m1 == 0 or m2 == 0:
        return 0, 0, False
    neg = (m1 < 0) != (m2 < 0)
    a = -m1 if m1 < 0 else m1
    b = -m2 if m2 < 0 else m2
    s = s1 + s2
    p = a * b
    small = a < _U32 and b < _U32
    if small and s > MAX_SCALE + 19:
        # The 32x32-bit shortcut gives up and returns a scale-0 zero.
        return 0, 0, False
    fitted = _fit(p, s)
    if fitted is None:
        return None
    q, s = fitted
    if q == 0:
        return 0, s, neg and not small
    return (-q if neg else q), s, False


def _max_fit(q: int) -> int:
    """Largest x in 0..=9 with ``q * 10**x`` still within 96 bits."""
    x = 9
    while x and q * P10[x] > MAX:
        x -= 1
    return x


def _unscale(q: int, sc: int) -> tuple[int, int]:
    """rust_decimal's partial trailing-zero strip after an inexact division (8, 4, 2, 1 places)."""
    while q & 0xFFFFFFFF == 0 and sc >= 8 and q % 100000000 == 0:
        q //= 100000000
        sc -= 8
    if q & 0xF == 0 and sc >= 4 and q % 10000 == 0:
        q //= 10000
        sc -= 4
    if q & 0x3 == 0 and sc >= 2 and q % 100 == 0:
        q //= 100
        sc -= 2
    if q & 0x1 == 0 and sc >= 1 and q % 10 == 0:
        q //= 10
        sc -= 1
    return q, sc


def div(m1: int, s1: int, m2: int, s2: int) -> tuple[int, int] | None:
    """``checked_div`` for a non-zero divisor: rust_decimal's long division, or None on overflow.

    The quotient is extended nine digits at a time while it fits 96 bits (and
    the scale stays <= 28), rounded half-even on the remainder, then loses some
    trailing zeros (``_unscale``) only if a remainder ever appeared. That is
    why ``10 / 4`` is ``2.50`` and ``400 / 3`` carries 26 places.
    """
    if m1 == 0:
        return 0, 0
    neg = (m1 < 0) != (m2 < 0)
    d = -m2 if m2 < 0 else m2
    q, r = divmod(-m1 if m1 < 0 else m1, d)
    sc = s1 - s2
    inexact = False
    while True:
        if r == 0:
            if sc >= 0:
                break
            p = 9 if -sc > 9 else -sc
        else:
            inexact = True
            if sc == MAX_SCALE:
                p = 0
            else:
                # rust_decimal's find_scale: a quotient that can take nine more digits
                # always does (even at a negative scale); otherwise the fit must not
                # leave the scale negative, and past scale 19 the cap is 28.
                p = _max_fit(q)
                if sc > 19:
                    if p > MAX_SCALE - sc:
                        p = MAX_SCALE - sc
                elif p < 9 and p + sc < 0:
                    return None
            if p == 0:
                r2 = r * 2
                if r2 > d or (r2 == d and q & 1):
                    q += 1
                    if q > MAX:
                        sc -= 1
                        if sc < 0:
                            return None
                        q, rem10 = divmod(q, 10)
                        if rem10 >= 5:
                            q += 1
                break
        sc += p
        q *= P10[p]
        if q > MAX:
            return None
        q2, r = divmod(r * P10[p], d)
        q += q2
        if q > MAX:
            sc -= 1
            if sc < 0:
                return None
            q, rem10 = divmod(q, 10)
            if rem10 > 5 or (rem10 == 5 and (r != 0 or q & 1)):
                q += 1
            break
    if inexact:
        q, sc = _unscale(q, sc)
    return (-q if neg else q), sc


def rem(m1: int, s1: int, m2: int, s2: int) -> tuple[int, int]:
    """``checked_rem`` for a non-zero divisor: truncated remainder, sign of the dividend.

    Equal magnitudes give a scale-0 zero; a smaller dividend is returned as is.
    """
    if m1 == 0:
        return 0, 0
    a = -m1 if m1 < 0 else m1
    b = -m2 if m2 < 0 else m2
    if s1 == s2:
        s = s1
    elif s1 < s2:
        s = s2
        a *= P10[s2 - s1]
    else:
        s = s1
        b *= P10[s1 - s2]
    if a == b:
        return 0, 0
    if a < b:
        return m1, s1
    r = a % b
    return (-r if m1 < 0 else r), s


def round_dp(m: int, s: int, neg: bool, dp: int, strategy: str) -> tuple[int, int, bool]:
    """``round_dp_with_strategy``; openpit's Up/Down are toward +inf/-inf. Returns ``(m, s, neg)``.

    Values already within ``dp`` places come back untouched (scale and all);
    a zero keeps its sign bit.
    """
    if s <= dp:
        return m, s, neg
    if m == 0:
        return 0, dp, neg
    negative = m < 0
    mag = -m if negative else m
    diff = s - dp
    q, r = divmod(mag, P10[diff])
    if r:
        half = 5 * P10[diff - 1]
        if strategy == NEAREST_EVEN:
            if r > half or (r == half and q & 1):
                q += 1
        elif strategy == AWAY_FROM_ZERO:
            if r >= half:
                q += 1
        elif strategy == UP:
            if not negative:
                q += 1
        elif negative:
            q += 1
    return (-q if negative else q), dp, False
