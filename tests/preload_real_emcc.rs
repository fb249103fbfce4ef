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
    assert!(rw[0].new_argv.as_ref().unwrap()[0].ends_with("emcc"));
    assert!(
        !events
            .iter()
            .any(|e| e.path.contains("clang") || e.path.contains("wasm-ld")),
        "emcc runs without the preload: {events:#?}"
    );
}
