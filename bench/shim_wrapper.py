#!/usr/bin/env python3
"""A PATH-shim compiler wrapper in the style of pyodide-build's pywasmcross:
installed as `gcc` in a directory put first on PATH, it starts a Python
interpreter per compiler call, rewrites argv (the same kind of work the rules
engine does) and execs emcc. bench/run.py measures it against libpyrewrite.so."""
import os
import sys

DROP_PREFIXES = ("-L/usr", "-I/usr/include", "-march=", "-mtune=", "-msse", "-mavx")
DROP_EXACT = {"-m64", "-pthread", "-fstack-clash-protection", "-mpopcnt"}


def rewrite(args):
    out = []
    for a in args:
        if a in DROP_EXACT or a.startswith(DROP_PREFIXES):
            continue
        out.append(a)
    if "-c" in out:
        out += ["-Werror=implicit-function-declaration", "-Werror=mismatched-parameter-types",
                "-Werror=return-type", "-fPIC"]
    return out


def main():
    emcc = os.environ["SHIM_EMCC"]
    os.execv(emcc, [emcc] + rewrite(sys.argv[1:]))


if __name__ == "__main__":
    main()
