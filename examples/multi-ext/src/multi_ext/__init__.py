"""Several extension modules in one package: `_cmath` (C) and `sub._cxxstr` (C++)."""
from ._cmath import gcd
from .sub._cxxstr import upper_words

__all__ = ["gcd", "upper_words"]
