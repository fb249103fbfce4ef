// Loads wheels into a real Pyodide in node, offline, and runs Python against them.
//
//   node tests/pyodide/run.mjs --pyodide DIR --support DIR (--code PY | --file F) [WHEEL...]
//
//   --pyodide DIR  the npm package dir (node_modules/pyodide)
//   --support DIR  holds the micropip and packaging wheels (PyPI, pure Python)
//   --code/--file  Python run after installing the wheels; it must assign a
//                  JSON-serialisable `result`
//   WHEEL...       installed with micropip from Pyodide's file system
//                  (emfs:/tmp/wheels/<name>), without dependencies
//   --keep-going   a wheel that fails to install is reported in
//                  "install_errors" ({wheel: message}) instead of stopping
//
// stdout gets exactly one JSON line:
// {"ok": true, "installed": [...], "install_errors": {...}, "result": ...}
// or {"ok": false, "stage": ..., "error": ...}; the exit code is 1 on any error.
// Python's own prints go to stderr so stdout stays machine-readable.

import { readFileSync, readdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

function parseArgs(argv) {
  const opts = { wheels: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) fail("args", `${a} needs a value`);
      return argv[++i];
    };
    if (a === "--pyodide") opts.pyodide = resolve(next());
    else if (a === "--support") opts.support = resolve(next());
    else if (a === "--code") opts.code = next();
    else if (a === "--file") opts.code = readFileSync(next(), "utf8");
    else if (a === "--keep-going") opts.keepGoing = true;
    else if (a.startsWith("--")) fail("args", `unknown option ${a}`);
    else opts.wheels.push(resolve(a));
  }
  if (!opts.pyodide || !opts.support || opts.code === undefined) {
    fail("args", "usage: run.mjs --pyodide DIR --support DIR (--code PY | --file F) [WHEEL...]");
  }
  return opts;
}

function fail(stage, error) {
  process.stdout.write(JSON.stringify({ ok: false, stage, error: String(error) }) + "\n");
  process.exit(1);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  let stage = "load pyodide";
  try {
    // Imported from the given dir, so no node_modules is needed next to this script.
    const { loadPyodide } = await import(pathToFileURL(join(opts.pyodide, "pyodide.mjs")).href);
    const pyodide = await loadPyodide({
      indexURL: opts.pyodide + "/",
      stdout: (s) => process.stderr.write(s + "\n"),
      stderr: (s) => process.stderr.write(s + "\n"),
    });
    stage = "load micropip";
    const support = readdirSync(opts.support)
      .filter((f) => /^(micropip|packaging)-.*\.whl$/.test(f))
      .map((f) => join(opts.support, f));
    if (support.length < 2) {
      fail(stage, `${opts.support}: needs the micropip and packaging wheels (run scripts/setup.sh)`);
    }
    await pyodide.loadPackage(support, { messageCallback: () => {} });
    const micropip = pyodide.pyimport("micropip");

    const installed = [];
    const installErrors = {};
    pyodide.FS.mkdirTree("/tmp/wheels");
    for (const wheel of opts.wheels) {
      stage = `install ${basename(wheel)}`;
      const dest = `/tmp/wheels/${basename(wheel)}`;
      pyodide.FS.writeFile(dest, readFileSync(wheel));
      try {
        await micropip.install.callKwargs(`emfs:${dest}`, { deps: false });
        installed.push(basename(wheel));
      } catch (e) {
        if (!opts.keepGoing) throw e;
        installErrors[basename(wheel)] = String(e && e.message ? e.message : e);
      }
    }

    stage = "run";
    await pyodide.runPythonAsync(opts.code);
    const json = pyodide.runPython("import json as _j; _j.dumps(result)");
    const head = `"installed": ${JSON.stringify(installed)}, "install_errors": ${JSON.stringify(installErrors)}`;
    process.stdout.write(`{"ok": true, ${head}, "result": ${json}}\n`);
    process.exit(0);
  } catch (e) {
    fail(stage, e && e.message ? e.message : e);
  }
}

main();
