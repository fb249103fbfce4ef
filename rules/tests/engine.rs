//! Behaviour that a one-line table cannot show: response files, byte-exact
//! non-UTF-8 arguments, explanations, and that no argv makes the engine panic.

use pyrewrite_rules::command::read_command;
use pyrewrite_rules::{classify, decide, explain, response_file, Decision, Target, Tool};

fn profile() -> Target {
    Target {
        python_include: Some("/pyodide/include/python3.11".into()),
        ..Target::default()
    }
}

fn bytes(args: &[&str]) -> Vec<Vec<u8>> {
    args.iter().map(|a| a.as_bytes().to_vec()).collect()
}

fn run(path: &str, argv: &[&str], read: &dyn Fn(&[u8]) -> Option<Vec<u8>>) -> Decision {
    let argv: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
    decide(path.as_bytes(), &argv, &profile(), read)
}

#[test]
fn response_file_contents_are_rewritten_into_a_copy() {
    let read = |p: &[u8]| {
        (p == b"obj/args.rsp").then(|| {
            b"-pthread -I/usr/include/python3.11 -c 'src dir/a.c'\n-o obj/a.o -Wl,-O1".to_vec()
        })
    };
    let d = run("/usr/bin/gcc", &["gcc", "-DX", "@obj/args.rsp"], &read);
    let Decision::Rewrite { argv, files, .. } = d else {
        panic!("not a rewrite: {d:?}")
    };
    assert_eq!(files.len(), 1);
    let (path, contents) = &files[0];
    assert!(path.starts_with(b"obj/args.rsp.pyrewrite-"), "{path:?}");
    assert_ne!(
        path.as_slice(),
        b"obj/args.rsp",
        "the original is never overwritten"
    );
    assert_eq!(
        response_file::parse(contents),
        bytes(&[
            "-I/pyodide/include/python3.11",
            "-c",
            "src dir/a.c",
            "-o",
            "obj/a.o"
        ])
    );
    let mut at = b"@".to_vec();
    at.extend_from_slice(path);
    // `-c` inside the file made it a compile: compile flags only, no link flags.
    assert_eq!(
        argv,
        [
            bytes(&["emcc", "-DX"]),
            vec![at],
            bytes(&[
                "-Werror=implicit-function-declaration",
                "-Werror=mismatched-parameter-types",
                "-Werror=return-type",
                "-O2",
                "-g0",
                "-fPIC"
            ])
        ]
        .concat()
    );
    // Same input, same copy: deterministic.
    assert_eq!(
        run("/usr/bin/gcc", &["gcc", "-DX", "@obj/args.rsp"], &read),
        Decision::Rewrite {
            tool: Tool::Cc,
            argv,
            files,
            env: Vec::new(),
        }
    );
}

#[test]
fn a_shared_link_in_a_response_file_becomes_a_side_module() {
    let read = |_: &[u8]| Some(b"-shared a.o b.o -o libx.so -Wl,--no-undefined".to_vec());
    let Decision::Rewrite { argv, files, .. } = run("/usr/bin/c++", &["c++", "@link.rsp"], &read)
    else {
        panic!("not a rewrite")
    };
    assert_eq!(
        response_file::parse(&files[0].1),
        bytes(&["-shared", "a.o", "b.o", "-o", "libx.so"])
    );
    assert_eq!(argv[0], b"em++");
    assert!(argv.ends_with(&bytes(&[
        "-fexceptions",
        "-sSIDE_MODULE=1",
        "-sWASM_BIGINT"
    ])));
}

#[test]
fn an_unreadable_response_file_is_left_alone() {
    let d = run(
        "/usr/bin/gcc",
        &["gcc", "@missing.rsp", "-c", "a.c"],
        &|_| None,
    );
    let Decision::Rewrite { argv, files, .. } = d else {
        panic!("not a rewrite")
    };
    assert!(files.is_empty());
    assert_eq!(argv[..4], bytes(&["emcc", "@missing.rsp", "-c", "a.c"])[..]);
}

#[test]
fn openmp_in_a_response_file_is_refused() {
    let read = |_: &[u8]| Some(b"-fopenmp -c a.c".to_vec());
    let d = run("/usr/bin/gcc", &["gcc", "@f"], &read);
    let Decision::Refuse {
        message, exit_code, ..
    } = d
    else {
        panic!("not refused: {d:?}")
    };
    assert_eq!(exit_code, 1);
    assert!(
        message.contains("-fopenmp") && message.contains("threads"),
        "{message}"
    );
}

#[test]
fn non_utf8_arguments_pass_byte_exact() {
    let name: &[u8] = b"src/\xff\xfe caf\xe9.c";
    let argv: Vec<&[u8]> = vec![b"gcc", b"-c", name, b"-D\x80=1"];
    let d = decide(b"/usr/bin/gcc", &argv, &profile(), &|_| None);
    let Decision::Rewrite { argv: out, .. } = d else {
        panic!("not a rewrite")
    };
    assert_eq!(
        out[1..4],
        [b"-c".to_vec(), name.to_vec(), b"-D\x80=1".to_vec()]
    );
}

#[test]
fn explain_says_what_was_dropped_and_added() {
    let argv: Vec<&[u8]> = vec![
        b"x86_64-linux-gnu-gcc",
        b"-shared",
        b"-Wl,-O1",
        b"-Wl,-Bsymbolic-functions",
        b"x.o",
        b"-L/usr/lib/x86_64-linux-gnu",
        b"-o",
        b"x.cpython-311-x86_64-linux-gnu.so",
    ];
    let e = explain(b"/usr/bin/x86_64-linux-gnu-gcc", &argv, &profile(), &|_| {
        None
    });
    assert_eq!(e.reason, "C shared link → wasm side module → emcc");
    let notes = e.notes.join("\n");
    for needle in [
        "dropped linker item `-O1` of `-Wl,`",
        "dropped linker item `-Bsymbolic-functions` of `-Wl,`",
        "dropped `-L/usr/lib/x86_64-linux-gnu`",
        "added: -O2 -g0 -sSIDE_MODULE=1 -sWASM_BIGINT",
    ] {
        assert!(notes.contains(needle), "missing {needle:?} in:\n{notes}");
    }
    let e = explain(b"/usr/bin/python3", &[b"python3"], &profile(), &|_| None);
    assert_eq!(e.decision, Decision::Passthrough);
    assert!(e.notes.is_empty());
}

#[test]
fn without_a_target_include_the_host_one_is_dropped_not_kept() {
    let argv: Vec<&[u8]> = vec![b"gcc", b"-I/usr/include/python3.11", b"-c", b"x.c"];
    let d = decide(b"/usr/bin/gcc", &argv, &Target::default(), &|_| None);
    let Decision::Rewrite { argv, .. } = d else {
        panic!()
    };
    assert!(!argv.iter().any(|a| a.starts_with(b"-I")), "{argv:?}");
}

#[test]
fn decision_helpers() {
    let d = run("/usr/bin/gcc", &["gcc", "-dumpmachine"], &|_| None);
    assert_eq!(d.action_name(), "answer");
    assert_eq!(d.tool(), Some(Tool::Cc));
    assert!(d.reason().unwrap().contains("wasm32-unknown-emscripten"));
    assert_eq!(Decision::Passthrough.action_name(), "passthrough");
    assert_eq!(Decision::Passthrough.tool(), None);
}

// ---- no argv makes the engine panic ----

/// Every decision must be one of the four, well-formed.
fn check_well_formed(d: &Decision) {
    match d {
        Decision::Passthrough => {}
        Decision::Rewrite { argv, .. } => assert!(!argv.is_empty() && !argv[0].is_empty()),
        Decision::Answer { exit_code, .. } => assert_eq!(*exit_code, 0),
        Decision::Refuse { exit_code, .. } => assert_eq!(*exit_code, 1),
    }
}

fn decide_all_tools(argv_tail: &[&[u8]], read: &dyn Fn(&[u8]) -> Option<Vec<u8>>) {
    let target = profile();
    for tool in [
        "gcc", "g++", "cpp", "ld", "ar", "ranlib", "strip", "python3",
    ] {
        let mut argv = vec![tool.as_bytes()];
        argv.extend_from_slice(argv_tail);
        check_well_formed(&decide(tool.as_bytes(), &argv, &target, read));
    }
    // The session's reader of the same command lines must not panic either.
    for tool in [Tool::Cc, Tool::Cxx, Tool::Ld, Tool::Ar, Tool::Ranlib] {
        let mut argv = vec![tool.as_str().as_bytes()];
        argv.extend_from_slice(argv_tail);
        let _ = read_command(tool, &argv, read);
    }
}

#[test]
fn empty_and_tiny_argvs() {
    let target = profile();
    for path in [&b""[..], b"/", b"gcc", b"/usr/bin/gcc", b"\xff", b"@", b"-"] {
        check_well_formed(&decide(path, &[], &target, &|_| None));
        check_well_formed(&decide(path, &[b""], &target, &|_| None));
        assert_eq!(classify(path, None), classify(path, Some(b"")));
    }
    for tail in [
        &[][..],
        &[&b""[..]],
        &[b"-"],
        &[b"@"],
        &[b"-o"],
        &[b"-I"],
        &[b"-Wl,"],
        &[b"-Wl,,,"],
        &[b"-x"],
        &[b"-Xlinker"],
        &[b"-l"],
        &[b"-L"],
        &[b"-("],
        &[b"--plugin"],
        &[b"-o", b"-o"],
        &[b"-Wl,-rpath"],
        &[b"-Wl,-z", b"-Wl,"],
    ] {
        decide_all_tools(tail, &|_| Some(Vec::new()));
        decide_all_tools(tail, &|_| None);
    }
}

#[test]
fn a_one_megabyte_argument() {
    let big = vec![b'a'; 1 << 20];
    let mut wl = b"-Wl,".to_vec();
    wl.extend(std::iter::repeat_n(b',', 1 << 20));
    let mut inc = b"-I/usr/include/python3.11".to_vec();
    inc.extend(std::iter::repeat_n(b'/', 1 << 20));
    let mut at = b"@".to_vec();
    at.extend_from_slice(&big);
    let mut bad = vec![0xffu8; 1 << 20];
    bad[0] = b'-';
    for arg in [&big, &wl, &inc, &at, &bad] {
        decide_all_tools(&[b"-c", arg, b"-o", arg], &|_| None);
    }
    // A 1 MB response file full of quotes and backslashes.
    let text: Vec<u8> = b"'\"\\ -c a.c\n"
        .iter()
        .copied()
        .cycle()
        .take(1 << 20)
        .collect();
    decide_all_tools(&[b"@f"], &|_| Some(text.clone()));
}

#[test]
fn one_hundred_thousand_arguments() {
    let pool: [&[u8]; 12] = [
        b"-c",
        b"a.c",
        b"-I/usr/include/python3.11",
        b"-Wl,-rpath,/x",
        b"-pthread",
        b"-o",
        b"x.so",
        b"-msse2",
        b"-Xlinker",
        b"-shared",
        b"@f.rsp",
        b"b.cpp",
    ];
    let argv: Vec<&[u8]> = (0..100_000).map(|i| pool[i % pool.len()]).collect();
    decide_all_tools(&argv, &|_| Some(b"-L/usr/lib -lm".to_vec()));
    decide_all_tools(&argv, &|_| None);
}

/// xorshift64*: a fixed-seed generator, so a failure replays exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_argvs_never_panic() {
    const TOKENS: &[&[u8]] = &[
        b"-c",
        b"-E",
        b"-S",
        b"-M",
        b"-o",
        b"-x",
        b"c++",
        b"none",
        b"-I",
        b"-L",
        b"-l",
        b"-isystem",
        b"-Wl,",
        b"-Wl,-z",
        b"-Wl,-rpath,",
        b"-Xlinker",
        b"-z",
        b"-shared",
        b"-r",
        b"-fopenmp",
        b"-fopenmp-simd",
        b"-dumpmachine",
        b"-print-multiarch",
        b"-target",
        b"wasm32",
        b"-cc1",
        b"-mllvm",
        b"-m64",
        b"-B",
        b"@",
        b"@r",
        b"-",
        b"a.c",
        b"b.cpp",
        b"x.so",
        b"x.so.1",
        b"/usr/include",
        b"/usr/include/python3.11",
        b"-(",
        b"-)",
        b"--plugin",
        b"-soname",
        b"-u",
        b"--output=",
        b"'",
        b"\"",
        b"\\",
        b",",
        b"=",
        b"\xff",
        b"\0",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let target = profile();
    for _ in 0..3000 {
        let n = rng.below(24);
        let argv: Vec<Vec<u8>> = (0..n)
            .map(|_| {
                let parts = 1 + rng.below(3);
                let mut arg = Vec::new();
                for _ in 0..parts {
                    if rng.below(4) == 0 {
                        arg.push(rng.next() as u8);
                    } else {
                        arg.extend_from_slice(TOKENS[rng.below(TOKENS.len())]);
                    }
                }
                arg
            })
            .collect();
        let rsp: Vec<u8> = (0..rng.below(64))
            .map(|_| {
                let alphabet = b"ab -'\"\\\n @c";
                alphabet[rng.below(alphabet.len())]
            })
            .collect();
        let argv: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        let path = [
            "gcc",
            "x86_64-linux-gnu-g++-12",
            "cpp",
            "ld.lld",
            "gcc-ar",
            "ranlib",
            "strip",
        ][rng.below(7)];
        let readable = rng.below(3) != 0;
        let read = |_: &[u8]| readable.then(|| rsp.clone());
        let d = decide(path.as_bytes(), &argv, &target, &read);
        check_well_formed(&d);
        if let Some(tool) = d.tool() {
            let _ = read_command(tool, &argv, &read);
        }
        assert_eq!(explain(path.as_bytes(), &argv, &target, &read).decision, d);
    }
}

/// The profile's libc++ compat object goes into C++ shared links only: C
/// side modules do not call libc++, and programs link emcc's whole libc++.
#[test]
fn the_cxx_compat_object_joins_cxx_shared_links_only() {
    let target = Target {
        cxx_compat_object: Some("/cache/pyrewrite-cxxcompat-1.o".into()),
        ..profile()
    };
    let none = |_: &[u8]| None;
    let has_compat = |argv: &[&str]| {
        let argv: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
        match decide(argv[0], &argv, &target, &none) {
            Decision::Rewrite { argv, .. } => argv
                .iter()
                .any(|a| a.as_slice() == b"/cache/pyrewrite-cxxcompat-1.o"),
            d => panic!("not a rewrite: {d:?}"),
        }
    };
    assert!(has_compat(&["g++", "-shared", "x.o", "-o", "x.so"]));
    assert!(has_compat(&["c++", "-shared", "x.cpp", "-o", "x.so"]));
    assert!(has_compat(&[
        "gcc", "-shared", "x.o", "-lstdc++", "-o", "x.so"
    ]));
    assert!(!has_compat(&["gcc", "-shared", "x.o", "-o", "x.so"]));
    assert!(!has_compat(&["g++", "x.o", "-o", "prog"]));
    assert!(!has_compat(&["g++", "-c", "x.cpp", "-o", "x.o"]));
    assert!(!has_compat(&["g++", "-r", "x.o", "-o", "y.o"]));
}
