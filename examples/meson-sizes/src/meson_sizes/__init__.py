"""Sizes meson found at configure time, and a checksum computed by zlib (`_sizes`)."""
from ._sizes import adler32, sizes, zlib_version

__all__ = ["adler32", "sizes", "zlib_version"]
