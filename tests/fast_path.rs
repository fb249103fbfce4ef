//! The compile fast path with the real emcc 3.1.6 and an unchanged `pip
//! wheel` of the bundled examples (docs/fast-path.md): the extensions it
//! builds are emcc's byte for byte, cold (learning) and warm; verify mode
//! catches a template that makes other objects; the profile's launcher
//! (ccache) caches every compile of a second build; `explain` shows the
//! clang command once learned.

mod common;
#[path = "e2e_support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::{copy_tree, E2e};

/// `pyrewrite run` of `pip wheel SRC` into `out`, with the fast path in
/// `mode` and its templates under `xdg`.
fn run(e: &E2e, profile: &Path, src: &Path, out: &Path, xdg: &Path, mode: &str) -> Output {
    run_with(e, profile, src, out, xdg, mode, &[])
}

fn run_with(
    e: &E2e,
    profile: &Path,
    src: &Path,
    out: &Path,
    xdg: &Path,
    mode: &str,
    env: &[(&str, &Path)],
) -> Output {
    std::fs::create_dir_all(out).unwrap();
    let out = Command::new(&e.pyrewrite)
        .args(["run", "--target"])
        .arg(profile)
        .arg("--")
        .arg(&e.build_venv_python)
        .args([
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-cache-dir",
        ])
        .arg("-w")
        .arg(out)
        .arg(src)
        .current_dir(out)
        .env("XDG_CACHE_HOME", xdg)
        .env(pyrewrite_protocol::env::FAST_PATH, mode)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    out
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: &Output, what: &str) -> String {
    let text = stderr(o);
    assert!(o.status.success(), "{what}: {}\n{text}", o.status);
    text
}

/// The extension modules of every wheel in `dir`: member name → bytes.
fn extensions(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let unpacked = dir.join("unpacked");
    let _ = std::fs::remove_dir_all(&unpacked);
    let script = "import sys, zipfile, glob, os\n\
        for w in glob.glob(os.path.join(sys.argv[1], '*.whl')):\n\
        \x20   zipfile.ZipFile(w).extractall(sys.argv[2])\n";
    let status = Command::new("python3")
        .args(["-c", script])
        .arg(dir)
        .arg(&unpacked)
        .status()
        .unwrap();
    assert!(status.success());
    let mut found = BTreeMap::new();
    let mut stack = vec![unpacked.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "so") {
                let name = p.strip_prefix(&unpacked).unwrap().display().to_string();
                found.insert(name, std::fs::read(&p).unwrap());
            }
        }
    }
    found
}

/// The count before `label` in the summary line (`3 compile(s) ran emcc's
/// clang directly`), 0 when absent.
fn count(summary: &str, label: &str) -> usize {
    let line = summary
        .lines()
        .find(|l| l.starts_with("pyrewrite: fast path:"))
        .unwrap_or_default();
    line.split(", ")
        .find_map(|part| {
            let part = part.trim_start_matches("pyrewrite: fast path: ");
            part.strip_suffix(label)?.trim().parse().ok()
        })
        .unwrap_or(0)
}

fn fresh(dir: &Path) -> PathBuf {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    dir.to_path_buf()
}

#[test]
fn extensions_built_through_the_fast_path_are_emcc_s_byte_for_byte() {
    let Some(e) = E2e::get() else { return };
    let scratch = e.scratch("fast-path-identical");
    for name in ["multi-ext", "cxx-exceptions"] {
        let src = copy_tree(&e.root.join("examples").join(name), &scratch.join("src"));
        let xdg = fresh(&scratch.join(format!("{name}-xdg")));
        let build = |label: &str, mode: &str| {
            let out = fresh(&scratch.join(format!("{name}-{label}")));
            let _ = std::fs::remove_dir_all(src.join("build"));
            let text = ok(&run(&e, &e.target_json, &src, &out, &xdg, mode), label);
            (extensions(&out), text)
        };
        let (emcc, _) = build("off", "off");
        let (cold, cold_text) = build("cold", "on");
        let (warm, warm_text) = build("warm", "on");
        assert!(!emcc.is_empty(), "{name}: no extension built");
        assert_eq!(
            emcc.keys().collect::<Vec<_>>(),
            cold.keys().collect::<Vec<_>>()
        );
        for (module, bytes) in &emcc {
            assert!(
                cold[module] == *bytes,
                "{name}: {module} differs (cold templates)"
            );
            assert!(
                warm[module] == *bytes,
                "{name}: {module} differs (warm templates)"
            );
        }
        // Cold: each new shape taught by emcc; warm: every compile by clang.
        let learned = count(&cold_text, "taught it a command shape");
        assert!(learned >= 1, "{name}: {cold_text}");
        let warm_fast = count(&warm_text, "compile(s) ran emcc's clang directly");
        let cold_total = learned + count(&cold_text, "compile(s) ran emcc's clang directly");
        assert_eq!(
            warm_fast, cold_total,
            "{name}: cold {cold_text}\nwarm {warm_text}"
        );
        assert_eq!(
            count(&warm_text, "taught it a command shape"),
            0,
            "{warm_text}"
        );
        assert!(!warm_text.contains(" ran emcc ("), "{name}: {warm_text}");
    }
}

#[test]
fn verify_mode_fails_the_build_when_a_template_makes_another_object() {
    let Some(e) = E2e::get() else { return };
    let scratch = e.scratch("fast-path-verify");
    let src = copy_tree(&e.root.join("examples/hello-c"), &scratch.join("src"));
    let xdg = fresh(&scratch.join("xdg"));
    let first = run(
        &e,
        &e.target_json,
        &src,
        &scratch.join("learn"),
        &xdg,
        "verify",
    );
    let text = ok(&first, "learn");
    assert!(count(&text, "taught it a command shape") >= 1, "{text}");
    // Damage every learned template: clang gets `-O0` last (other code).
    let dir = xdg.join("pyrewrite/fast-path");
    let mut damaged = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|x| x == "fast") {
            let mut bytes = std::fs::read(&p).unwrap();
            bytes.extend_from_slice(b"-O0\0");
            std::fs::write(&p, bytes).unwrap();
            damaged += 1;
        }
    }
    assert!(damaged >= 1, "no template in {}", dir.display());
    let _ = std::fs::remove_dir_all(src.join("build"));
    let second = run(
        &e,
        &e.target_json,
        &src,
        &scratch.join("check"),
        &xdg,
        "verify",
    );
    let text = stderr(&second);
    assert_eq!(second.status.code(), Some(2), "{text}");
    assert!(
        text.contains("the fast path's object differs from emcc's for:"),
        "{text}"
    );
    assert!(
        text.contains("0 compile(s) identical to emcc's, "),
        "{text}"
    );
}

#[test]
fn the_profile_s_launcher_caches_every_compile_of_a_second_build() {
    let Some(e) = E2e::get() else { return };
    let ccache = common::which(&["ccache"]).expect("ccache is missing: run scripts/setup.sh");
    let scratch = e.scratch("fast-path-ccache");
    let src = copy_tree(&e.root.join("examples/multi-ext"), &scratch.join("src"));
    let xdg = fresh(&scratch.join("xdg"));
    let ccache_dir = fresh(&scratch.join("ccache"));
    let mut profile: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&e.target_json).unwrap()).unwrap();
    profile["launcher"] = serde_json::json!(["ccache"]);
    // A relative pyodide_dir is relative to the original profile's dir.
    if let Some(dir) = profile["pyodide_dir"].as_str() {
        let dir = e.target_json.parent().unwrap().join(dir);
        profile["pyodide_dir"] = serde_json::json!(dir);
    }
    let profile_path = scratch.join("target.json");
    std::fs::write(&profile_path, profile.to_string()).unwrap();
    let stats = |arg: &str| {
        let o = Command::new(&ccache)
            .arg(arg)
            .env("CCACHE_DIR", &ccache_dir)
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let build = |label: &str| {
        let out = fresh(&scratch.join(label));
        let _ = std::fs::remove_dir_all(src.join("build"));
        let env = [("CCACHE_DIR", ccache_dir.as_path())];
        let o = run_with(&e, &profile_path, &src, &out, &xdg, "on", &env);
        (extensions(&out), ok(&o, label))
    };
    let (first, _) = build("first");
    stats("--zero-stats");
    let (second, text) = build("second");
    let fast = count(&text, "compile(s) ran emcc's clang directly");
    assert!(fast >= 2, "{text}");
    let printed = stats("--print-stats");
    let hits = common::ccache_hits(&printed);
    assert_eq!(
        hits, fast,
        "every compile of the second build is a ccache hit:\n{printed}"
    );
    assert_eq!(first, second, "the same extensions from the cache");
}

#[test]
fn explain_shows_the_clang_command_once_the_shape_is_learned() {
    let Some(e) = E2e::get() else { return };
    let scratch = e.scratch("fast-path-explain");
    std::fs::write(scratch.join("x.c"), "int x(void) { return 1; }\n").unwrap();
    let xdg = fresh(&scratch.join("xdg"));
    let explain = || {
        let o = Command::new(&e.pyrewrite)
            .args(["explain", "--target"])
            .arg(&e.target_json)
            .args(["--", "gcc", "-O2", "-c", "x.c", "-o", "x.o"])
            .current_dir(&scratch)
            .env("XDG_CACHE_HOME", &xdg)
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let before = explain();
    assert!(
        before.contains("fast:   emcc, this time: the first compile"),
        "{before}"
    );
    let out = Command::new(&e.pyrewrite)
        .args(["run", "--quiet", "--target"])
        .arg(&e.target_json)
        .args(["--", "gcc", "-O2", "-c", "x.c", "-o", "x.o"])
        .current_dir(&scratch)
        .env("XDG_CACHE_HOME", &xdg)
        .env(pyrewrite_protocol::env::FAST_PATH, "on")
        .output()
        .unwrap();
    ok(&out, "gcc -c under run");
    let after = explain();
    let line = after
        .lines()
        .find(|l| l.starts_with("fast:"))
        .unwrap_or_default();
    assert!(line.starts_with("fast:   clang (learned): "), "{after}");
    assert!(line.contains("-target wasm32-unknown-emscripten"), "{line}");
    assert!(line.contains(" x.c ") && line.ends_with("-o x.o"), "{line}");
}
