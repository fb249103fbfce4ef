# A package whose extension modules fail in Pyodide 0.23.4 in each way
# `pyrewrite check` reports (tests/check_pyodide.rs), next to one that works.
from setuptools import Extension, setup

setup(
    name="pyrewrite-check-failures",
    version="0.1.0",
    packages=["broken"],
    package_dir={"": "src"},
    ext_modules=[
        Extension("broken.fine", ["src/broken/fine.c"]),
        Extension("broken.link_error", ["src/broken/link_error.c"]),
        Extension("broken.missing", ["src/broken/missing.c"]),
        Extension("broken.raises", ["src/broken/raises.c"]),
    ],
)
