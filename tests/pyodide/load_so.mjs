// Load one wasm side module into a real Pyodide (offline) and report what happened,
// as one JSON line on stdout: {"loaded":bool,"load_error":str|null,
// "called":bool|null,"call_result":num|null,"call_error":str|null}.
//
// usage: node load_so.mjs PYODIDE_DIST SO_PATH [FUNCTION [INT_ARG...]]
//
// The module is loaded the way Python loads an extension: through dlopen (here via
// ctypes.CDLL, which calls dlopen with RTLD_NOW), so link errors surface at load and
// imports nobody provides surface only when the function is called.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";

const [dist, soPath, func, ...args] = process.argv.slice(2);
if (!dist || !soPath) {
  console.error("usage: node load_so.mjs PYODIDE_DIST SO_PATH [FUNCTION [INT_ARG...]]");
  process.exit(2);
}
const require = createRequire(import.meta.url);
const { loadPyodide } = require(path.resolve(dist, "pyodide.js"));
const pyodide = await loadPyodide({ indexURL: path.resolve(dist) + "/" });
const target = "/tmp/" + path.basename(soPath);
pyodide.FS.writeFile(target, readFileSync(soPath));
pyodide.globals.set("so_path", target);
pyodide.globals.set("func_name", func ?? null);
pyodide.globals.set("func_args", (args ?? []).map(Number));
const result = JSON.parse(pyodide.runPython(`
import ctypes, json
result = {"loaded": False, "load_error": None, "called": None,
          "call_result": None, "call_error": None}
try:
    lib = ctypes.CDLL(so_path)
    result["loaded"] = True
except OSError as e:
    result["load_error"] = str(e)
json.dumps(result)
`));
if (result.loaded && func) {
  // A call into an import nobody provides throws a JS TypeError through the wasm
  // frames; Pyodide treats that as fatal, so catch it here, not in Python.
  try {
    result.call_result = pyodide.runPython(
      "getattr(lib, func_name)(*func_args.to_py())");
    result.called = true;
  } catch (e) {
    result.called = false;
    result.call_error = String(e && e.message ? e.message : e).split("\n")[0];
  }
}
console.log(JSON.stringify(result));
process.exit(0);
