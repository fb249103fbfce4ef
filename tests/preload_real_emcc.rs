//! The real Debian emcc driven through the preload: `gcc -c x.c -o x.o` with
//! the user's default target profile (`$XDG_CONFIG_HOME/pyrewrite/target.json`,
//! no `PYREWRITE_TARGET`) yields a wasm object, and emcc's own children
//! (clang, node, python) run without the preload.

mod common;

use common::*;
use pyrewrite_protocol::Action;

#[test]
fn gcc_becomes_real_emcc_and_produces_wasm() {
    if !std::path::Path::new("/usr/bin/emcc").exists() {
        panic!("/usr/bin/emcc is missing: apt-get install -y emscripten (see scripts/)");
    }
    let dir = scratch("real-emcc");
    std::fs::copy(fixture("hello.c"), dir.join("hello.c")).unwrap();
    let s = Session::new(&dir, None);
    // The default profile; its emcc ("emcc") is looked up on PATH.
    s.write_default_profile("{}");
    let out = run(s.command("sh").arg("-c").arg("gcc -c hello.c -o hello.o"));
    assert_ok(&out, "gcc -c under the preload with real emcc");
    let obj = std::fs::read(dir.join("hello.o")).unwrap();
    assert_eq!(&obj[..4], b"\0asm", "a wasm object, not a native one");
    let events = s.events();
    let rw: Vec<_> = events
        .iter()
        .filter(|e| e.action == Action::Rewrite)
        .collect();
    assert_eq!(
        rw.len(),
        1,
        "only gcc is rewritten; emcc's children are not seen: {events:#?}"
    );
    // The fast path is on by default: pyrewrite-cc runs the compile (emcc,
    // this first time, to learn its clang command).
    let new_argv = rw[0].new_argv.as_ref().unwrap();
    assert!(new_argv[0].ends_with("/pyrewrite-cc"), "{new_argv:?}");
    assert_eq!(new_argv[1], "emcc", "{new_argv:?}");
    assert!(
        !events
            .iter()
            .any(|e| e.path.contains("clang") || e.path.contains("wasm-ld")),
        "emcc runs without the preload: {events:#?}"
    );
}

/// `ccache gcc …` (CMake's compiler launcher, `CC="ccache gcc"`): the cache
/// must run the rewritten command, so it keys on emcc and never hands a wasm
/// object to a later native build (nor a native one to a wasm build), and a
/// second wasm build of the same source hits the cache (docs/backends.md).
/// With the fast path (on by default), ccache launches emcc's clang command.
#[test]
fn ccache_launching_gcc_caches_wasm_apart_from_native() {
    let ccache = which(&["ccache"]).expect("ccache is missing: run scripts/setup.sh");
    let dir = scratch("real-emcc-ccache");
    std::fs::copy(fixture("hello.c"), dir.join("hello.c")).unwrap();
    let cache_dir = dir.join("ccache");
    let s = Session::new(&dir, None);
    s.write_default_profile("{}");
    let compile = |out: &str, under_preload: bool| {
        let script = format!("{} gcc -c hello.c -o {out}", ccache.display());
        let mut cmd = if under_preload {
            s.command("sh")
        } else {
            let mut c = std::process::Command::new("sh");
            c.current_dir(&dir).env_remove("LD_PRELOAD");
            c
        };
        cmd.args(["-c", &script]).env("CCACHE_DIR", &cache_dir);
        assert_ok(&run(&mut cmd), &script);
        std::fs::read(dir.join(out)).unwrap()
    };
    let magic = |b: &[u8]| b[..4].to_vec();
    // The first compile of this command's shape runs emcc (the fast path
    // learns its clang command, and proves it through ccache); ccache
    // launches clang from the next on.
    assert_eq!(magic(&compile("wasm0.o", true)), b"\0asm");
    assert_eq!(magic(&compile("wasm1.o", true)), b"\0asm");
    assert_eq!(
        magic(&compile("native.o", false)),
        b"\x7fELF",
        "native build got a cached wasm object"
    );
    assert_eq!(
        magic(&compile("wasm2.o", true)),
        b"\0asm",
        "wasm build got a cached native object"
    );
    let stats = std::process::Command::new(&ccache)
        .arg("--print-stats")
        .env("CCACHE_DIR", &cache_dir)
        .output()
        .unwrap();
    let stats = String::from_utf8_lossy(&stats.stdout);
    // wasm0's proving compile (clang from the learned template, behind the
    // launcher) filled the cache: wasm1 and wasm2 hit it.
    let hits = common::ccache_hits(&stats);
    assert_eq!(hits, 2, "the second wasm compile hits the cache:\n{stats}");
    let rw: Vec<_> = s
        .events()
        .into_iter()
        .filter(|e| e.action == Action::Rewrite)
        .collect();
    assert_eq!(rw.len(), 3, "every wasm compile rewritten at the launcher");
    for e in &rw {
        let new_argv = e.new_argv.as_ref().unwrap();
        assert!(new_argv[0].ends_with("/pyrewrite-cc"), "{new_argv:?}");
        assert_eq!(new_argv[1], "emcc", "{new_argv:?}");
    }
    for (a, b) in [("wasm0.o", "wasm1.o"), ("wasm0.o", "wasm2.o")] {
        assert_eq!(
            std::fs::read(dir.join(a)).unwrap(),
            std::fs::read(dir.join(b)).unwrap(),
            "emcc's object ({a}) and clang's through ccache ({b}) are the same bytes"
        );
    }
}
