from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("multi_ext._cmath", ["src/multi_ext/_cmath.c"]),
        Extension("multi_ext.sub._cxxstr", ["src/multi_ext/sub/_cxxstr.cpp"], language="c++"),
    ]
)
