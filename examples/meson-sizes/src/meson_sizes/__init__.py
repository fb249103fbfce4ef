"""Sizes meson found at configure time, and a checksum computed in C (`_sizes`)."""
from ._sizes import adler32, sizes

__all__ = ["adler32", "sizes"]
