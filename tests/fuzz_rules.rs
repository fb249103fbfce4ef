//! Property tests of the rules engine (RELIABILITY.md, "Fuzzing"): argv and
//! response files of arbitrary bytes never make `decide`, `explain` or
//! `read_command` panic and always give the same answer; compiler command
//! lines built from real host flags never come out holding the host's
//! include or library directories, CPU flags or linker items (docs/rules.md,
//! "Dropped"); Emscripten's own tools always run unchanged; `-fopenmp`
//! anywhere is refused; response files read back as written.
//!
//! A fixed budget here; `PROPTEST_CASES=100000 cargo test --test fuzz_rules`
//! runs longer.

use proptest::prelude::*;
use pyrewrite_rules::command::read_command;
use pyrewrite_rules::{decide, explain, response_file, Decision, Target, Tool};
use std::collections::HashMap;

/// Cases per property in the normal suite (`PROPTEST_CASES` overrides).
const CASES: u32 = 256;

fn config() -> ProptestConfig {
    let mut c = ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = CASES;
    }
    c
}

fn profile() -> Target {
    Target {
        python_include: Some("/pyodide/include/python3.11".into()),
        host_python_includes: vec!["/opt/py/include/python3.11".into()],
        ..Target::default()
    }
}

/// Tokens that steer the engine into its branches, mixed with raw bytes.
const TOKENS: &[&str] = &[
    "-c",
    "-E",
    "-S",
    "-M",
    "-MM",
    "-MD",
    "-MF",
    "-MJ",
    "-o",
    "-x",
    "c++",
    "c-header",
    "none",
    "-I",
    "-L",
    "-l",
    "-isystem",
    "-iquote",
    "-include",
    "-Wl,",
    "-Wl,-rpath,/x",
    "-Xlinker",
    "-shared",
    "-r",
    "-fopenmp",
    "-Xpreprocessor",
    "-target",
    "wasm32",
    "-cc1",
    "-mllvm",
    "--param",
    "-B",
    "-specs=x",
    "-m64",
    "-Ofast",
    "-print-multiarch",
    "-dumpmachine",
    "--version",
    "@",
    "@rsp",
    "@missing",
    "-",
    "a.c",
    "b.cpp",
    "x.h",
    "x.o",
    "libx.a",
    "x.so",
    "m.so.1",
    "/usr/include",
    "/usr/include/python3.11",
    "-(",
    "-)",
    "--plugin",
    "setup",
    "--cross-file",
    "-DCMAKE_TOOLCHAIN_FILE=x",
    "-S.",
    "-B",
    "build",
    "'",
    "\"",
    "\\",
    "=",
    ",",
];

fn token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => prop::sample::select(TOKENS).prop_map(|t| t.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..12),
        1 => (prop::sample::select(TOKENS), prop::collection::vec(any::<u8>(), 0..4))
            .prop_map(|(t, tail)| [t.as_bytes(), &tail].concat()),
    ]
}

const PROGRAMS: &[&str] = &[
    "/usr/bin/gcc",
    "x86_64-linux-gnu-g++",
    "clang-14",
    "cc",
    "cpp",
    "/usr/bin/ld",
    "ar",
    "gcc-ranlib",
    "strip",
    "meson",
    "/usr/bin/python3",
    "cmake",
    "ccache",
    "/usr/bin/emcc",
    "/bin/sh",
];

fn program() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::sample::select(PROGRAMS).prop_map(|p| p.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..16),
    ]
}

/// Response files by name: `rsp` and raw names, contents of tokens and bytes.
fn files() -> impl Strategy<Value = HashMap<Vec<u8>, Vec<u8>>> {
    let contents = prop_oneof![
        prop::collection::vec(token(), 0..12).prop_map(|ts| ts.join(&b' ')),
        prop::collection::vec(any::<u8>(), 0..64),
    ];
    prop::collection::hash_map(
        prop_oneof![
            Just(b"rsp".to_vec()),
            prop::collection::vec(any::<u8>(), 0..6)
        ],
        contents,
        0..3,
    )
}

fn reader(files: &HashMap<Vec<u8>, Vec<u8>>) -> impl Fn(&[u8]) -> Option<Vec<u8>> + '_ {
    move |name| files.get(name).cloned()
}

proptest! {
    #![proptest_config(config())]

    /// Arbitrary argv and response files: no panic, the same decision twice,
    /// `explain` decides exactly as `decide`, and `read_command` (the
    /// driver's reader) neither panics nor varies, for every tool.
    #[test]
    fn decisions_never_panic_and_are_deterministic(
        path in program(),
        args in prop::collection::vec(token(), 0..20),
        files in files(),
    ) {
        let target = profile();
        let read = reader(&files);
        let mut argv: Vec<&[u8]> = vec![path.as_slice()];
        argv.extend(args.iter().map(Vec::as_slice));
        let first = decide(&path, &argv, &target, &read);
        prop_assert_eq!(&first, &decide(&path, &argv, &target, &read));
        prop_assert_eq!(&first, &explain(&path, &argv, &target, &read).decision);
        if let Decision::Rewrite { files: written, .. } = &first {
            for (name, _) in written {
                // A copy never overwrites a file the build wrote.
                prop_assert!(!files.contains_key(name), "{:?}", String::from_utf8_lossy(name));
            }
        }
        for tool in Tool::ALL {
            let c = read_command(tool, &argv, &read);
            prop_assert_eq!(c, read_command(tool, &argv, &read));
        }
    }

    /// Whatever the arguments, a program inside an Emscripten tree runs
    /// unchanged (emcc's own clang, wasm-ld, llvm-ar), a compiler cache
    /// there too (`classify_command`).
    #[test]
    fn emscriptens_own_tools_always_pass_through(
        dir in prop::sample::select(&["/usr/share/emscripten/", "/opt/emsdk/upstream/bin/",
                                       "/home/u/emsdk-3.1.6/upstream/emscripten/"][..]),
        name in prop::sample::select(PROGRAMS),
        args in prop::collection::vec(token(), 0..16),
        files in files(),
    ) {
        let base = name.rsplit('/').next().unwrap();
        let path = format!("{dir}{base}").into_bytes();
        let mut argv: Vec<&[u8]> = vec![path.as_slice()];
        argv.extend(args.iter().map(Vec::as_slice));
        prop_assert_eq!(decide(&path, &argv, &profile(), &reader(&files)), Decision::Passthrough);
    }
}

/// One unit of a host compiler command line: a flag, or a flag and its value.
#[derive(Debug, Clone)]
struct Unit {
    args: Vec<&'static str>,
    /// Whether the rules drop or replace it (it must not reach emcc).
    host: bool,
}

fn unit() -> impl Strategy<Value = Unit> {
    const HOST: &[&[&str]] = &[
        &["-I/usr/include"],
        &["-I/usr/include/x86_64-linux-gnu"],
        &["-I/usr/local/include/foo"],
        &["-I", "/usr/include/glib-2.0"],
        &["-isystem", "/usr/include"],
        &["-idirafter", "/usr/include"],
        &["-I/usr/include/python3.11"],
        &["-I", "/usr/include/python3.12"],
        &["-I/opt/py/include/python3.11"],
        &["-L/usr/lib/x86_64-linux-gnu"],
        &["-L/lib64"],
        &["-L", "/usr/lib"],
        &["-pthread"],
        &["-m64"],
        &["-march=native"],
        &["-msse4.2"],
        &["-flto=auto"],
        &["-ffat-lto-objects"],
        &["-fcf-protection"],
        &["-fstack-clash-protection"],
        &["-fuse-ld=gold"],
        &["-Wl,-rpath,/usr/lib"],
        &["-Wl,-O1"],
        &["-Wl,--as-needed"],
        &["-Wl,-z,relro"],
        &["-lgcc_s"],
        &["-lpython3.11"],
        &["--sysroot=/"],
        &["-specs=/usr/share/dpkg/no-pie-compile.specs"],
    ];
    const PLAIN: &[&[&str]] = &[
        &["-O2"],
        &["-g"],
        &["-Wall"],
        &["-DNDEBUG"],
        &["-DX=1"],
        &["-Iinclude"],
        &["-I", "src"],
        &["-fPIC"],
        &["-std=c99"],
        &["-fno-strict-aliasing"],
        &["-fwrapv"],
        &["-Wno-unused-result"],
        &["-MD"],
        &["-MF", "dep.d"],
        &["-lm"],
        &["-Llocal/lib"],
    ];
    prop_oneof![
        prop::sample::select(HOST).prop_map(|a| Unit {
            args: a.to_vec(),
            host: true
        }),
        prop::sample::select(PLAIN).prop_map(|a| Unit {
            args: a.to_vec(),
            host: false
        }),
    ]
}

/// What must not reach emcc, argument by argument (`prev` the one before).
fn host_leak(prev: &[u8], arg: &[u8]) -> bool {
    const PREFIXES: &[&str] = &[
        "-I/usr/include",
        "-I/usr/local/include",
        "-I/opt/py/include",
        "-isystem/usr/include",
        "-L/usr/lib",
        "-L/lib",
        "-pthread",
        "-m64",
        "-march",
        "-msse",
        "-flto",
        "-ffat-lto",
        "-fcf-protection",
        "-fstack-clash",
        "-fuse-ld",
        "-lgcc_s",
        "-lpython",
        "--sysroot",
        "-specs",
    ];
    let a = String::from_utf8_lossy(arg);
    let host_dir = a.starts_with("/usr/include")
        || a.starts_with("/usr/lib")
        || a.starts_with("/usr/local/include");
    let value_of = matches!(prev, b"-I" | b"-isystem" | b"-idirafter" | b"-L");
    PREFIXES.iter().any(|p| a.starts_with(p))
        || (value_of && host_dir)
        || (a.starts_with("-Wl,")
            && ["rpath", "-O1", "--as-needed", "-z", "relro"]
                .iter()
                .any(|i| a.contains(i)))
}

const COMPILERS: &[&str] = &[
    "/usr/bin/gcc",
    "x86_64-linux-gnu-gcc",
    "cc",
    "clang-14",
    "/usr/bin/g++",
    "x86_64-linux-gnu-g++",
    "clang++",
];

proptest! {
    #![proptest_config(config())]

    /// A compile or link made of real host flags (some inside a response
    /// file) is rewritten to emcc/em++ and keeps none of the host's include
    /// and library dirs, CPU, LTO or hardening flags, or linker items; the
    /// host Python include becomes the profile's, once; the build's other
    /// flags stay.
    #[test]
    fn host_flags_never_reach_emcc(
        compiler in prop::sample::select(COMPILERS),
        units in prop::collection::vec(unit(), 0..14),
        in_file in prop::collection::vec(any::<bool>(), 14),
        compile in any::<bool>(),
        shared in any::<bool>(),
    ) {
        let mut argv: Vec<Vec<u8>> = vec![compiler.as_bytes().to_vec()];
        let mut rsp: Vec<Vec<u8>> = Vec::new();
        for (u, inside) in units.iter().zip(&in_file) {
            let dest = if *inside { &mut rsp } else { &mut argv };
            dest.extend(u.args.iter().map(|a| a.as_bytes().to_vec()));
        }
        if compile {
            argv.extend([b"-c".to_vec(), b"a.c".to_vec(), b"-o".to_vec(), b"a.o".to_vec()]);
        } else {
            if shared {
                argv.push(b"-shared".to_vec());
            }
            argv.extend([b"a.o".to_vec(), b"-o".to_vec(), b"m.so".to_vec()]);
        }
        if !rsp.is_empty() {
            argv.push(b"@args.rsp".to_vec());
        }
        let contents = response_file::serialize(&rsp);
        let read = |p: &[u8]| (p == b"args.rsp").then(|| contents.clone());
        let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        let decision = decide(compiler.as_bytes(), &refs, &profile(), &read);
        let Decision::Rewrite { argv: out, files, .. } = decision else {
            return Err(TestCaseError::fail(format!("not a rewrite: {decision:?}")));
        };
        let program = String::from_utf8_lossy(&out[0]).into_owned();
        prop_assert!(program == "emcc" || program == "em++", "{}", program);
        // Everything emcc reads: its argv, and the rewritten response files.
        let mut seen: Vec<Vec<u8>> = out.clone();
        for (_, text) in &files {
            seen.extend(response_file::parse(text));
        }
        let mut prev: &[u8] = b"";
        for a in &seen {
            prop_assert!(!host_leak(prev, a), "{:?} reached emcc: {:?}",
                String::from_utf8_lossy(a),
                seen.iter().map(|s| String::from_utf8_lossy(s)).collect::<Vec<_>>());
            prev = a;
        }
        // The build's own flags that are no host matter stay.
        for u in units.iter().filter(|u| !u.host) {
            for a in &u.args {
                prop_assert!(seen.iter().any(|s| s.as_slice() == a.as_bytes()), "{} was dropped", a);
            }
        }
        let python = units.iter().any(|u| u.args.iter().any(|a| a.contains("include/python3")));
        // Joined (`-I/pyodide/...`) or split (`-I`, `/pyodide/...`), as given.
        let replaced = seen.iter().filter(|a| a.ends_with(b"/pyodide/include/python3.11")).count();
        prop_assert_eq!(replaced, usize::from(python));
    }

    /// `-fopenmp` anywhere in a C/C++ compile, in argv or in a response
    /// file, is refused: Pyodide has no threads.
    #[test]
    fn openmp_anywhere_is_refused(
        compiler in prop::sample::select(COMPILERS),
        units in prop::collection::vec(unit(), 0..10),
        at in any::<prop::sample::Index>(),
        in_file in any::<bool>(),
        spelling in prop::sample::select(&["-fopenmp", "-fopenmp=libomp"][..]),
    ) {
        let mut flags: Vec<Vec<&str>> = units.iter().map(|u| u.args.clone()).collect();
        flags.insert(at.index(flags.len() + 1), vec![spelling]);
        let flat: Vec<Vec<u8>> = flags.concat().iter().map(|a| a.as_bytes().to_vec()).collect();
        let mut argv: Vec<Vec<u8>> = vec![compiler.as_bytes().to_vec()];
        let contents = response_file::serialize(&flat);
        if in_file {
            argv.push(b"@omp.rsp".to_vec());
        } else {
            argv.extend(flat);
        }
        argv.extend([b"-c".to_vec(), b"a.c".to_vec()]);
        let read = |p: &[u8]| (p == b"omp.rsp").then(|| contents.clone());
        let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        let d = decide(compiler.as_bytes(), &refs, &profile(), &read);
        prop_assert!(matches!(d, Decision::Refuse { exit_code: 1, .. }), "{:?}", d);
    }

    /// The copy of a response file reads back as the arguments written
    /// (GCC's rules; no backslash, which the module table excludes), and
    /// is named by its contents, next to and never over the original.
    #[test]
    fn response_files_read_back_as_written(
        args in prop::collection::vec(
            prop::collection::vec(any::<u8>().prop_filter("no backslash", |b| *b != b'\\'), 0..12),
            0..10),
        original in "[a-z/._-]{1,20}",
    ) {
        let text = response_file::serialize(&args);
        prop_assert_eq!(response_file::parse(&text), args);
        let copy = response_file::copy_path(original.as_bytes(), &text);
        prop_assert_eq!(&copy, &response_file::copy_path(original.as_bytes(), &text));
        prop_assert!(copy.starts_with(original.as_bytes()) && copy.ends_with(b".rsp"));
        prop_assert_ne!(copy.as_slice(), original.as_bytes());
    }
}
