"""setuptools build that runs the package's own ./configure first.

`build_ext` runs the shipped `configure` (generated from configure.ac by
autoconf, committed) in the build directory; it writes config.h there, which
the extension includes. configure finds the C compiler as it always does
(`$CC`, else `gcc`/`cc` on PATH) and compiles and runs its test programs.
"""
import os
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))


class configure_then_build_ext(build_ext):
    def run(self):
        build_dir = os.path.abspath(os.path.join(self.build_temp, "configure"))
        os.makedirs(build_dir, exist_ok=True)
        # `sh configure`: works even where the execute bit was lost (sdists).
        subprocess.run(["sh", os.path.join(HERE, "configure")], cwd=build_dir, check=True)
        for ext in self.extensions:
            ext.include_dirs.insert(0, build_dir)
        super().run()


setup(
    ext_modules=[Extension("autoconf_sizes._sizes", ["src/autoconf_sizes/_sizes.c"])],
    cmdclass={"build_ext": configure_then_build_ext},
)
