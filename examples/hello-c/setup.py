from setuptools import Extension, setup

setup(ext_modules=[Extension("hello_c._hello", ["src/hello_c/_hello.c"])])
