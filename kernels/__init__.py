"""Numba kernels: arrays in, integer codes out.

Importing the package first checks that Numba's on-disk cache was built from
the current layout and kernel sources, and drops it otherwise
(``kernels.cacheguard``): kernels compile layout constants in as literals.
"""

from . import cacheguard as _cacheguard

_cacheguard.check()
