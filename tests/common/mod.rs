//! Shared helpers for the integration tests: where the built artifacts are,
//! scratch directories, a fake emcc, C fixtures, sessions and event logs,
//! running the driver, and locating the Pyodide dist.
//!
//! Every test binary includes this module and uses a different part of it.
#![allow(dead_code)]

use pyrewrite_protocol::{env, Event};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// `target/debug` (or the profile dir the tests were built in): the test
/// executable lives in its `deps/` subdirectory.
pub fn artifact_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("test executable inside target/<profile>/deps")
        .to_path_buf()
}

/// Absolute path of the built `libpyrewrite.so`, or of the build named by
/// `$PYREWRITE_TEST_LIBRARY` (scripts/test-all.sh runs the preload tests
/// again against the release library, the one users preload).
pub fn preload_lib() -> PathBuf {
    match std::env::var_os("PYREWRITE_TEST_LIBRARY") {
        Some(p) => {
            let p = PathBuf::from(p);
            assert!(
                p.is_file(),
                "PYREWRITE_TEST_LIBRARY={} is missing: run scripts/build.sh --release",
                p.display()
            );
            p
        }
        None => built("libpyrewrite.so"),
    }
}

/// Absolute path of the built `pyrewrite` driver binary.
pub fn driver_bin() -> PathBuf {
    built("pyrewrite")
}

/// `name` in [`artifact_dir`]; missing, a panic naming the build to run
/// (`cargo test` alone does not build the cdylib and binary for the tests).
fn built(name: &str) -> PathBuf {
    let p = artifact_dir().join(name);
    assert!(
        p.is_file(),
        "{} is missing: run scripts/build.sh before `cargo test`",
        p.display()
    );
    p
}

/// A fresh, empty directory for one test (under target/, kept after the run
/// for inspection, emptied at the start of the next one).
pub fn scratch(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = artifact_dir()
        .join("test-scratch")
        .join(format!("{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Compiles the C fixture `name` with the host gcc (no preload) into `dir`.
pub fn build_c_fixture(name: &str, dir: &Path) -> PathBuf {
    let src = fixture(name);
    let out = dir.join(name.trim_end_matches(".c"));
    let status = Command::new("gcc")
        .arg("-O1")
        .arg("-pthread")
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .env_remove("LD_PRELOAD")
        .status()
        .expect("run gcc");
    assert!(status.success(), "gcc failed on {}", src.display());
    out
}

/// Writes `contents` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, contents).expect("write file");
    p
}

/// A fake emcc: a shell script that records each call (argv, one per line,
/// and the `LD_PRELOAD` it saw) in its own file, writes `fake-wasm` to the
/// `-o` output, and exits with `$FAKE_EMCC_EXIT` (default 0).
pub struct FakeEmcc {
    pub path: PathBuf,
    pub log_dir: PathBuf,
}

/// One recorded call of the fake emcc.
#[derive(Debug, Clone)]
pub struct FakeCall {
    pub args: Vec<String>,
    pub ld_preload: String,
}

impl FakeEmcc {
    pub fn new(dir: &Path) -> FakeEmcc {
        let log_dir = dir.join("emcc-calls");
        std::fs::create_dir_all(&log_dir).unwrap();
        let path = dir.join("fake-emcc");
        let script = format!(
            r#"#!/bin/sh
log="{log}/$$"
for a in "$@"; do printf '%s\n' "$a"; done > "$log.args.tmp"
printf '%s' "${{LD_PRELOAD-}}" > "$log.env"
mv "$log.args.tmp" "$log.args"
out=""; prev=""
for a in "$@"; do [ "$prev" = "-o" ] && out="$a"; prev="$a"; done
[ -n "$out" ] && echo fake-wasm > "$out"
exit "${{FAKE_EMCC_EXIT:-0}}"
"#,
            log = log_dir.display()
        );
        std::fs::write(&path, script).unwrap();
        set_mode(&path, 0o755);
        FakeEmcc { path, log_dir }
    }

    /// Every recorded call, in no particular order.
    pub fn calls(&self) -> Vec<FakeCall> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.log_dir).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "args") {
                let text = std::fs::read_to_string(&p).unwrap();
                let env = std::fs::read_to_string(p.with_extension("env")).unwrap_or_default();
                out.push(FakeCall {
                    args: text.lines().map(String::from).collect(),
                    ld_preload: env,
                });
            }
        }
        out
    }

    /// A target profile whose emcc and em++ are this fake. The fast path is
    /// off: a fake emcc runs no clang to learn from, and these tests check
    /// what the preload execs (tests/fast_path.rs covers the route through
    /// pyrewrite-cc with the real emcc).
    pub fn target(&self, dir: &Path) -> PathBuf {
        let t = serde_json::json!({
            "emcc": self.path.to_str().unwrap(),
            "emxx": self.path.to_str().unwrap(),
            "fast_path": "off",
        });
        let p = dir.join("target.json");
        std::fs::write(&p, t.to_string()).unwrap();
        p
    }
}

pub fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A preload session: the environment a build runs in.
pub struct Session {
    pub dir: PathBuf,
    pub events: PathBuf,
    pub target: Option<PathBuf>,
    pub mode: Option<&'static str>,
    pub extra_preload: Option<String>,
    /// `$XDG_CONFIG_HOME` of the session (`dir/xdg-config`, empty unless a
    /// test writes a default profile there): never the user's real one.
    pub config_home: PathBuf,
}

impl Session {
    /// A session that logs events to `dir/events.jsonl`, with `target` if given.
    pub fn new(dir: &Path, target: Option<PathBuf>) -> Session {
        Session {
            dir: dir.to_path_buf(),
            events: dir.join("events.jsonl"),
            target,
            mode: None,
            extra_preload: None,
            config_home: dir.join("xdg-config"),
        }
    }

    /// Writes `json` as the session's default profile
    /// (`$XDG_CONFIG_HOME/pyrewrite/target.json`) and returns its path.
    pub fn write_default_profile(&self, json: &str) -> PathBuf {
        write_default_profile(&self.config_home, json)
    }

    /// `program` set up to run inside the session, in `self.dir`.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.current_dir(&self.dir);
        let lib = preload_lib();
        let preload = match &self.extra_preload {
            Some(other) => format!("{} {other}", lib.display()),
            None => lib.display().to_string(),
        };
        c.env("LD_PRELOAD", preload);
        c.env(env::EVENTS, &self.events);
        c.env_remove(env::SOCKET);
        c.env_remove(env::DEBUG);
        c.env("XDG_CONFIG_HOME", &self.config_home);
        // Generated files and the fast path's learned templates stay in
        // this test's directory (a test that wants another sets it again).
        c.env("XDG_CACHE_HOME", self.dir.join("xdg-cache"));
        c.env_remove(env::FAST_PATH);
        match &self.target {
            Some(t) => c.env(env::TARGET, t),
            None => c.env_remove(env::TARGET),
        };
        match self.mode {
            Some(m) => c.env(env::MODE, m),
            None => c.env_remove(env::MODE),
        };
        c
    }

    pub fn events(&self) -> Vec<Event> {
        read_events(&self.events)
    }
}

/// Parses a JSON-lines event log; a missing file is an empty log.
pub fn read_events(path: &Path) -> Vec<Event> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad event line {l:?}: {e}")))
        .collect()
}

/// Runs `cmd`, returns its output, panics with everything shown if it cannot start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Asserts success and shows stdout/stderr otherwise.
pub fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed: {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What the rules engine says `path argv` becomes under the profile in `target`.
pub fn expected_rewrite(path: &str, argv: &[String], target: &Path) -> Vec<String> {
    let t = pyrewrite_rules::Target::from_json(&std::fs::read_to_string(target).unwrap()).unwrap();
    let args: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
    let read = |p: &[u8]| std::fs::read(String::from_utf8_lossy(p).as_ref()).ok();
    match pyrewrite_rules::decide(path.as_bytes(), &args, &t, &read) {
        pyrewrite_rules::Decision::Rewrite { argv, .. } => argv
            .into_iter()
            .map(|a| String::from_utf8(a).unwrap())
            .collect(),
        other => panic!("rules did not rewrite {argv:?}: {other:?}"),
    }
}

/// The strings of `v`.
pub fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// `pyrewrite` (the built driver) as a command to configure. Its
/// `$XDG_CONFIG_HOME` is an empty scratch dir, so the user's real default
/// profile never takes part in a test (set it again to test the default).
pub fn driver() -> Command {
    let mut c = Command::new(driver_bin());
    c.env("XDG_CONFIG_HOME", empty_config_home());
    c
}

/// A `$XDG_CONFIG_HOME` holding no profile (shared, never written to).
pub fn empty_config_home() -> PathBuf {
    let dir = artifact_dir().join("test-scratch/xdg-config-empty");
    std::fs::create_dir_all(&dir).expect("create empty config home");
    dir
}

/// Writes `json` as the default profile under `config_home`
/// (`config_home/pyrewrite/target.json`) and returns its path.
pub fn write_default_profile(config_home: &Path, json: &str) -> PathBuf {
    let p = config_home.join("pyrewrite/target.json");
    std::fs::create_dir_all(p.parent().unwrap()).expect("create config dir");
    std::fs::write(&p, json).expect("write default profile");
    p
}

/// The libpyrewrite.so session tests preload: `$PYREWRITE_PRELOAD` (to test
/// another build of it, as the driver itself would), else the built one.
pub fn session_preload() -> PathBuf {
    std::env::var_os(env::PRELOAD)
        .map(PathBuf::from)
        .unwrap_or_else(preload_lib)
}

/// `pyrewrite <sub> --preload <lib>`, the rest to add.
pub fn pyrewrite_session(sub: &str) -> Command {
    let mut c = driver();
    c.arg(sub).arg("--preload").arg(session_preload());
    c
}

/// `pyrewrite run --preload <lib> --target <target>`, the build command to add.
pub fn run_with(target: &Path) -> Command {
    let mut c = pyrewrite_session("run");
    c.arg("--target").arg(target);
    c
}

/// A scratch directory under the system temp dir, removed when dropped.
/// Short paths (unlike [`scratch`]'s under target/) keep socket paths made
/// inside it well below the 108-byte `sun_path` limit.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A fresh, empty `<tmp>/pyrewrite-test-<pid>-<n>-<name>`.
    pub fn new(name: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "pyrewrite-test-{}-{}-{name}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `text` to `rel` inside the directory (creating parent dirs).
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `cmd` in `dir` with stdin closed (a build must never wait on the
/// test's terminal) and returns its output.
pub fn run_in(dir: &Path, cmd: &mut Command) -> Output {
    cmd.current_dir(dir).stdin(Stdio::null()).output().unwrap()
}

/// The stderr of `o` as text.
pub fn stderr_of(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A JSON-lines file as raw JSON values (the schema unchecked, unlike
/// [`read_events`]); a missing file is a panic naming it.
pub fn read_json_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A whole JSON file; a missing or malformed file is a panic naming it.
pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The build command the session tests run: `pip wheel` of the project in the
/// current dir into `wheels/`, offline, with neither dependencies nor
/// build isolation (setuptools comes from the host Python).
pub const PIP_WHEEL: &[&str] = &[
    "python3",
    "-m",
    "pip",
    "wheel",
    ".",
    "--no-deps",
    "--no-build-isolation",
    "--no-index",
    "-q",
    "-w",
    "wheels",
];

/// The Pyodide 0.23.4 dist (the dir holding `pyodide.asm.wasm`):
/// `<repo>/.cache/pyodide-npm/node_modules/pyodide`, else
/// `$PYREWRITE_PYODIDE_DIR`; missing, a panic saying to run scripts/setup.sh.
pub fn pyodide_dist() -> PathBuf {
    let default =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".cache/pyodide-npm/node_modules/pyodide");
    if default.join("pyodide.asm.wasm").is_file() {
        return default;
    }
    if let Some(dir) = std::env::var_os("PYREWRITE_PYODIDE_DIR") {
        let dir = PathBuf::from(dir);
        if dir.join("pyodide.asm.wasm").is_file() {
            return dir;
        }
    }
    panic!(
        "Pyodide 0.23.4 not found at {} nor in $PYREWRITE_PYODIDE_DIR: run scripts/setup.sh \
         (it installs npm pyodide@0.23.4 there)",
        default.display()
    );
}

/// A target profile generated by `pyrewrite target from-pyodide` from
/// [`pyodide_dist`], as users make theirs: written once per test binary, its
/// wasm32 include dir cached under target/ across runs (keyed by its inputs).
pub fn pyodide_target() -> PathBuf {
    static PROFILE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PROFILE
        .get_or_init(|| {
            let profile = scratch("from-pyodide").join("target.json");
            let out = run(driver()
                .args(["target", "from-pyodide"])
                .arg(pyodide_dist())
                .arg("--output")
                .arg(&profile)
                .arg("--cache-dir")
                .arg(artifact_dir().join("test-scratch/from-pyodide-cache")));
            assert_ok(&out, "pyrewrite target from-pyodide");
            profile
        })
        .clone()
}

/// The first of `names` found as a file in a `$PATH` directory (all
/// directories for the first name, then for the next), if any: for optional
/// tools a test uses when installed.
pub fn which(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    names
        .iter()
        .flat_map(|name| dirs.iter().map(move |d| d.join(name)))
        .find(|p| p.is_file())
}

/// `setup.py` of a setuptools project `demo` 1.0 whose one extension, `demo`,
/// is built from `src/demo.c` (the test writes that).
pub const DEMO_SETUP_PY: &str = "from setuptools import setup, Extension\n\
    setup(name='demo', version='1.0', ext_modules=[Extension('demo', ['src/demo.c'])])\n";

/// Cache hits (direct and preprocessed) in `ccache --print-stats` output.
pub fn ccache_hits(stats: &str) -> usize {
    stats
        .lines()
        .filter(|l| {
            l.starts_with("direct_cache_hit\t") || l.starts_with("preprocessed_cache_hit\t")
        })
        .filter_map(|l| l.split('\t').nth(1)?.parse::<usize>().ok())
        .sum()
}
