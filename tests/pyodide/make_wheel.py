"""Zips files into a minimal valid wheel, for tests that build a side module
by hand (without pip or pyrewrite) to check the headers and the loader alone.

    python3 make_wheel.py NAME VERSION PLATFORM_TAG OUTDIR FILE...

Writes OUTDIR/NAME-VERSION-cp311-cp311-PLATFORM_TAG.whl and prints its path.
"""

import base64
import hashlib
import os
import sys
import zipfile


def record_line(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arcname},sha256={digest},{len(data)}"


def main(name, version, plat, outdir, *files):
    tag = f"cp311-cp311-{plat}"
    dist_info = f"{name}-{version}.dist-info"
    entries = [(os.path.basename(f), open(f, "rb").read()) for f in files]
    entries.append((f"{dist_info}/METADATA",
                    f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()))
    entries.append((f"{dist_info}/WHEEL",
                    f"Wheel-Version: 1.0\nGenerator: pyrewrite-tests\nRoot-Is-Purelib: false\nTag: {tag}\n".encode()))
    record = [record_line(a, d) for a, d in entries] + [f"{dist_info}/RECORD,,"]
    entries.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode()))
    path = os.path.join(outdir, f"{name}-{version}-{tag}.whl")
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for arcname, data in entries:
            z.writestr(arcname, data)
    os.replace(tmp, path)
    print(path)


if __name__ == "__main__":
    if len(sys.argv) < 6:
        sys.exit(__doc__)
    main(*sys.argv[1:])
