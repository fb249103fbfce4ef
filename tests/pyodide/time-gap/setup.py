# The known time_t gap (docs/e2e.md): emcc 3.1.6 has a 32-bit time_t, Pyodide
# 0.23.4 a 64-bit one, so a side module importing `time` cannot be loaded.
from setuptools import Extension, setup

setup(
    name="pyrewrite-time-gap",
    version="0.1.0",
    ext_modules=[Extension("time_gap", ["time_gap.c"])],
)
