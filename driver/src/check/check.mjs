// `pyrewrite check`: loads wheels into a real Pyodide under node, offline,
// and imports their extension modules. Written by the driver
// (driver/src/check/mod.rs) into a private temporary directory and run as
//
//   node check.mjs PLAN.json
//
// PLAN: {"pyodide": DIST_DIR, "helper": PYTHON_SOURCE, "code": PY|null,
//        "wheels": [{"id": N, "file": PATH, "name": FILE_NAME,
//                    "libraries": [{"path": SITE_PACKAGES_RELATIVE,
//                                   "module": DOTTED_NAME|null,
//                                   "symbols": [{"name", "kind"}]}]}]}
//
// stdout: one JSON object per line, as each result is known (so the driver
// knows how far it got if something hangs):
//   {"kind": "begin", "step": "..."}
//   {"kind": "runtime", "pyodide": VERSION, "python": VERSION}
//   {"kind": "install", "wheel": ID, "ok": true} | {..., "ok": false, "error"}
//   {"kind": "load", "wheel", "path", "ok", "error"?}
//   {"kind": "missing", "wheel", "path", "symbols": [{"name", "kind"}]}
//   {"kind": "import", "wheel", "module", "ok", "file"?, "error"?, "traceback"?}
//   {"kind": "code", "ok", "error"?, "traceback"?}
//   {"kind": "fatal", "stage", "error"}      (the runtime is unusable; stop)
//   {"kind": "done"}
// Python's and Pyodide's own output goes to stderr.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const emit = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const message = (e) => (e && e.message ? String(e.message) : String(e));
// "LinkError: WebAssembly.instantiate(): Import #1 ..." (the class says what broke).
const describe = (e) =>
  e && e.name && e.name !== "Error" && e.message ? `${e.name}: ${e.message}` : message(e);

// What is being done, for a failure that escapes every try (Pyodide's fatal
// errors are rethrown outside the call that caused them, e.g. a call into a
// missing symbol).
let stage = "start";
const fatal = (e) => {
  emit({ kind: "fatal", stage, error: describe(e) });
  process.exit(1);
};
process.on("uncaughtException", fatal);
process.on("unhandledRejection", fatal);

async function main() {
  const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));
  stage = "load pyodide";
  emit({ kind: "begin", step: stage });
  let pyodide;
  let helper;
  try {
    // Imported from the distribution itself: nothing is needed next to this script.
    const { loadPyodide } = await import(pathToFileURL(join(plan.pyodide, "pyodide.mjs")).href);
    pyodide = await loadPyodide({
      indexURL: plan.pyodide + "/",
      stdout: (s) => process.stderr.write(s + "\n"),
      stderr: (s) => process.stderr.write(s + "\n"),
    });
    const python = pyodide.runPython("import sys; sys.version.split()[0]");
    emit({ kind: "runtime", pyodide: pyodide.version, python });
    stage = "load the check helper";
    // Its own namespace: the user's --code runs in the usual globals.
    helper = pyodide.globals.get("dict")();
    pyodide.runPython(plan.helper, { globals: helper });
  } catch (e) {
    emit({ kind: "fatal", stage, error: message(e) });
    return;
  }
  const call = (fn, ...args) => {
    const result = helper.get(fn)(...args);
    const js = result.toJs({ dict_converter: Object.fromEntries });
    result.destroy();
    return js;
  };
  // A JS-level failure (an abort in a module's init) can leave the runtime
  // unusable: find out before going on.
  const alive = () => {
    try {
      return pyodide.runPython("1 + 1") === 2;
    } catch (e) {
      return false;
    }
  };

  const Module = pyodide._module;
  pyodide.FS.mkdirTree("/tmp/pyrewrite-check");
  let site = null;
  const installed = [];
  for (const wheel of plan.wheels) {
    stage = `install ${wheel.name}`;
    emit({ kind: "begin", step: stage });
    try {
      // One directory per wheel: two inputs may share a file name.
      const dest = `/tmp/pyrewrite-check/${wheel.id}/${wheel.name}`;
      pyodide.FS.mkdirTree(`/tmp/pyrewrite-check/${wheel.id}`);
      pyodide.FS.writeFile(dest, readFileSync(wheel.file));
      site = helper.get("install")(dest);
      emit({ kind: "install", wheel: wheel.id, ok: true });
      installed.push(wheel);
    } catch (e) {
      emit({ kind: "install", wheel: wheel.id, ok: false, error: message(e) });
    }
  }

  // Load every shared object as micropip 0.3.0 does after unpacking
  // (pyodide._api.loadDynlib(path, false)), each on its own so one
  // LinkError does not hide another.
  const loaded = [];
  for (const wheel of installed) {
    for (const lib of wheel.libraries) {
      const full = `${site}/${lib.path}`;
      stage = `load ${lib.path}`;
      emit({ kind: "begin", step: stage });
      try {
        await pyodide._api.loadDynlib(full, false);
        emit({ kind: "load", wheel: wheel.id, path: lib.path, ok: true });
        loaded.push({ wheel, lib, full });
      } catch (e) {
        emit({ kind: "load", wheel: wheel.id, path: lib.path, ok: false, error: describe(e) });
      }
    }
  }

  // A function import nobody provides does not stop the load: Emscripten
  // gives the module a stub that resolves the name on the first call and
  // throws there. Resolve each name now, the way that stub will
  // (resolveGlobalSymbol, then the module's own exports).
  for (const { wheel, lib, full } of loaded) {
    const dso = Module.LDSO.loadedLibsByName[full];
    // The module's exports: `dso.module` up to Emscripten 3.1.3x (Pyodide
    // 0.23), `dso.exports` in 3.1.46 (0.25). Missing them would count the
    // module's own weak definitions (C++ template instances) as undefined.
    const own = (dso && (dso.exports || dso.module)) || {};
    const missing = lib.symbols.filter((s) => {
      const resolved = Module.resolveGlobalSymbol(s.name, true);
      return !(resolved && resolved.sym) && !(s.name in own);
    });
    if (missing.length > 0) {
      emit({ kind: "missing", wheel: wheel.id, path: lib.path, symbols: missing });
    }
  }

  for (const { wheel, lib } of loaded) {
    if (!lib.module) continue;
    stage = `import ${lib.module}`;
    emit({ kind: "begin", step: stage });
    try {
      emit({ kind: "import", wheel: wheel.id, module: lib.module, ...call("import_module", lib.module) });
    } catch (e) {
      emit({ kind: "import", wheel: wheel.id, module: lib.module, ok: false, error: message(e) });
      if (!alive()) {
        emit({ kind: "fatal", stage, error: `the runtime stopped working: ${message(e)}` });
        return;
      }
    }
  }

  if (plan.code !== null && plan.code !== undefined) {
    stage = "code";
    emit({ kind: "begin", step: stage });
    try {
      await pyodide.runPythonAsync(plan.code);
      emit({ kind: "code", ok: true });
    } catch (e) {
      const text = message(e).trimEnd();
      const lines = text.split("\n");
      emit({ kind: "code", ok: false, error: lines[lines.length - 1], traceback: text });
    }
  }
  emit({ kind: "done" });
}

main().then(() => process.exit(0), fatal);
