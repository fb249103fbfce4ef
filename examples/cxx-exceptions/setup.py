from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "cxx_exceptions._cxx",
            ["src/cxx_exceptions/_cxx.cpp"],
            language="c++",
            extra_compile_args=["-std=c++17"],
        )
    ]
)
