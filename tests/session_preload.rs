//! `pyrewrite trace`/`run` around REAL builds with the real libpyrewrite.so:
//! a make project, a setuptools project, a rewrite to a fake emcc, and 8
//! parallel jobs × 200 compiles with nothing lost.
//!
//! `PYREWRITE_PRELOAD=/abs/libpyrewrite.so cargo test` tests another build of
//! the preload (the driver's own default); otherwise the one next to the
//! `pyrewrite` binary is used.

mod common;

use common::{
    pyrewrite_session as pyrewrite, read_json, read_json_lines, run_in, run_with, stderr_of,
    TempDir, PIP_WHEEL,
};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn compdb(path: &Path) -> Vec<serde_json::Value> {
    read_json(path).as_array().unwrap().clone()
}

/// The basenames of the `file` fields of a compilation database.
fn compdb_files(db: &[serde_json::Value]) -> BTreeSet<String> {
    db.iter()
        .map(|e| {
            Path::new(e["file"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

const MAKEFILE: &str = "\
SRCS := $(wildcard src/*.c)
OBJS := $(SRCS:src/%.c=build/%.o)
all: libdemo.so
libdemo.so: $(OBJS)
\t$(CC) -shared $^ -o $@
build/%.o: src/%.c
\t@mkdir -p build
\t$(CC) -fPIC -Iinclude -DDEMO_SCALE=3 -c $< -o $@
";

fn make_project(s: &TempDir, n: usize) {
    s.write("Makefile", MAKEFILE);
    s.write("include/demo.h", "int demo_scale(void);\n");
    for i in 0..n {
        s.write(
            &format!("src/f{i}.c"),
            &format!("#include \"demo.h\"\nint f{i}(void) {{ return {i} * DEMO_SCALE; }}\n"),
        );
    }
}

#[test]
fn trace_a_parallel_make_build() {
    let s = TempDir::new("make");
    make_project(&s, 6);
    let out = run_in(s.path(), pyrewrite("trace").args(["--", "make", "-j8"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let log = read_json_lines(&s.path().join(".pyrewrite/events.jsonl"));
    let compiles: Vec<_> = log
        .iter()
        .filter(|e| e["tool"] == "cc" && e["argv"].as_array().unwrap().iter().any(|a| a == "-c"))
        .collect();
    assert_eq!(compiles.len(), 6, "{log:#?}");
    assert!(
        log.iter().all(|e| e["action"] == "passthrough"),
        "trace rewrote something"
    );
    let db = compdb(&s.path().join(".pyrewrite/compile_commands.json"));
    assert_eq!(db.len(), 6);
    assert_eq!(
        compdb_files(&db),
        set(&["f0.c", "f1.c", "f2.c", "f3.c", "f4.c", "f5.c"])
    );
    let err = stderr_of(&out);
    assert!(err.contains("6 compiled, 1 linked"), "{err}");
    assert!(s.path().join("libdemo.so").is_file());

    if let Some(tool) = common::which(&["clang-check-14", "clang-check"]) {
        // The file only compiles with the recorded -I and -D.
        let check = Command::new(&tool)
            .args(["-p", ".pyrewrite", "src/f3.c"])
            .current_dir(s.path())
            .output()
            .unwrap();
        assert!(check.status.success(), "{}", stderr_of(&check));
    }
}

#[test]
fn trace_a_setuptools_build() {
    let s = TempDir::new("setuptools");
    s.write(
        "setup.py",
        "from setuptools import setup, Extension\n\
         setup(name='demo', version='1.0', ext_modules=[Extension('demo', ['src/demo.c', 'src/helper.c'])])\n",
    );
    s.write(
        "src/demo.c",
        "#include <Python.h>\nint helper(void);\n\
         static struct PyModuleDef m = {PyModuleDef_HEAD_INIT, \"demo\", NULL, -1, NULL};\n\
         PyMODINIT_FUNC PyInit_demo(void) { helper(); return PyModule_Create(&m); }\n",
    );
    s.write("src/helper.c", "int helper(void) { return 1; }\n");
    let out = run_in(
        s.path(),
        pyrewrite("trace").args(["--", "python3", "setup.py", "-q", "build_ext", "--inplace"]),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let db = compdb(&s.path().join(".pyrewrite/compile_commands.json"));
    assert_eq!(compdb_files(&db), set(&["demo.c", "helper.c"]), "{db:#?}");
    assert_eq!(db.len(), 2);
    for entry in &db {
        let args: Vec<&str> = entry["arguments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert!(args.contains(&"-c"), "{args:?}");
        assert!(
            args.iter()
                .any(|a| a.starts_with("-I") && a.contains("python3")),
            "setuptools' Python include dir missing: {args:?}"
        );
    }
    let err = stderr_of(&out);
    assert!(err.contains("2 compiled, 1 linked"), "{err}");
}

/// A stand-in for emcc that records its argv and writes its `-o` output.
const FAKE_EMCC: &str = "#!/bin/sh\n\
echo \"$0 $*\" >> \"$(dirname \"$0\")/calls.log\"\n\
while [ $# -gt 0 ]; do if [ \"$1\" = -o ]; then shift; : > \"$1\"; fi; shift; done\n";

#[test]
fn run_rewrites_a_make_build_and_the_compdb_holds_the_wasm_commands() {
    let s = TempDir::new("run-make");
    make_project(&s, 3);
    let (emcc, target) = fake_emcc_target(&s);
    let out = run_in(s.path(), run_with(&target).args(["--", "make", "-j4"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let calls = std::fs::read_to_string(s.path().join("fake/calls.log")).unwrap();
    assert_eq!(
        calls.lines().filter(|l| l.contains(" -c ")).count(),
        3,
        "{calls}"
    );
    let db = compdb(&s.path().join(".pyrewrite/compile_commands.json"));
    assert_eq!(db.len(), 3);
    for entry in &db {
        assert_eq!(entry["arguments"][0].as_str(), emcc.to_str(), "{entry}");
    }
    let err = stderr_of(&out);
    assert!(err.contains("3 compiled, 1 linked"), "{err}");
    assert!(err.contains("4 rewritten"), "{err}");
}

/// The way ninja (meson, CMake) runs long command lines: flags and source in
/// a response file. `CLEAN=rm` removes it once the compile succeeded, as
/// ninja does.
const RSP_MAKEFILE: &str = "\
CLEAN ?= true
all: build/a.o build/b.o
build/%.o: src/%.c
\t@mkdir -p build
\t@printf '%s\\n' -Iinclude -DDEMO_SCALE=3 -c $< -o $@ > build/$*.rsp
\t$(CC) -O1 @build/$*.rsp
\t$(CLEAN) -f build/$*.rsp
";

fn rsp_project(s: &TempDir) {
    s.write("Makefile", RSP_MAKEFILE);
    s.write("include/demo.h", "int demo_scale(void);\n");
    for name in ["a", "b"] {
        // Compiles only with the -I and -D that are in the response file.
        s.write(
            &format!("src/{name}.c"),
            &format!("#include \"demo.h\"\nint {name}(void) {{ return DEMO_SCALE; }}\n"),
        );
    }
}

/// The `arguments` of a compilation database entry.
fn compdb_args(entry: &serde_json::Value) -> Vec<String> {
    entry["arguments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn trace_puts_compiles_inside_response_files_in_the_compdb() {
    let s = TempDir::new("rsp-trace");
    rsp_project(&s);
    let out = run_in(s.path(), pyrewrite("trace").args(["--", "make", "-j2"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(s.path().join("build/a.o").is_file());
    let db = compdb(&s.path().join(".pyrewrite/compile_commands.json"));
    assert_eq!(compdb_files(&db), set(&["a.c", "b.c"]), "{db:#?}");
    for entry in &db {
        let args = compdb_args(entry);
        // Expanded: the flags are there, the `@file` is not.
        assert_eq!(args[0], "cc", "{args:?}");
        for flag in ["-O1", "-Iinclude", "-DDEMO_SCALE=3", "-c"] {
            assert!(args.iter().any(|a| a == flag), "{flag} missing: {args:?}");
        }
        assert!(!args.iter().any(|a| a.starts_with('@')), "{args:?}");
        let file = entry["file"].as_str().unwrap();
        let stem = Path::new(file).file_stem().unwrap().to_str().unwrap();
        assert_eq!(entry["output"], format!("build/{stem}.o"), "{entry}");
    }
    let err = stderr_of(&out);
    assert!(err.contains("2 compiled, 0 linked"), "{err}");

    // A clang tool reads the database: the file compiles only with the
    // -I and -D that were inside the response file.
    let tool = common::which(&["clang-check-14", "clang-check"])
        .expect("clang-check-14 not found: run scripts/setup.sh (apt clang-tools-14)");
    let check = Command::new(&tool)
        .args(["-p", ".pyrewrite", "src/b.c"])
        .current_dir(s.path())
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", stderr_of(&check));
}

#[test]
fn run_puts_rewritten_compiles_inside_removed_response_files_in_the_compdb() {
    let s = TempDir::new("rsp-run");
    rsp_project(&s);
    let (emcc, target) = fake_emcc_target(&s);
    let out = run_in(
        s.path(),
        run_with(&target).args(["--", "make", "-j2", "CLEAN=rm"]),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    // The build removed its response files, as ninja does.
    assert!(!s.path().join("build/a.rsp").exists());
    let db = compdb(&s.path().join(".pyrewrite/compile_commands.json"));
    assert_eq!(compdb_files(&db), set(&["a.c", "b.c"]), "{db:#?}");
    for entry in &db {
        let args = compdb_args(entry);
        assert_eq!(Some(args[0].as_str()), emcc.to_str(), "{args:?}");
        for flag in ["-O1", "-Iinclude", "-DDEMO_SCALE=3", "-c", "-fPIC"] {
            assert!(args.iter().any(|a| a == flag), "{flag} missing: {args:?}");
        }
    }
    let err = stderr_of(&out);
    assert!(err.contains("2 compiled, 0 linked"), "{err}");
    assert!(err.contains("2 rewritten"), "{err}");
}

/// `pyrewrite run -- gcc -c x.c`: the build command itself is a compiler
/// call, rewritten and counted once — also from a shell whose LD_PRELOAD
/// already holds another copy of the library (an older build at another
/// path), which once compiled it outside the session (0 execs seen) and,
/// left in the build's LD_PRELOAD, hooked every exec twice.
#[test]
fn a_stale_library_copy_first_in_ld_preload_is_replaced_and_execs_count_once() {
    let s = TempDir::new("stale-copy");
    s.write("x.c", "int x(void) { return 1; }\n");
    let (emcc, target) = fake_emcc_target(&s);
    let stale = s.path().join("old/libpyrewrite.so");
    std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
    std::fs::copy(common::session_preload(), &stale).unwrap();
    let own = std::path::absolute(common::session_preload()).unwrap();
    for ld_preload in [None, Some(format!("{}:libm.so.6", stale.display()))] {
        let _ = std::fs::remove_dir_all(s.path().join(".pyrewrite"));
        let _ = std::fs::remove_file(s.path().join("fake/calls.log"));
        let mut cmd = run_with(&target);
        if let Some(v) = &ld_preload {
            cmd.env("LD_PRELOAD", v);
        }
        // The compiler directly, then from a shell that shows its LD_PRELOAD.
        let out = run_in(s.path(), cmd.args(["--", "gcc", "-c", "x.c"]));
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(0), "{ld_preload:?}: {err}");
        assert!(
            err.contains("1 execs seen: 1 rewritten, 0 passed through"),
            "{ld_preload:?}: {err}"
        );
        assert!(err.contains("1 compiled"), "{ld_preload:?}: {err}");
        let calls = std::fs::read_to_string(s.path().join("fake/calls.log")).unwrap();
        assert_eq!(calls.lines().count(), 1, "{calls}");
        assert!(calls.starts_with(emcc.to_str().unwrap()), "{calls}");

        let script = "echo \"$LD_PRELOAD\" > seen.txt; exec gcc -c x.c";
        let mut cmd = run_with(&target);
        if let Some(v) = &ld_preload {
            cmd.env("LD_PRELOAD", v);
        }
        let out = run_in(s.path(), cmd.args(["--", "sh", "-c", script]));
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(0), "{ld_preload:?}: {err}");
        assert!(
            err.contains("2 execs seen: 1 rewritten, 1 passed through"),
            "{ld_preload:?}: {err}"
        );
        let log = read_json_lines(&s.path().join(".pyrewrite/events.jsonl"));
        let gcc: Vec<_> = log.iter().filter(|e| e["argv"][0] == "gcc").collect();
        assert_eq!(gcc.len(), 1, "one event for one exec: {log:#?}");
        let seen = std::fs::read_to_string(s.path().join("seen.txt")).unwrap();
        let entries: Vec<&str> = seen.trim().split([':', ' ']).collect();
        assert_eq!(entries[0], own.to_str().unwrap(), "{seen}");
        assert!(!seen.contains("/old/"), "the stale copy was kept: {seen}");
        if ld_preload.is_some() {
            assert_eq!(entries[1..], ["libm.so.6"], "other entries kept: {seen}");
        }
    }
}

#[test]
fn no_event_is_lost_from_8_parallel_jobs_of_200_compiles() {
    let s = TempDir::new("many");
    // A fast fake `gcc` (shell builtins only): the build is about execs, not compiling.
    let gcc = s.write(
        "bin/gcc",
        "#!/bin/sh\nwhile [ $# -gt 0 ]; do if [ \"$1\" = -o ]; then shift; : > \"$1\"; fi; shift; done\n",
    );
    common::set_mode(&gcc, 0o755);
    s.write(
        "Makefile",
        "SRCS := $(wildcard src/*.c)\nall: $(SRCS:.c=.o)\n%.o: %.c\n\tgcc -c $< -o $@\n",
    );
    for i in 0..1600 {
        s.write(&format!("src/f{i}.c"), "");
    }
    let path = format!(
        "{}:{}",
        s.path().join("bin").display(),
        std::env::var("PATH").unwrap()
    );
    let out = run_in(
        s.path(),
        pyrewrite("trace")
            .env("PATH", path)
            .args(["--quiet", "--", "make", "-s", "-j8"]),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let log = read_json_lines(&s.path().join(".pyrewrite/events.jsonl"));
    let sources: BTreeSet<String> = log
        .iter()
        .filter(|e| e["tool"] == "cc")
        .map(|e| e["argv"][2].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sources.len(), 1600);
    assert_eq!(
        compdb(&s.path().join(".pyrewrite/compile_commands.json")).len(),
        1600
    );
}

#[test]
fn run_with_real_emcc_builds_wasm_from_an_unchanged_makefile() {
    assert!(
        Path::new("/usr/bin/emcc").exists(),
        "/usr/bin/emcc is missing: apt-get install -y emscripten"
    );
    let s = TempDir::new("run-emcc");
    make_project(&s, 2);
    // The default profile: emcc/em++ from PATH.
    let target = s.write("target.json", "{}");
    let out = run_in(s.path(), run_with(&target).args(["--", "make", "-j2"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    for file in ["build/f0.o", "build/f1.o", "libdemo.so"] {
        let bytes = std::fs::read(s.path().join(file)).unwrap();
        assert_eq!(&bytes[..4], b"\0asm", "{file} is not wasm");
    }
    let db = compdb(&s.path().join(".pyrewrite/compile_commands.json"));
    assert_eq!(db.len(), 2);
    for entry in &db {
        assert!(
            entry["arguments"][0].as_str().unwrap().ends_with("emcc"),
            "{entry}"
        );
    }
    let err = stderr_of(&out);
    assert!(err.contains("3 rewritten"), "{err}");
    assert!(err.contains("2 compiled, 1 linked"), "{err}");
}

const SETUP_PY: &str = "from setuptools import setup, Extension\n\
setup(name='demo', version='1.0', ext_modules=[Extension('demo', ['src/demo.c', 'src/helper.c'])])\n";

fn setuptools_project(s: &TempDir) {
    s.write("setup.py", SETUP_PY);
    s.write(
        "src/demo.c",
        "int helper(void);\nint demo(void) { return helper(); }\n",
    );
    s.write("src/helper.c", "int helper(void) { return 1; }\n");
}

/// [`FAKE_EMCC`] in `fake/`, and a profile using it for every tool:
/// (the fake, the profile).
fn fake_emcc_target(s: &TempDir) -> (PathBuf, PathBuf) {
    let emcc = s.write("fake/emcc", FAKE_EMCC);
    common::set_mode(&emcc, 0o755);
    let target = s.write(
        "target.json",
        &serde_json::json!({"emcc": emcc, "emxx": emcc, "emar": emcc, "emranlib": emcc})
            .to_string(),
    );
    (emcc, target)
}

#[test]
fn run_a_setuptools_build_with_a_fake_emcc() {
    let s = TempDir::new("run-setuptools");
    setuptools_project(&s);
    let (emcc, target) = fake_emcc_target(&s);
    let out = run_in(
        s.path(),
        run_with(&target).args(["--", "python3", "setup.py", "-q", "build_ext", "--inplace"]),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let db = compdb(&s.path().join(".pyrewrite/compile_commands.json"));
    assert_eq!(compdb_files(&db), set(&["demo.c", "helper.c"]), "{db:#?}");
    for entry in &db {
        assert_eq!(entry["arguments"][0].as_str(), emcc.to_str(), "{entry}");
    }
    let err = stderr_of(&out);
    assert!(err.contains("2 compiled, 1 linked"), "{err}");
}

#[test]
fn run_finds_the_wheel_pip_wrote_and_fails_with_3_when_it_is_not_wasm() {
    let s = TempDir::new("run-pip");
    setuptools_project(&s);
    // The fake emcc writes empty files: the wheel's extension is no side
    // module, so assembly must fail, naming the wheel, with status 3.
    let (_, target) = fake_emcc_target(&s);
    let out = run_in(s.path(), run_with(&target).arg("--").args(PIP_WHEEL));
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("wheels/demo-1.0-"), "{err}");
    assert!(err.contains("2 compiled, 1 linked"), "{err}");
    // A wheel that cannot be assembled is never removed: nothing is lost.
    assert!(
        s.path()
            .join("wheels/demo-1.0-cp311-cp311-linux_x86_64.whl")
            .is_file(),
        "{err}"
    );
}

#[test]
fn run_pip_wheel_with_real_emcc_ends_with_a_wasm_wheel() {
    let s = TempDir::new("run-pip-emcc");
    s.write("setup.py", common::DEMO_SETUP_PY);
    // No Python.h: the default profile has no target CPython headers.
    s.write("src/demo.c", "int PyInit_demo(void) { return 0; }\n");
    let target = s.write("target.json", "{}");
    let out = run_in(
        s.path(),
        run_with(&target)
            .args(["--out", "wasm", "--"])
            .args(PIP_WHEEL),
    );
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let wheel = s
        .path()
        .join("wasm/demo-1.0-cp311-cp311-emscripten_3_1_32_wasm32.whl");
    assert!(wheel.is_file(), "{err}");
    assert!(
        err.contains(
            "demo-1.0-cp311-cp311-emscripten_3_1_32_wasm32.whl (emscripten_3_1_32_wasm32; replaces "
        ),
        "{err}"
    );
    let names = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; print('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))",
        ])
        .arg(&wheel)
        .output()
        .unwrap();
    let names = String::from_utf8_lossy(&names.stdout);
    assert!(
        names
            .lines()
            .any(|n| n == "demo.cpython-311-wasm32-emscripten.so"),
        "{names}"
    );
    // The native-named wheel pip wrote (it holds wasm) is gone from the
    // build's wheel dir: --out holds the one to use.
    assert_eq!(
        std::fs::read_dir(s.path().join("wheels")).unwrap().count(),
        0,
        "{err}"
    );
}
