"""A C++ extension that uses exceptions (`_cxx`)."""
from ._cxx import checked_sum, parse_int

__all__ = ["checked_sum", "parse_int"]
