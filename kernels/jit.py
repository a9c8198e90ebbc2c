"""The kernels' ``njit``: Numba's, with two rules that keep cold compiles short.

Every kernel module decorates with this ``njit`` instead of ``numba.njit``
(same arguments). It differs in two ways, both about compile time; the
machine code is the same:

* ``inline='always'`` becomes LLVM's ``alwaysinline`` (Numba's
  ``forceinline=True``) instead of Numba's IR-level inlining. Numba inlines
  IR by deep-copying the callee and re-running its untyped passes at *every*
  call site (a third of a cold compile went there); LLVM inlines the callee's
  already compiled body, so each such function is typed and lowered once
  per signature. Every other kernel gets ``forceinline=False`` explicitly, so
  no kernel inherits ``alwaysinline`` from whichever caller compiled it first.
* A call from one kernel to another is typed with the *non-literal* types of
  its arguments (``int64``, not ``Literal[int](0)``). Numba otherwise
  compiles a separate specialization for every distinct constant a call site
  passes, and for a loop variable first seen as its literal start value
  (``n = 0`` in ``start_core`` compiled ``rl_check``, ``osl_check`` and
  ``pnl_check`` twice). LLVM still folds the constants once it inlines.

Python callers are unaffected (Numba's dispatcher never types Python
arguments as literals unless asked).
"""

from __future__ import annotations

import types as pytypes
from collections.abc import Callable
from typing import Any

from numba import njit as numba_njit
from numba.core import types

__all__ = ["njit"]


def _nonliteral_call_template(dispatcher: Any) -> Callable[..., Any]:
    """``dispatcher.get_call_template`` with literal argument types widened first."""
    resolve = type(dispatcher).get_call_template

    def get_call_template(self: Any, args: tuple[Any, ...], kws: dict[str, Any]) -> Any:
        args = tuple(types.unliteral(a) for a in args)
        kws = {k: types.unliteral(v) for k, v in kws.items()}
        return resolve(self, args, kws)

    return pytypes.MethodType(get_call_template, dispatcher)


def njit(*args: Any, inline: str = "never", **options: Any) -> Any:
    """``numba.njit`` for kernels: ``@njit(cache=True)``, ``@njit(cache=True, inline='always')``."""
    if inline not in ("never", "always"):
        raise ValueError(f"inline must be 'never' or 'always', not {inline!r}")
    options.setdefault("forceinline", inline == "always")

    def wrap(fn: Callable[..., Any]) -> Any:
        dispatcher = numba_njit(**options)(fn)
        dispatcher.get_call_template = _nonliteral_call_template(dispatcher)
        return dispatcher

    if not args:
        return wrap
    if len(args) == 1 and callable(args[0]):
        return wrap(args[0])
    raise TypeError("kernels.jit.njit takes no signatures: compile() the entry point instead")
