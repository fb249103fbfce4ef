//! What `pyrewrite run` leaves behind and when it refuses to go green, with
//! real `pip wheel` builds of small setuptools projects, the real
//! libpyrewrite.so and the real emcc (Debian's 3.1.6):
//! - the native-named wheel pip wrote (it holds wasm) is replaced by the
//!   retagged one;
//! - a C extension that fails to compile under the rewrite, after which the
//!   package falls back to pure Python or leaves the module out, fails the
//!   run with exit 5 naming the compile and its error (`--allow-pure`
//!   accepts it); so does a build that compiles nothing although its tree
//!   has C sources; a pure-Python project stays green;
//! - a native extension built behind the hooks' back is explained: which
//!   command made it and why the hooks missed it.
//!
//! Prerequisites: `/usr/bin/emcc`, gcc, `python3` with pip, setuptools and
//! wheel (offline: `--no-index --no-build-isolation`).

mod common;
#[path = "e2e_support/mod.rs"]
mod support;

use common::{run_in, run_with, stderr_of, TempDir, PIP_WHEEL};
use std::path::Path;
use std::process::Output;

/// The exit status of `run` for wheels missing the extensions the build
/// tried to make.
const EXIT_INCOMPLETE: i32 = 5;

/// `pyrewrite run --target {} [extra] -- pip wheel . -w wheels` in `dir`,
/// with the default profile (emcc from PATH, no Pyodide: no verify).
fn run_pip(dir: &TempDir, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let target = dir.write("target.json", "{}");
    let mut cmd = run_with(&target);
    cmd.args(extra).arg("--").args(PIP_WHEEL);
    cmd.env_remove("LD_PRELOAD").env_remove("PYREWRITE_TARGET");
    for (k, v) in env {
        cmd.env(k, v);
    }
    run_in(dir.path(), &mut cmd)
}

/// The file names in `dir`, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The member names of a wheel.
fn members(wheel: &Path) -> Vec<String> {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; print('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))",
        ])
        .arg(wheel)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect()
}

/// `#include <cpuid.h>` compiles natively and fails under emcc: clang's
/// header says "this header is for x86 only". A realistic optional speedup.
const X86_ONLY_C: &str = "#include <cpuid.h>\nint PyInit__speedups(void) { return 0; }\n";

/// markupsafe's pattern: build the C speedups, and if that fails, say so
/// and build again without them: a `py3-none-any` wheel.
const FALLBACK_SETUP_PY: &str = r#"from setuptools import setup, Extension
from setuptools.command.build_ext import build_ext

class BuildFailed(Exception):
    pass

class optional_build_ext(build_ext):
    def run(self):
        try:
            super().run()
        except Exception as e:
            raise BuildFailed() from e

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as e:
            raise BuildFailed() from e

def run_setup(with_speedups):
    setup(
        name="fallback", version="1.0", packages=["fallback"], package_dir={"": "src"},
        ext_modules=[Extension("fallback._speedups", ["src/fallback/_speedups.c"])]
        if with_speedups else [],
        cmdclass={"build_ext": optional_build_ext},
    )

try:
    run_setup(True)
except BuildFailed:
    print("WARNING: the C extension could not be compiled, speedups are not enabled")
    run_setup(False)
"#;

fn fallback_project() -> TempDir {
    let s = TempDir::new("fallback");
    s.write("setup.py", FALLBACK_SETUP_PY);
    s.write(
        "src/fallback/__init__.py",
        "try:\n    from ._speedups import add\nexcept ImportError:\n    def add(a, b):\n        return a + b\n",
    );
    s.write("src/fallback/_speedups.c", X86_ONLY_C);
    s
}

#[test]
fn the_retagged_wheel_replaces_the_native_named_one_in_the_wheel_dir() {
    let s = TempDir::new("replace");
    s.write("setup.py", common::DEMO_SETUP_PY);
    s.write("src/demo.c", "int PyInit_demo(void) { return 0; }\n");
    let out = run_pip(&s, &[], &[]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let wasm = "demo-1.0-cp311-cp311-emscripten_3_1_32_wasm32.whl";
    assert_eq!(names_in(&s.path().join("wheels")), [wasm], "{err}");
    assert!(
        members(&s.path().join("wheels").join(wasm))
            .contains(&"demo.cpython-311-wasm32-emscripten.so".to_string()),
        "{err}"
    );
    assert!(
        err.contains("; replaces ")
            && err.contains("wheels/demo-1.0-cp311-cp311-linux_x86_64.whl)"),
        "{err}"
    );
    assert!(!err.contains("extensions:"), "{err}");
}

#[test]
fn a_fallback_to_pure_python_after_a_failed_compile_fails_with_5_and_allow_pure_accepts_it() {
    let s = fallback_project();
    let out = run_pip(&s, &[], &[]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(EXIT_INCOMPLETE), "{err}");
    // The wheel pip wrote is pure, and it stays (it installs, minus speedups).
    assert_eq!(
        names_in(&s.path().join("wheels")),
        ["fallback-1.0-py3-none-any.whl"]
    );
    for needle in [
        "pyrewrite: error: no extension module reached the wheels: the build fell back to pure Python (exit 5)",
        "fallback-1.0-py3-none-any.whl: no extension module",
        "failed compile of src/fallback/_speedups.c: its output build/temp.",
        // The rewritten command and the build's own.
        "emcc -Wsign-compare",
        "(the build's command: ",
        // Its error, from running it again after the build.
        "its error (run again by pyrewrite after the build):",
        "cpuid.h:14:2: error: this header is for x86 only",
        "or pass --allow-pure to accept these wheels",
        "pyrewrite: extensions: no extension module reached the wheels",
    ] {
        assert!(err.contains(needle), "stderr lacks {needle:?}:\n{err}");
    }
    // The re-run wrote nothing into the build tree.
    let temp = s
        .path()
        .join("build/temp.linux-x86_64-cpython-311/src/fallback");
    assert!(names_in(&temp).is_empty(), "{:?}", names_in(&temp));

    // The same build, accepted.
    let out = run_pip(&s, &["--allow-pure"], &[]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("pyrewrite: warning: no extension module reached the wheels: the build fell back to pure Python: accepted (--allow-pure)"),
        "{err}"
    );
    assert!(
        err.contains("cpuid.h:14:2: error: this header is for x86 only"),
        "{err}"
    );
}

#[test]
fn an_optional_extension_that_fails_to_compile_leaves_the_wheel_incomplete_exit_5() {
    let s = TempDir::new("partial");
    s.write(
        "setup.py",
        "from setuptools import setup, Extension\n\
         setup(name='partial', version='1.0', ext_modules=[\n\
         \x20   Extension('_core', ['src/core.c']),\n\
         \x20   Extension('_speedups', ['src/speedups.c'], optional=True),\n\
         ])\n",
    );
    s.write("src/core.c", "int PyInit__core(void) { return 0; }\n");
    s.write("src/speedups.c", X86_ONLY_C);
    let out = run_pip(&s, &[], &[]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(EXIT_INCOMPLETE), "{err}");
    // The wheel with the one module that built is written, for the target.
    let wasm = "partial-1.0-cp311-cp311-emscripten_3_1_32_wasm32.whl";
    assert_eq!(names_in(&s.path().join("wheels")), [wasm], "{err}");
    let m = members(&s.path().join("wheels").join(wasm));
    assert!(
        m.contains(&"_core.cpython-311-wasm32-emscripten.so".to_string()),
        "{m:?}"
    );
    for needle in [
        "pyrewrite: error: the wheels lack extension modules the build tried to make (exit 5)",
        "failed compile of src/speedups.c: its output build/temp.linux-x86_64-cpython-311/src/speedups.o was never written",
        "this header is for x86 only",
    ] {
        assert!(err.contains(needle), "stderr lacks {needle:?}:\n{err}");
    }
    assert!(!err.contains("src/core.c:"), "{err}");
}

#[test]
fn a_build_that_compiles_nothing_although_it_has_c_sources_fails_with_5() {
    let s = TempDir::new("no-compile");
    // Many packages have a switch like this (MSGPACK_PUREPYTHON, ...).
    s.write(
        "setup.py",
        "import os\nfrom setuptools import setup, Extension\n\
         ext = [] if os.environ.get('DEMO_PURE_PYTHON') else [Extension('demo', ['src/demo.c'])]\n\
         setup(name='demo', version='1.0', py_modules=['demo_py'], ext_modules=ext)\n",
    );
    s.write("demo_py.py", "def f():\n    return 1\n");
    s.write("src/demo.c", "int PyInit_demo(void) { return 0; }\n");
    let out = run_pip(&s, &[], &[("DEMO_PURE_PYTHON", "1")]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(EXIT_INCOMPLETE), "{err}");
    assert!(
        err.contains(
            "the build compiled nothing, although the source tree holds C/C++ sources (e.g. "
        ) && err.contains("src/demo.c)"),
        "{err}"
    );
    assert!(err.contains("0 compiled, 0 linked"), "{err}");
}

#[test]
fn a_pure_python_project_stays_green() {
    let s = TempDir::new("pure");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = support::copy_tree(&root.join("examples/pure-python"), s.path());
    let target = s.write("target.json", "{}");
    let out = run_in(
        &src,
        run_with(&target)
            .arg("--")
            .args(PIP_WHEEL)
            .env_remove("LD_PRELOAD"),
    );
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(
        names_in(&src.join("wheels")),
        ["pyrewrite_example_pure_python-0.1.0-py3-none-any.whl"]
    );
    assert!(err.contains("no extension modules: left as it is"), "{err}");
    assert!(!err.contains("extensions:"), "{err}");
    assert!(!err.contains("pyrewrite: error"), "{err}");
}

#[test]
fn a_native_extension_built_behind_the_hooks_names_the_command_and_the_cause() {
    let s = TempDir::new("native");
    // A build step that "sanitises" its environment, then os.system(): the
    // shell starts without LD_PRELOAD, so gcc runs natively, unseen.
    s.write(
        "setup.py",
        "import os\n\
         from setuptools import setup, Extension\n\
         from setuptools.command.build_ext import build_ext\n\
         class vendor_build(build_ext):\n\
         \x20   def build_extension(self, ext):\n\
         \x20       out = self.get_ext_fullpath(ext.name)\n\
         \x20       os.makedirs(os.path.dirname(out), exist_ok=True)\n\
         \x20       os.environ.pop('LD_PRELOAD', None)\n\
         \x20       if os.system(f'gcc -shared -fPIC src/native.c -o {out}') != 0:\n\
         \x20           raise SystemExit('gcc failed')\n\
         setup(name='native', version='1.0', ext_modules=[Extension('native', ['src/native.c'])],\n\
         \x20     cmdclass={'build_ext': vendor_build})\n",
    );
    s.write("src/native.c", "int PyInit_native(void) { return 0; }\n");
    let out = run_pip(&s, &[], &[]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    for needle in [
        "member native.cpython-311-x86_64-linux-gnu.so is a native ELF shared object (x86_64, built by GCC: ",
        "no link in the session's events wrote native.cpython-311-x86_64-linux-gnu.so",
        "the last command of the session naming it: `sh -c 'gcc -shared -fPIC src/native.c -o build/lib.linux-x86_64-cpython-311/native.cpython-311-x86_64-linux-gnu.so'` (system() in pid ",
        "the process that called system() had most likely removed LD_PRELOAD from its own environment",
        "other causes to rule out: a statically linked program",
    ] {
        assert!(err.contains(needle), "stderr lacks {needle:?}:\n{err}");
    }
    // Assembly failed: the wheel the build wrote is kept as it was.
    assert_eq!(
        names_in(&s.path().join("wheels")),
        ["native-1.0-cp311-cp311-linux_x86_64.whl"]
    );
}
