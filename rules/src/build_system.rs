//! Build systems' configure steps: tell meson and CMake they cross-compile for
//! wasm32-emscripten, in flight, without touching the package.
//!
//! A compiler rewrite alone cannot answer the two questions these configure
//! steps ask: *which machine am I building for* (meson refuses emcc in a
//! native build; CMake cannot identify emcc's output) and *what happens when I
//! run what I just compiled* (meson's `cc.run`, CMake's `try_run`). So the
//! configure command itself is rewritten:
//!
//! | command | becomes | why |
//! |---|---|---|
//! | `meson setup …` (also `meson BUILDDIR`, and `python … meson.py setup …`) | the same + `--cross-file=<generated>` | the host machine is `wasm32`/`emscripten`; `exe_wrapper = node` runs `cc.run` programs |
//! | `cmake` configure (not `--build`, `--install`, `-E`, `-P`, `--version`, …) | the same + `-DCMAKE_TOOLCHAIN_FILE=<generated>` | Emscripten's own platform file (compiler id, `CheckTypeSize`, `.js` executables) with shared libraries allowed and node as `CMAKE_CROSSCOMPILING_EMULATOR` |
//! | either, when the build names its own `--cross-file` / toolchain file | passthrough | the build's choice wins |
//!
//! Both generated files keep the *native* compiler names (`cc`, `c++`, `ar`,
//! `strip`): every compiler call meson or CMake makes is then rewritten by the
//! compiler rules like any other, with the profile's flags and Python headers.
//! The files are written by the caller before the exec (like rewritten
//! response files) into [`Target::generated_dir`], named by the hash of their
//! contents: the same profile always gives the same path, so a reconfigure
//! finds the file it was configured with.

use crate::prelude::*;
use crate::response_file::fnv1a64;
use crate::tool::basename;
use crate::{Decision, Notes, Target, Tool};

/// The rewrite of a meson or CMake command; other tools are not ours here.
pub(crate) fn decide(
    tool: Tool,
    path: &[u8],
    argv: &[&[u8]],
    target: &Target,
    notes: &mut Notes,
) -> Decision {
    match tool {
        Tool::Meson => meson(path, argv, target, notes),
        Tool::Backend => backend(path, argv, target, notes),
        _ => cmake(path, argv, target, notes),
    }
}

/// The environment variable CPython's `sysconfig.get_platform()` (and
/// distutils', setuptools') answers with when set: how pyodide-build, and
/// every cross build of CPython extensions, tells a build its target.
pub const HOST_PLATFORM: &str = "_PYTHON_HOST_PLATFORM";

/// A build backend's hook process (`python …/_in_process.py HOOK DIR`) runs
/// as it is, with `_PYTHON_HOST_PLATFORM` set to the profile's platform tag:
/// a `setup.py` that picks sources by `sysconfig.get_platform()` picks the
/// wasm32 ones. Only this process and what it runs get it: pip itself, which
/// also asks `sysconfig` to choose build requirements' wheels, keeps the
/// host's answer. It stays in the session, so its compilers are rewritten.
fn backend(path: &[u8], argv: &[&[u8]], target: &Target, notes: &mut Notes) -> Decision {
    if target.platform_tag.is_empty() {
        return Decision::Passthrough;
    }
    notes.summary(|| {
        "PEP 517 build backend → sysconfig.get_platform() answers the target".to_string()
    });
    notes.add(|| format!("env: {HOST_PLATFORM}={}", target.platform_tag));
    Decision::Rewrite {
        tool: Tool::Backend,
        argv: same_command(path, argv),
        files: Vec::new(),
        env: vec![(HOST_PLATFORM.to_string(), target.platform_tag.clone())],
    }
}

/// Meson's subcommands other than `setup` (an unknown first word is the
/// build directory of the legacy `meson BUILDDIR` form).
fn is_meson_subcommand(word: &[u8]) -> bool {
    matches!(
        word,
        b"configure"
            | b"dist"
            | b"install"
            | b"introspect"
            | b"init"
            | b"test"
            | b"wrap"
            | b"subprojects"
            | b"rewrite"
            | b"compile"
            | b"devenv"
            | b"env2mfile"
            | b"format"
            | b"fmt"
            | b"help"
            | b"runpython"
            | b"reprotest"
    )
}

fn meson(path: &[u8], argv: &[&[u8]], target: &Target, notes: &mut Notes) -> Decision {
    // `python … meson.py setup`: the script is argv[1], its arguments follow.
    let via_interpreter = !matches!(basename(path), b"meson" | b"meson.py")
        && argv.get(1).is_some_and(|a| basename(a) == b"meson.py");
    let args = argv
        .get(if via_interpreter { 2 } else { 1 }..)
        .unwrap_or(&[]);
    let setup = match args.first() {
        Some(&b"setup") => true,
        Some(word) => !word.starts_with(b"-") && !is_meson_subcommand(word),
        None => false,
    };
    if !setup {
        notes.summary(|| "meson: not a `setup`: runs unchanged".to_string());
        return Decision::Passthrough;
    }
    if args
        .iter()
        .any(|a| *a == b"--cross-file" || a.starts_with(b"--cross-file="))
    {
        notes.summary(|| {
            "meson setup with the build's own --cross-file: runs unchanged".to_string()
        });
        return Decision::Passthrough;
    }
    if args
        .iter()
        .any(|a| matches!(*a, b"-h" | b"--help" | b"-v" | b"--version"))
    {
        notes.summary(|| "meson setup --help/--version: runs unchanged".to_string());
        return Decision::Passthrough;
    }
    let contents = meson_cross_file(target);
    let file = generated_path(target, b"meson-cross-", &contents, b".ini");
    let mut flag = b"--cross-file=".to_vec();
    flag.extend_from_slice(&file);
    notes.summary(|| "meson setup → cross build for wasm32-emscripten".to_string());
    notes.add(|| format!("added: {}", String::from_utf8_lossy(&flag)));
    Decision::Rewrite {
        tool: Tool::Meson,
        argv: same_program(path, argv, flag),
        files: vec![(file, contents.into_bytes())],
        env: Vec::new(),
    }
}

/// CMake options that select a mode other than configuring a project.
fn is_cmake_non_configure(arg: &[u8]) -> bool {
    matches!(
        arg,
        b"--build"
            | b"--install"
            | b"--open"
            | b"-E"
            | b"-P"
            | b"-N"
            | b"--version"
            | b"-version"
            | b"/V"
            | b"-h"
            | b"-H"
            | b"--help"
            | b"-help"
            | b"-usage"
            | b"/?"
            | b"--find-package"
            | b"--workflow"
            | b"--system-information"
            | b"--regenerate-during-build"
            | b"--list-presets"
    ) || arg.starts_with(b"--help-")
        || arg.starts_with(b"--list-presets=")
        || (arg.starts_with(b"-L") && arg.iter().skip(2).all(|&b| b == b'A' || b == b'H'))
}

fn cmake(path: &[u8], argv: &[&[u8]], target: &Target, notes: &mut Notes) -> Decision {
    let args = argv.get(1..).unwrap_or(&[]);
    if args.is_empty() || args.iter().any(|a| is_cmake_non_configure(a)) {
        notes.summary(|| "cmake: not a configure step: runs unchanged".to_string());
        return Decision::Passthrough;
    }
    let has_toolchain = args
        .iter()
        .any(|a| a.starts_with(b"--toolchain") || a.starts_with(b"-DCMAKE_TOOLCHAIN_FILE"))
        || args
            .windows(2)
            .any(|w| matches!(w, [d, v] if *d == b"-D" && v.starts_with(b"CMAKE_TOOLCHAIN_FILE")));
    if has_toolchain {
        notes.summary(|| {
            "cmake configure with the build's own toolchain file: runs unchanged".to_string()
        });
        return Decision::Passthrough;
    }
    let contents = cmake_toolchain(target);
    let file = generated_path(target, b"cmake-", &contents, b"/Platform/Emscripten.cmake");
    let mut flag = b"-DCMAKE_TOOLCHAIN_FILE=".to_vec();
    flag.extend_from_slice(&file);
    notes.summary(|| {
        "cmake configure → Emscripten platform (wasm32), node runs try_run programs".to_string()
    });
    notes.add(|| format!("added: {}", String::from_utf8_lossy(&flag)));
    Decision::Rewrite {
        tool: Tool::Cmake,
        argv: same_program(path, argv, flag),
        files: vec![(file, contents.into_bytes())],
        env: Vec::new(),
    }
}

/// The same command run by the same program (the exec's own path, so no PATH
/// look-up can pick another interpreter), plus `flag` at the end.
fn same_program(path: &[u8], argv: &[&[u8]], flag: Vec<u8>) -> Vec<Vec<u8>> {
    let mut out = same_command(path, argv);
    out.push(flag);
    out
}

/// The exec as it was, the program named by the path that was executed.
fn same_command(path: &[u8], argv: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut out = Vec::with_capacity(argv.len() + 1);
    out.push(path.to_vec());
    out.extend(argv.iter().skip(1).map(|a| a.to_vec()));
    out
}

/// `<generated_dir>/<prefix><16 hex digits of the contents' hash><suffix>`.
fn generated_path(target: &Target, prefix: &[u8], contents: &str, suffix: &[u8]) -> Vec<u8> {
    let mut path = target.generated_dir_or_default().as_bytes().to_vec();
    if !path.ends_with(b"/") {
        path.push(b'/');
    }
    path.extend_from_slice(prefix);
    path.extend_from_slice(format!("{:016x}", fnv1a64(contents.as_bytes())).as_bytes());
    path.extend_from_slice(suffix);
    path
}

/// A string as a meson (Python-like) single-quoted literal.
fn meson_str(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// A string as a CMake quoted argument.
fn cmake_str(s: &str) -> String {
    format!(
        "\"{}\"",
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('$', "\\$")
    )
}

/// The meson cross file for the profile (Pyodide's own cross file, plus the
/// compilers by their native names so that every call is rewritten).
pub fn meson_cross_file(target: &Target) -> String {
    let node = meson_str(&target.node);
    // pkg-config only with the profile's own dir: unset, meson finds no
    // pkg-config for the host machine, so the host's x86_64 .pc files are
    // never offered to a wasm build.
    let (pkg_config, pkg_config_libdir) = match &target.pkg_config_libdir {
        Some(dir) => (
            "pkg-config = 'pkg-config'\n".to_string(),
            format!("pkg_config_libdir = {}\n", meson_str(dir)),
        ),
        None => (String::new(), String::new()),
    };
    format!(
        "# Generated by pyrewrite from the target profile; the file name is the hash of\n\
         # its contents. Compilers keep their native names: pyrewrite rewrites every call\n\
         # to emcc/em++ in flight, with the profile's flags and Python headers.\n\
         [binaries]\n\
         c = 'cc'\n\
         cpp = 'c++'\n\
         ar = 'ar'\n\
         strip = 'strip'\n\
         exe_wrapper = {node}\n\
         {pkg_config}\
         \n\
         [properties]\n\
         needs_exe_wrapper = true\n\
         skip_sanity_check = true\n\
         longdouble_format = 'IEEE_QUAD_LE'\n\
         {pkg_config_libdir}\
         \n\
         [host_machine]\n\
         system = 'emscripten'\n\
         cpu_family = 'wasm32'\n\
         cpu = 'wasm'\n\
         endian = 'little'\n"
    )
}

/// `em-config` next to the profile's emcc (Debian: `/usr/bin`; emsdk:
/// `upstream/emscripten`), or a bare name looked up in PATH.
fn em_config(emcc: &str) -> String {
    match emcc.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/em-config"),
        None => "em-config".to_string(),
    }
}

/// The CMake toolchain file for the profile. It is also found as
/// `Platform/Emscripten.cmake` (its directory goes first on
/// `CMAKE_MODULE_PATH`), so when CMake loads the platform file for
/// `CMAKE_SYSTEM_NAME Emscripten` it loads this one again, not Emscripten's
/// alone, which would switch shared libraries off.
pub fn cmake_toolchain(target: &Target) -> String {
    let em_config = cmake_str(&em_config(&target.emcc));
    let node = cmake_str(&target.node);
    format!(
        "# Generated by pyrewrite from the target profile; the directory name is the hash\n\
         # of this file. CMake configures for wasm32-emscripten with Emscripten's own\n\
         # platform file; the compilers keep their native names: pyrewrite rewrites every\n\
         # call to emcc/em++ in flight, with the profile's flags and Python headers.\n\
         if(NOT CMAKE_C_COMPILER)\n\
         \x20 set(CMAKE_C_COMPILER cc)\n\
         endif()\n\
         if(NOT CMAKE_CXX_COMPILER)\n\
         \x20 set(CMAKE_CXX_COMPILER c++)\n\
         endif()\n\
         set(_PYREWRITE_EM_CONFIG {em_config})\n\
         if(NOT _PYREWRITE_EMSCRIPTEN_ROOT)\n\
         \x20 execute_process(COMMAND \"${{_PYREWRITE_EM_CONFIG}}\" EMSCRIPTEN_ROOT\n\
         \x20   RESULT_VARIABLE _pyrewrite_rc OUTPUT_VARIABLE _PYREWRITE_EMSCRIPTEN_ROOT\n\
         \x20   OUTPUT_STRIP_TRAILING_WHITESPACE)\n\
         \x20 if(NOT _pyrewrite_rc EQUAL 0)\n\
         \x20   message(FATAL_ERROR \"pyrewrite: `${{_PYREWRITE_EM_CONFIG}} EMSCRIPTEN_ROOT` failed; is the profile's emcc installed?\")\n\
         \x20 endif()\n\
         endif()\n\
         include(\"${{_PYREWRITE_EMSCRIPTEN_ROOT}}/cmake/Modules/Platform/Emscripten.cmake\")\n\
         # Pyodide loads extension modules as wasm side modules: shared libraries exist.\n\
         set_property(GLOBAL PROPERTY TARGET_SUPPORTS_SHARED_LIBS TRUE)\n\
         set(CMAKE_PLATFORM_NO_VERSIONED_SONAME 1)\n\
         get_filename_component(_pyrewrite_modules \"${{CMAKE_CURRENT_LIST_DIR}}/..\" ABSOLUTE)\n\
         list(REMOVE_ITEM CMAKE_MODULE_PATH \"${{_pyrewrite_modules}}\")\n\
         list(PREPEND CMAKE_MODULE_PATH \"${{_pyrewrite_modules}}\")\n\
         # try_run() and add_test() run wasm programs under node.\n\
         if(NOT CMAKE_CROSSCOMPILING_EMULATOR)\n\
         \x20 set(CMAKE_CROSSCOMPILING_EMULATOR {node})\n\
         endif()\n"
    )
}
