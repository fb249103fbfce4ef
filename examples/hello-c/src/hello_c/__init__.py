"""A C extension: every function here is implemented in C (`_hello`)."""
from ._hello import fib, reverse, word_count

__all__ = ["fib", "reverse", "word_count"]
