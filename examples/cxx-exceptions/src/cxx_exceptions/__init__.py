"""A C++ extension that uses exceptions (`_cxx`)."""
from ._cxx import char_at, checked_sum, parse_int, reserve

__all__ = ["char_at", "checked_sum", "parse_int", "reserve"]
