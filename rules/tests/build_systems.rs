//! meson and CMake configure steps, and program links that the build runs.

use pyrewrite_rules::{decide, generated_dir, Decision, Target, Tool};

fn target() -> Target {
    Target {
        generated_dir: "/gen".into(),
        ..Target::default()
    }
}

fn run(path: &str, argv: &[&str], target: &Target) -> Decision {
    let argv: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
    decide(path.as_bytes(), &argv, target, &|_| None)
}

/// (argv, the one generated file's path, its contents) of a rewrite.
fn rewrite(d: Decision) -> (Vec<String>, String, String) {
    let Decision::Rewrite {
        argv, files, env, ..
    } = d
    else {
        panic!("not a rewrite: {d:?}");
    };
    assert!(
        env.is_empty(),
        "a configure step keeps the build's environment"
    );
    assert_eq!(files.len(), 1, "one generated file");
    let s = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
    let (path, contents) = &files[0];
    (argv.iter().map(|a| s(a)).collect(), s(path), s(contents))
}

#[test]
fn meson_setup_gets_a_cross_file_with_the_native_compiler_names() {
    let (argv, path, text) = rewrite(run(
        "/venv/bin/meson",
        &[
            "meson",
            "setup",
            "/src",
            "/src/build",
            "--native-file=/src/build/n.ini",
        ],
        &target(),
    ));
    assert!(
        path.starts_with("/gen/meson-cross-") && path.ends_with(".ini"),
        "{path}"
    );
    assert_eq!(
        argv,
        [
            "/venv/bin/meson",
            "setup",
            "/src",
            "/src/build",
            "--native-file=/src/build/n.ini",
            &format!("--cross-file={path}")
        ]
    );
    for line in [
        "c = 'cc'",
        "cpp = 'c++'",
        "exe_wrapper = 'node'",
        "needs_exe_wrapper = true",
        "system = 'emscripten'",
        "cpu_family = 'wasm32'",
        "longdouble_format = 'IEEE_QUAD_LE'",
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
    }
    // Same profile, same file; another node, another file.
    let (_, again, _) = rewrite(run("/venv/bin/meson", &["meson", "setup", "b"], &target()));
    assert_eq!(again, path);
    let other = Target {
        node: "/opt/node/bin/node".into(),
        ..target()
    };
    let (_, moved, text) = rewrite(run("/venv/bin/meson", &["meson", "setup", "b"], &other));
    assert_ne!(moved, path);
    assert!(
        text.contains("exe_wrapper = '/opt/node/bin/node'"),
        "{text}"
    );
}

#[test]
fn vendored_meson_run_by_python_is_rewritten_with_the_same_interpreter() {
    let (argv, path, _) = rewrite(run(
        "/usr/bin/python3.11",
        &[
            "python3",
            "vendored-meson/meson/meson.py",
            "setup",
            "src",
            "build",
        ],
        &target(),
    ));
    assert_eq!(
        argv,
        [
            "/usr/bin/python3.11",
            "vendored-meson/meson/meson.py",
            "setup",
            "src",
            "build",
            &format!("--cross-file={path}")
        ]
    );
}

#[test]
fn legacy_meson_builddir_form_is_a_setup() {
    let (argv, ..) = rewrite(run("/usr/bin/meson", &["meson", "builddir"], &target()));
    assert_eq!(argv[1], "builddir");
}

#[test]
fn other_meson_commands_and_own_cross_files_pass_through() {
    for argv in [
        &["meson", "compile", "-C", "build"][..],
        &["meson", "install", "-C", "build"],
        &["meson", "introspect", "--buildoptions"],
        &["meson", "--version"],
        &["meson", "--internal", "regenerate", "/src", "/build"],
        &["meson", "setup", "build", "--cross-file", "mine.ini"],
        &["meson", "setup", "build", "--cross-file=mine.ini"],
        &["meson", "setup", "--help"],
        &["meson"],
    ] {
        assert_eq!(
            run("/usr/bin/meson", argv, &target()),
            Decision::Passthrough,
            "{argv:?}"
        );
    }
    // python running something other than meson.py is not meson.
    assert_eq!(
        run(
            "/usr/bin/python3",
            &["python3", "setup.py", "build"],
            &target()
        ),
        Decision::Passthrough
    );
}

#[test]
fn cmake_configure_gets_the_emscripten_toolchain() {
    let (argv, path, text) = rewrite(run(
        "/usr/bin/cmake",
        &[
            "cmake",
            "-S",
            ".",
            "-B",
            "build",
            "-G",
            "Ninja",
            "-DCMAKE_BUILD_TYPE=Release",
        ],
        &target(),
    ));
    assert!(
        path.starts_with("/gen/cmake-") && path.ends_with("/Platform/Emscripten.cmake"),
        "{path}"
    );
    assert_eq!(
        argv.last().unwrap(),
        &format!("-DCMAKE_TOOLCHAIN_FILE={path}")
    );
    assert_eq!(argv[0], "/usr/bin/cmake");
    for needle in [
        "set(CMAKE_C_COMPILER cc)",
        "set(CMAKE_CXX_COMPILER c++)",
        "/cmake/Modules/Platform/Emscripten.cmake\")",
        "TARGET_SUPPORTS_SHARED_LIBS TRUE",
        "set(CMAKE_CROSSCOMPILING_EMULATOR \"node\")",
        "set(_PYREWRITE_EM_CONFIG \"em-config\")",
    ] {
        assert!(text.contains(needle), "no `{needle}` in\n{text}");
    }
    // em-config is found next to an absolute emcc.
    let t = Target {
        emcc: "/opt/emsdk/upstream/emscripten/emcc".into(),
        ..target()
    };
    let (_, _, text) = rewrite(run("/usr/bin/cmake", &["cmake", ".."], &t));
    assert!(
        text.contains("set(_PYREWRITE_EM_CONFIG \"/opt/emsdk/upstream/emscripten/em-config\")"),
        "{text}"
    );
}

#[test]
fn cmake_modes_other_than_configure_and_own_toolchains_pass_through() {
    for argv in [
        &["cmake", "--build", "build"][..],
        &["cmake", "--install", "build", "--prefix", "/x"],
        &["cmake", "-E", "copy", "a", "b"],
        &["cmake", "-P", "script.cmake"],
        &["cmake", "--version"],
        &["cmake", "--help-module", "FindPython"],
        &["cmake", "-LAH", "build"],
        &["cmake", "--regenerate-during-build", "-S.", "-Bbuild"],
        &[
            "cmake",
            "-S",
            ".",
            "-B",
            "b",
            "-DCMAKE_TOOLCHAIN_FILE=/e/Emscripten.cmake",
        ],
        &[
            "cmake",
            "-S",
            ".",
            "-B",
            "b",
            "-D",
            "CMAKE_TOOLCHAIN_FILE=/e/Emscripten.cmake",
        ],
        &[
            "cmake",
            "-S",
            ".",
            "-B",
            "b",
            "--toolchain",
            "/e/Emscripten.cmake",
        ],
        &["cmake"],
    ] {
        assert_eq!(
            run("/usr/bin/cmake", argv, &target()),
            Decision::Passthrough,
            "{argv:?}"
        );
    }
}

#[test]
fn configure_steps_are_build_systems_compilers_are_not() {
    assert!(Tool::Meson.is_build_system() && Tool::Cmake.is_build_system());
    assert!(!Tool::Cc.is_build_system() && !Tool::Ar.is_build_system());
}

fn env_of(d: &Decision) -> Vec<(String, String)> {
    match d {
        Decision::Rewrite { env, .. } => env.clone(),
        other => panic!("not a rewrite: {other:?}"),
    }
}

fn argv_of(d: &Decision) -> Vec<String> {
    match d {
        Decision::Rewrite { argv, .. } => argv
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
        other => panic!("not a rewrite: {other:?}"),
    }
}

#[test]
fn program_links_are_made_runnable_other_links_are_not() {
    let autoconf = vec![("EMMAKEN_JUST_CONFIGURE".to_string(), "1".to_string())];
    let runnable = [
        "-sEXIT_RUNTIME=1",
        "-sNODERAWFS=1",
        "-sFORCE_FILESYSTEM=1",
        "-sSINGLE_FILE=1",
    ];
    for argv in [
        &["gcc", "-o", "conftest", "conftest.c"][..],
        &["cc", "main.o", "-o", "gen"],
        &["cc", "t.c"],
        &["c++", "t.cpp", "-o", "out/try.js"],
        &["cc", "t.c", "-o", "sanitycheckc.exe"],
    ] {
        let d = run(argv[0], argv, &target());
        assert_eq!(env_of(&d), autoconf, "{argv:?}");
        let got = argv_of(&d);
        assert!(
            runnable.iter().all(|f| got.contains(&f.to_string())),
            "{got:?}"
        );
    }
    for argv in [
        &["gcc", "-shared", "a.o", "-o", "m.so"][..],
        &["gcc", "a.o", "-o", "m.cpython-311-x86_64-linux-gnu.so"],
        &["gcc", "-c", "a.c", "-o", "a.o"],
        &["gcc", "-r", "a.o", "b.o", "-o", "ab.o"],
        &["gcc", "a.c", "-o", "page.html"],
        &["gcc", "a.c", "-o", "standalone.wasm"],
        &["gcc", "--version"],
    ] {
        let d = run(argv[0], argv, &target());
        assert_eq!(env_of(&d), Vec::new(), "{argv:?}");
        assert!(
            !argv_of(&d).iter().any(|a| a == "-sNODERAWFS=1"),
            "{argv:?}"
        );
    }
    // A build that chose its own setting keeps it.
    let d = run(
        "cc",
        &["cc", "t.c", "-o", "t", "-sEXIT_RUNTIME=0"],
        &target(),
    );
    let got = argv_of(&d);
    assert!(!got.contains(&"-sEXIT_RUNTIME=1".to_string()), "{got:?}");
}

#[test]
fn generated_files_go_to_the_user_cache() {
    assert_eq!(
        generated_dir(Some(b"/xdg/"), Some(b"/home/u"), 7),
        "/xdg/pyrewrite"
    );
    assert_eq!(
        generated_dir(None, Some(b"/home/u"), 7),
        "/home/u/.cache/pyrewrite"
    );
    // Relative values do not count (XDG spec); nothing at all: a per-user /tmp dir.
    assert_eq!(
        generated_dir(Some(b"rel"), Some(b"also-rel"), 7),
        "/tmp/pyrewrite-7"
    );
    assert_eq!(generated_dir(None, None, 0), "/tmp/pyrewrite-0");
}

#[test]
fn a_compiler_cache_launching_a_compiler_runs_the_rewritten_command() {
    let d = run(
        "/usr/bin/ccache",
        &["ccache", "gcc", "-c", "x.c", "-o", "x.o"],
        &target(),
    );
    let got = argv_of(&d);
    assert_eq!(&got[..2], ["/usr/bin/ccache", "emcc"], "{got:?}");
    assert!(got.contains(&"-fPIC".to_string()) && got.contains(&"x.o".to_string()));
    assert!(matches!(d, Decision::Rewrite { tool: Tool::Cc, .. }));
    let d = run(
        "/usr/bin/sccache",
        &["sccache", "/usr/bin/g++", "-c", "y.cpp"],
        &target(),
    );
    assert_eq!(argv_of(&d)[1], "em++");
    // Not launching a compiler: the cache runs unchanged.
    for argv in [
        &["ccache", "-s"][..],
        &["ccache", "python3", "x.py"],
        &["ccache"],
    ] {
        assert_eq!(
            run("/usr/bin/ccache", argv, &target()),
            Decision::Passthrough,
            "{argv:?}"
        );
    }
    // An answer needs no cache.
    let d = run(
        "/usr/bin/ccache",
        &["ccache", "gcc", "-dumpmachine"],
        &target(),
    );
    assert!(matches!(d, Decision::Answer { .. }), "{d:?}");
}

/// pip and pypa/build run a backend hook as `python …/_in_process.py HOOK DIR`:
/// that process (and what it runs) gets `_PYTHON_HOST_PLATFORM`, so a
/// `setup.py` asking `sysconfig.get_platform()` is answered with the target.
#[test]
fn a_build_backend_hook_gets_the_target_platform() {
    let hook =
        "/usr/lib/python3/dist-packages/pip/_vendor/pyproject_hooks/_in_process/_in_process.py";
    let d = run(
        "/venv/bin/python3",
        &["/venv/bin/python3", hook, "build_wheel", "/tmp/x"],
        &target(),
    );
    assert!(
        matches!(
            d,
            Decision::Rewrite {
                tool: Tool::Backend,
                ..
            }
        ),
        "{d:?}"
    );
    assert_eq!(
        argv_of(&d),
        ["/venv/bin/python3", hook, "build_wheel", "/tmp/x"],
        "the command itself is unchanged"
    );
    assert_eq!(
        env_of(&d),
        [(
            "_PYTHON_HOST_PLATFORM".to_string(),
            "emscripten_3_1_32_wasm32".to_string()
        )]
    );
    assert!(Tool::Backend.is_build_system(), "stays in the session");
    // Other Python programs, and pip itself, run unchanged.
    for argv in [
        &["python3", "setup.py", "bdist_wheel"][..],
        &["python3", "-m", "pip", "wheel", "."],
        &["python3", "/x/_in_process.pyc", "build_wheel"],
    ] {
        assert!(
            matches!(
                run("/usr/bin/python3", argv, &target()),
                Decision::Passthrough
            ),
            "{argv:?}"
        );
    }
    // Not an interpreter: not a hook.
    assert!(matches!(
        run("/bin/sh", &["sh", hook], &target()),
        Decision::Passthrough
    ));
}
