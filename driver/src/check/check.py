# Runs inside Pyodide for `pyrewrite check` (driver/src/check/mod.rs), loaded
# by check.mjs before anything else. Installs wheels without micropip (which
# the Pyodide npm package does not ship) and imports modules, catching
# everything so one module's failure never hides another's result.
import importlib
import os
import sys
import sysconfig
import traceback
import zipfile


def _site_packages():
    return sysconfig.get_paths()["purelib"]


def _target_of(name):
    """Where a wheel member goes, relative to site-packages (None: not
    installed). Mirrors `member_target` in mod.rs: `X.data/purelib|platlib/`
    is stripped, other `.data` dirs (scripts, headers, data) are skipped."""
    parts = name.split("/")
    if parts[0].endswith(".data"):
        if len(parts) > 2 and parts[1] in ("purelib", "platlib"):
            parts = parts[2:]
        else:
            return None
    if not parts or parts[-1] == "" or any(p in ("", ".", "..") for p in parts):
        return None
    return "/".join(parts)


def install(wheel_path):
    """Unpacks the wheel at `wheel_path` (in Pyodide's file system) into
    site-packages, the way micropip 0.3.0 does (extract, then record the
    installer); returns the site-packages dir."""
    site = _site_packages()
    with zipfile.ZipFile(wheel_path) as z:
        dist_info = None
        for info in z.infolist():
            rel = _target_of(info.filename)
            if rel is None:
                continue
            top = rel.split("/")[0]
            if top.endswith(".dist-info"):
                dist_info = top
            dest = os.path.join(site, rel)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with z.open(info) as src, open(dest, "wb") as out:
                out.write(src.read())
        if dist_info:
            with open(os.path.join(site, dist_info, "INSTALLER"), "w") as f:
                f.write("pyrewrite-check\n")
    importlib.invalidate_caches()
    return site


def _failure(e):
    return {
        "ok": False,
        "error": "".join(traceback.format_exception_only(type(e), e)).strip(),
        "traceback": "".join(traceback.format_exception(type(e), e, e.__traceback__)),
    }


def import_module(name):
    """Imports `name`; {"ok", "file"} or {"ok": False, "error", "traceback"}."""
    try:
        module = importlib.import_module(name)
    except BaseException as e:  # noqa: BLE001 - SystemExit in an init counts too
        return _failure(e)
    return {"ok": True, "file": getattr(module, "__file__", None)}


def run_code(code):
    """Runs the user's snippet in a fresh namespace."""
    try:
        exec(compile(code, "<--code>", "exec"), {"__name__": "__main__"})
    except BaseException as e:  # noqa: BLE001
        return _failure(e)
    return {"ok": True}
