"""Sizes the shipped ./configure found, and a hash computed in C (`_sizes`)."""
from ._sizes import fnv1a32, sizes

__all__ = ["fnv1a32", "sizes"]
