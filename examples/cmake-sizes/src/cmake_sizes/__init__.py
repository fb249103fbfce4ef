"""Sizes CMake found at configure time, and a checksum computed in C (`_sizes`)."""
from ._sizes import crc32, sizes

__all__ = ["crc32", "sizes"]
