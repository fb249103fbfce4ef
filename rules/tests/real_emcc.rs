//! The rewritten commands are accepted by the real emcc 3.1.6 and produce
//! wasm: objects start with `\0asm`, and shared links are side modules whose
//! first section is the `dylink.0` custom section Pyodide's loader reads.
//! Without /usr/bin/emcc these tests fail, naming what to install: a test
//! never passes without what it proves (the project's one missing-prerequisite
//! policy, docs/e2e.md "Prerequisites").

use pyrewrite_rules::{decide, Decision, Target};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const EMCC: &str = "/usr/bin/emcc";

/// Fails the test, naming the fix, when the real emcc is absent.
fn require_emcc() {
    assert!(
        Path::new(EMCC).exists(),
        "{EMCC} is missing: run scripts/setup.sh (it installs Debian's `emscripten`)"
    );
}

fn target() -> Target {
    Target {
        emcc: EMCC.into(),
        emxx: "/usr/bin/em++".into(),
        emar: "/usr/bin/emar".into(),
        emranlib: "/usr/bin/emranlib".into(),
        ..Target::default()
    }
}

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh directory per test (tests run in parallel threads of one process).
fn scratch(test: &str) -> Dir {
    let dir =
        std::env::temp_dir().join(format!("pyrewrite-real-emcc-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.c"), "int add(int a, int b) { return a + b; }\n").unwrap();
    std::fs::write(
        dir.join("b.cpp"),
        "#include <stdexcept>\nextern \"C\" int safe(int x) {\n  try { if (x < 0) throw std::runtime_error(\"neg\"); return x; }\n  catch (const std::exception&) { return -1; }\n}\n",
    )
    .unwrap();
    Dir(dir)
}

/// Decide on `cmd` (whitespace-split) as if the build ran it in `dir`, run
/// what the rules say, and return the exit status and stdout.
fn run_rewritten(dir: &Path, cmd: &str) -> (bool, Vec<u8>) {
    let args: Vec<&str> = cmd.split_whitespace().collect();
    let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    let read = |p: &[u8]| std::fs::read(dir.join(OsStr::from_bytes(p))).ok();
    let decision = decide(args[0].as_bytes(), &argv, &target(), &read);
    let Decision::Rewrite { argv, files, .. } = decision else {
        panic!("`{cmd}` was not rewritten: {decision:?}")
    };
    for (path, contents) in files {
        std::fs::write(dir.join(OsStr::from_bytes(&path)), contents).unwrap();
    }
    let out = Command::new(OsStr::from_bytes(&argv[0]))
        .args(argv[1..].iter().map(|a| OsStr::from_bytes(a)))
        .current_dir(dir)
        .output()
        .unwrap();
    if !out.status.success() {
        eprintln!(
            "`{}` failed:\n{}",
            argv.iter()
                .map(|a| String::from_utf8_lossy(a))
                .collect::<Vec<_>>()
                .join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    (out.status.success(), out.stdout)
}

fn read_leb(bytes: &[u8], pos: &mut usize) -> usize {
    let (mut value, mut shift) = (0usize, 0);
    loop {
        let b = bytes[*pos];
        *pos += 1;
        value |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return value;
        }
        shift += 7;
    }
}

fn assert_wasm(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        bytes.starts_with(b"\0asm"),
        "{} is not wasm",
        path.display()
    );
    bytes
}

/// The name of the first section, which must be a custom section.
fn first_custom_section(bytes: &[u8]) -> String {
    assert_eq!(bytes[8], 0, "first section is not a custom section");
    let mut pos = 9;
    let _size = read_leb(bytes, &mut pos);
    let len = read_leb(bytes, &mut pos);
    String::from_utf8_lossy(&bytes[pos..pos + len]).into_owned()
}

#[test]
fn rewritten_commands_build_wasm_side_modules_with_real_emcc() {
    require_emcc();
    let dir = scratch("side-modules");
    let d = dir.0.as_path();

    // setuptools under Debian's python3, with every host flag the rules must remove.
    let compile = "x86_64-linux-gnu-gcc -pthread -Wsign-compare -DNDEBUG -g -fwrapv -O2 -Wall \
        -fstack-protector-strong -Wformat -Werror=format-security -fcf-protection \
        -fstack-clash-protection -m64 -march=x86-64 -mtune=generic -msse2 -flto=auto \
        -ffat-lto-objects -fPIC -I/usr/include/python3.11 -I/usr/include -c a.c -o a.o";
    assert!(run_rewritten(d, compile).0);
    assert_wasm(&d.join("a.o"));

    let link = "x86_64-linux-gnu-gcc -pthread -shared -Wl,-O1 -Wl,-Bsymbolic-functions \
        -Wl,--as-needed -Wl,--no-undefined -Wl,-z,relro -Wl,-z,now -Wl,--strip-all \
        -Wl,--hash-style=gnu -Wl,--build-id=sha1 -Wl,-rpath,/opt/lib -Wl,-soname,a.so \
        -L/usr/lib/x86_64-linux-gnu a.o -lpython3.11 -o a.cpython-311-x86_64-linux-gnu.so";
    assert!(run_rewritten(d, link).0);
    let so = assert_wasm(&d.join("a.cpython-311-x86_64-linux-gnu.so"));
    assert_eq!(first_custom_section(&so), "dylink.0");

    // C++ through g++, compile and link (meson style, with start/end group).
    assert!(run_rewritten(d, "g++ -O3 -fPIC -std=gnu++17 -c b.cpp -o b.o").0);
    assert_wasm(&d.join("b.o"));
    let cxx_link = "c++ -o b.so b.o -Wl,--as-needed -Wl,--allow-shlib-undefined -shared -fPIC \
        -Wl,--start-group -Wl,-soname,b.so -Wl,--end-group";
    assert!(run_rewritten(d, cxx_link).0);
    let b_so = assert_wasm(&d.join("b.so"));
    assert_eq!(first_custom_section(&b_so), "dylink.0");
    // The profile's -fexceptions reached compile and link: the try/catch is
    // real (invoke_* imports), not em++ 3.1.6's default -fignore-exceptions.
    assert!(
        b_so.windows(b"invoke_".len()).any(|w| w == b"invoke_"),
        "b.so has no invoke_ imports: C++ exceptions are not caught"
    );

    // A versioned shared library (cmake), linked from a response file.
    std::fs::write(
        d.join("link.rsp"),
        "-shared -Wl,-soname,libv.so.1 a.o -o libv.so.1.2\n",
    )
    .unwrap();
    assert!(run_rewritten(d, "/usr/bin/cc -fPIC -O3 @link.rsp").0);
    assert_eq!(
        first_custom_section(&assert_wasm(&d.join("libv.so.1.2"))),
        "dylink.0"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("link.rsp")).unwrap(),
        "-shared -Wl,-soname,libv.so.1 a.o -o libv.so.1.2\n",
        "the original response file is untouched"
    );

    // Raw ld.
    assert!(
        run_rewritten(
            d,
            "ld -shared -o c.so a.o --no-undefined -z defs -m elf_x86_64"
        )
        .0
    );
    assert_eq!(
        first_custom_section(&assert_wasm(&d.join("c.so"))),
        "dylink.0"
    );

    // Archives: ar + ranlib run emar + emranlib.
    assert!(run_rewritten(d, "/usr/bin/ar qc libx.a a.o").0);
    assert!(run_rewritten(d, "/usr/bin/ranlib libx.a").0);
    assert!(std::fs::read(d.join("libx.a"))
        .unwrap()
        .starts_with(b"!<arch>\n"));

    // cpp preprocesses.
    let (ok, out) = run_rewritten(d, "cpp a.c");
    assert!(ok && String::from_utf8_lossy(&out).contains("int add(int a, int b)"));
}

/// meson bundles an uninstalled static library into an installed one that
/// links it, and then links both archives into the extension (nanoarrow:
/// libnanoarrow_ipc.a and libflatcc.a both hold flatcc's builder.c.o). Native
/// `ld` takes each needed member once; emcc 3.1.6's `SIDE_MODULE=1` link
/// takes every member of every archive. The rewrite must link like native.
#[test]
fn shared_link_takes_archive_members_as_native_ld_does() {
    require_emcc();
    let dir = scratch("archives");
    let d = dir.0.as_path();
    std::fs::write(d.join("dup.c"), "int f(void) { return 1; }\n").unwrap();
    std::fs::write(
        d.join("use.c"),
        "int f(void);\nint h(void) { return f(); }\n",
    )
    .unwrap();
    std::fs::write(
        d.join("ext.c"),
        "int h(void);\nint api(void) { return h(); }\n",
    )
    .unwrap();
    for c in ["dup", "use", "ext"] {
        assert!(run_rewritten(d, &format!("cc -fPIC -c {c}.c -o {c}.o")).0);
    }
    assert!(run_rewritten(d, "ar rcs libbundle.a use.o dup.o").0);
    assert!(run_rewritten(d, "ar rcs libdup.a dup.o").0);
    let link = "cc -o ext.so ext.o -shared -fPIC -Wl,--start-group libbundle.a libdup.a \
        -Wl,--end-group";

    // The control: emcc's own side-module link of the same inputs fails.
    let control = Command::new(EMCC)
        .args(["-shared", "-sSIDE_MODULE=1", "-o", "control.so", "ext.o"])
        .args([
            "-Wl,--start-group",
            "libbundle.a",
            "libdup.a",
            "-Wl,--end-group",
        ])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(
        !control.status.success()
            && String::from_utf8_lossy(&control.stderr).contains("duplicate symbol: f"),
        "emcc without the rewrite no longer fails on duplicate archive members: {}",
        String::from_utf8_lossy(&control.stderr)
    );

    assert!(run_rewritten(d, link).0, "the rewritten link failed");
    assert_eq!(
        first_custom_section(&assert_wasm(&d.join("ext.so"))),
        "dylink.0"
    );
    // And an explicit --whole-archive the build asks for still applies: the
    // unreferenced member `unused` is then linked (and exported).
    std::fs::write(
        d.join("unused.c"),
        "int unused_marker(void) { return 7; }\n",
    )
    .unwrap();
    assert!(run_rewritten(d, "cc -fPIC -c unused.c -o unused.o").0);
    assert!(run_rewritten(d, "ar rcs libunused.a unused.o").0);
    assert!(
        run_rewritten(
            d,
            "cc -shared -o all.so ext.o libbundle.a -Wl,--whole-archive libunused.a \
             -Wl,--no-whole-archive"
        )
        .0
    );
    assert!(run_rewritten(d, "cc -shared -o some.so ext.o libbundle.a libunused.a").0);
    let has = |p: &str| {
        let b = std::fs::read(d.join(p)).unwrap();
        b.windows(b"unused_marker".len())
            .any(|w| w == b"unused_marker")
    };
    assert!(
        has("all.so"),
        "--whole-archive from the build was not honoured"
    );
    assert!(!has("some.so"), "an unreferenced archive member was linked");
}
