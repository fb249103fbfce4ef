//! Tool recognition: which native program an exec is, from a basename alone.
//!
//! Runs on *every* exec of a build (including the failed PATH probes of
//! `execvp`), so it only slices and compares bytes: no allocation, no I/O.
//!
//! | rule | why |
//! |---|---|
//! | basename of the exec path, then of argv[0] | builds call `/usr/bin/gcc`, `cc` via PATH, or a symlink farm (ccache) whose argv[0] names the real tool |
//! | `cc gcc clang` → C; `c++ g++ clang++` → C++ | the driver names a build uses for C and C++ |
//! | `cpp`, `ld ld.bfd ld.gold ld.lld`, `ar gcc-ar`, `ranlib gcc-ranlib`, `strip` | the binutils a Python build calls directly (cmake: `ar qc`, `ranlib`) |
//! | triplet prefix (`x86_64-linux-gnu-gcc`) needs two or more parts | Debian's python3 calls `x86_64-linux-gnu-gcc`; one part (`llvm-ar`) is a different tool: emar itself runs `llvm-ar-14` |
//! | version suffix `-N[.N]` (`gcc-12`, `clang++-14`) | versioned compilers are common; `clang-14` run by emcc is caught by its wasm `-target` instead |
//! | a `wasm32`/`wasm64` triplet is never ours | it already targets wasm |
//! | anything under an Emscripten tree (`…/emscripten/…`, `…/emsdk…/…`, `…/upstream/bin/…`) is never ours | emcc's own clang, wasm-ld and llvm-ar must run untouched |
//! | `ccache`/`sccache` followed by a compiler: that compiler | the cache must see the rewritten command (`launcher` in lib.rs) |
//! | `meson`, `meson.py` (also as `python … meson.py`), `cmake`, `cmake3` | configure steps must be told they cross-compile (see `build_system`); numpy runs its vendored `meson.py` through the interpreter |
//!
//! Nothing here can panic (no indexing, no `unwrap`: denied below): inside
//! libpyrewrite.so a panic aborts the process, and this runs in all of them.

#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
#![cfg_attr(
    test,
    allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::panic)
)]

/// The family of a recognised program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tool {
    /// C compiler driver (`cc`, `gcc`, `clang`, prefixed or versioned).
    Cc,
    /// C++ compiler driver (`c++`, `g++`, `clang++`).
    Cxx,
    /// C preprocessor (`cpp`).
    Cpp,
    /// Linker (`ld`, `ld.bfd`, `ld.gold`, `ld.lld`).
    Ld,
    /// Static archiver (`ar`, `gcc-ar`).
    Ar,
    /// Archive indexer (`ranlib`, `gcc-ranlib`).
    Ranlib,
    /// Symbol stripper (`strip`).
    Strip,
    /// The meson build system (`meson`, `meson.py`): its `setup` gets a cross file.
    Meson,
    /// CMake (`cmake`, `cmake3`): a configure gets the Emscripten platform.
    Cmake,
    /// A PEP 517 build backend's hook process (`python …/_in_process.py HOOK
    /// …`, how pip and pypa/build run setuptools, meson-python, …): it gets
    /// `_PYTHON_HOST_PLATFORM`, so `sysconfig.get_platform()` names the target.
    Backend,
}

impl Tool {
    /// Short stable name, used in events and `pyrewrite explain`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tool::Cc => "cc",
            Tool::Cxx => "c++",
            Tool::Cpp => "cpp",
            Tool::Ld => "ld",
            Tool::Ar => "ar",
            Tool::Ranlib => "ranlib",
            Tool::Strip => "strip",
            Tool::Meson => "meson",
            Tool::Cmake => "cmake",
            Tool::Backend => "backend",
        }
    }

    /// The tool of a short name ([`Tool::as_str`]'s inverse), e.g. an
    /// event's `tool` field read back by the driver.
    pub fn from_name(name: &str) -> Option<Tool> {
        Tool::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// Every tool (an array of plain values: nothing for the loader to
    /// relocate).
    pub const ALL: [Tool; 10] = [
        Tool::Cc,
        Tool::Cxx,
        Tool::Cpp,
        Tool::Ld,
        Tool::Ar,
        Tool::Ranlib,
        Tool::Strip,
        Tool::Meson,
        Tool::Cmake,
        Tool::Backend,
    ];

    /// A C/C++ compiler driver (what a compiler cache launches).
    pub fn is_compiler(self) -> bool {
        matches!(self, Tool::Cc | Tool::Cxx)
    }

    /// A build system's configure step, not a compiler: the rewritten command
    /// stays inside the session (its compilers must be rewritten in turn),
    /// where a rewritten compiler leaves it (emcc's own clang must not be).
    pub fn is_build_system(self) -> bool {
        matches!(self, Tool::Meson | Tool::Cmake | Tool::Backend)
    }
}

/// Which tool, if any, an exec is: by the basename of the exec path, then of argv[0].
///
/// An exec path under an Emscripten tree is never a tool, whatever argv[0] says.
pub fn classify(path: &[u8], argv0: Option<&[u8]>) -> Option<Tool> {
    if is_emscripten_path(path) {
        return None;
    }
    if let Some(tool) = classify_name(basename(path)) {
        return Some(tool);
    }
    let argv0 = argv0?;
    if is_emscripten_path(argv0) {
        return None;
    }
    classify_name(basename(argv0))
}

/// [`classify`], plus two commands whose tool is named by argv[1]: a build
/// system run as a script by an interpreter (`python3 vendored-meson/meson/
/// meson.py setup …`, numpy's vendored meson, is meson) and a compiler cache
/// launching a compiler (`ccache gcc …` is that compiler, so that the cache
/// runs the rewritten command: `launcher` in lib.rs). What the preload and the
/// rules use. `argv1` is asked for only by those two, never for other execs.
pub fn classify_command<'a>(
    path: &[u8],
    argv0: Option<&[u8]>,
    argv1: impl FnOnce() -> Option<&'a [u8]>,
) -> Option<Tool> {
    if let Some(tool) = classify(path, argv0) {
        return Some(tool);
    }
    // A launcher inside an Emscripten tree is Emscripten's own (as any
    // program there is), whatever it launches.
    if is_emscripten_path(path) || argv0.is_some_and(is_emscripten_path) {
        return None;
    }
    if is_launcher(path, argv0) {
        return argv1()
            .and_then(|c| classify(c, Some(c)))
            .filter(|t| t.is_compiler());
    }
    let interpreter = is_python(basename(path)) || argv0.is_some_and(|a| is_python(basename(a)));
    if !interpreter {
        return None;
    }
    match argv1().map(basename) {
        Some(b"meson.py") => Some(Tool::Meson),
        Some(b"_in_process.py") => Some(Tool::Backend),
        _ => None,
    }
}

/// A compiler cache run as a launcher (`ccache gcc -c x.c`, CMake's
/// `CMAKE_C_COMPILER_LAUNCHER`, `CC="ccache gcc"`). If it ran unchanged it
/// would key its cache on the *native* compiler and store the wasm object the
/// rewritten exec produced: a later native build would get wasm objects.
///
/// `pyrewrite-cc` (the fast path's runner, which the rules themselves put
/// before a compile) reads the same way: the command it launches follows.
pub fn is_launcher(path: &[u8], argv0: Option<&[u8]>) -> bool {
    let launcher = |n: &[u8]| matches!(basename(n), b"ccache" | b"sccache" | b"pyrewrite-cc");
    launcher(path) || argv0.is_some_and(launcher)
}

/// `python`, `python3`, `python3.11`, `python3.13t`.
fn is_python(name: &[u8]) -> bool {
    name.strip_prefix(b"python").is_some_and(|v| {
        v.iter()
            .all(|&b| b.is_ascii_digit() || b == b'.' || b == b't')
    })
}

/// Build systems by name (no triplet prefix or version suffix: those are
/// compiler conventions).
fn build_system(name: &[u8]) -> Option<Tool> {
    match name {
        b"meson" | b"meson.py" => Some(Tool::Meson),
        b"cmake" | b"cmake3" => Some(Tool::Cmake),
        _ => None,
    }
}

/// The part after the last `/`.
pub(crate) fn basename(p: &[u8]) -> &[u8] {
    p.rsplit(|&b| b == b'/').next().unwrap_or(p)
}

/// True when `path` lies inside an Emscripten installation (Debian's
/// `/usr/share/emscripten`, an emsdk checkout, emsdk's `upstream/bin`).
pub fn is_emscripten_path(path: &[u8]) -> bool {
    let mut parts = path.split(|&b| b == b'/').peekable();
    let mut previous: &[u8] = b"";
    while let Some(part) = parts.next() {
        let is_dir = parts.peek().is_some();
        if is_dir
            && (part == b"emscripten"
                || part.starts_with(b"emsdk")
                || (previous == b"upstream" && part == b"bin"))
        {
            return true;
        }
        previous = part;
    }
    false
}

/// Recognise a bare program name.
pub fn classify_name(name: &[u8]) -> Option<Tool> {
    if let Some(tool) = build_system(name) {
        return Some(tool);
    }
    let name = strip_version(name);
    if let Some(tool) = base_tool(name) {
        return Some(tool);
    }
    // Triplet prefix: try every `-` from the left; the rest must be a tool and
    // the prefix a plausible target triplet.
    for (i, _) in name.iter().enumerate().filter(|(_, &b)| b == b'-') {
        let Some((prefix, dash_rest)) = name.split_at_checked(i) else {
            continue;
        };
        let rest = dash_rest.get(1..).unwrap_or(b"");
        if let Some(tool) = base_tool(rest) {
            return is_triplet(prefix).then_some(tool);
        }
    }
    None
}

fn base_tool(name: &[u8]) -> Option<Tool> {
    Some(match name {
        b"cc" | b"gcc" | b"clang" => Tool::Cc,
        b"c++" | b"g++" | b"clang++" => Tool::Cxx,
        b"cpp" => Tool::Cpp,
        b"ld" | b"ld.bfd" | b"ld.gold" | b"ld.lld" => Tool::Ld,
        b"ar" | b"gcc-ar" => Tool::Ar,
        b"ranlib" | b"gcc-ranlib" => Tool::Ranlib,
        b"strip" => Tool::Strip,
        _ => return None,
    })
}

/// `gcc-12` → `gcc`, `clang++-14.0` → `clang++`; anything else unchanged.
fn strip_version(name: &[u8]) -> &[u8] {
    let mut parts = name.rsplitn(2, |&b| b == b'-');
    if let (Some(suffix), Some(head)) = (parts.next(), parts.next()) {
        if suffix.first().is_some_and(u8::is_ascii_digit)
            && suffix.iter().all(|&b| b.is_ascii_digit() || b == b'.')
            && !head.is_empty()
        {
            return head;
        }
    }
    name
}

/// `x86_64-linux-gnu`, `x86_64-pc-linux-gnu`: two or more non-empty parts of
/// `[A-Za-z0-9_.]`, and not a wasm triplet.
fn is_triplet(prefix: &[u8]) -> bool {
    let mut parts = 0;
    for part in prefix.split(|&b| b == b'-') {
        if part.is_empty()
            || !part
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        {
            return false;
        }
        parts += 1;
    }
    parts >= 2 && !prefix.starts_with(b"wasm")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let cases: &[(&str, Option<Tool>)] = &[
            ("gcc", Some(Tool::Cc)),
            ("cc", Some(Tool::Cc)),
            ("clang", Some(Tool::Cc)),
            ("gcc-12", Some(Tool::Cc)),
            ("clang-14", Some(Tool::Cc)),
            ("x86_64-linux-gnu-gcc", Some(Tool::Cc)),
            ("x86_64-linux-gnu-gcc-12", Some(Tool::Cc)),
            ("x86_64-pc-linux-gnu-g++", Some(Tool::Cxx)),
            ("g++-12", Some(Tool::Cxx)),
            ("clang++-14", Some(Tool::Cxx)),
            ("c++", Some(Tool::Cxx)),
            ("cpp", Some(Tool::Cpp)),
            ("cpp-12", Some(Tool::Cpp)),
            ("ld", Some(Tool::Ld)),
            ("ld.gold", Some(Tool::Ld)),
            ("x86_64-linux-gnu-ld.bfd", Some(Tool::Ld)),
            ("ar", Some(Tool::Ar)),
            ("gcc-ar-12", Some(Tool::Ar)),
            ("x86_64-linux-gnu-gcc-ar", Some(Tool::Ar)),
            ("ranlib", Some(Tool::Ranlib)),
            ("x86_64-linux-gnu-strip", Some(Tool::Strip)),
            ("llvm-ar", None),
            ("llvm-ar-14", None),
            ("llvm-ranlib", None),
            ("emcc", None),
            ("em++", None),
            ("emar", None),
            ("wasm-ld-14", None),
            ("wasm32-unknown-emscripten-clang", None),
            ("cc1", None),
            ("collect2", None),
            ("python3", None),
            ("gccx", None),
            ("-gcc", None),
            ("gcc-", None),
            ("x86_64--gcc", None),
            ("", None),
            ("meson", Some(Tool::Meson)),
            ("meson.py", Some(Tool::Meson)),
            ("cmake", Some(Tool::Cmake)),
            ("cmake3", Some(Tool::Cmake)),
            ("x86_64-linux-gnu-cmake", None),
            ("mesonx", None),
            ("ctest", None),
        ];
        for (name, want) in cases {
            assert_eq!(classify_name(name.as_bytes()), *want, "{name}");
        }
    }

    #[test]
    fn path_and_argv0() {
        assert_eq!(classify(b"/usr/bin/gcc", Some(b"gcc")), Some(Tool::Cc));
        assert_eq!(
            classify(b"/usr/lib/ccache/foo", Some(b"/usr/lib/ccache/g++")),
            Some(Tool::Cxx)
        );
        assert_eq!(classify(b"/usr/share/emscripten/emcc", Some(b"gcc")), None);
        assert_eq!(classify(b"/opt/emsdk/upstream/bin/clang", None), None);
        assert_eq!(classify(b"/x/upstream/bin/clang", None), None);
        assert_eq!(classify(b"/usr/bin/python3", Some(b"python3")), None);
        assert_eq!(classify(b"/usr/bin/env", None), None);
        // A directory named like the tree matters, a file name does not.
        assert_eq!(classify(b"/src/emscripten", None), None);
        let cc = Some(b"c++".as_slice());
        let ccache = b"/usr/share/emscripten/ccache".as_slice();
        assert_eq!(classify_command(ccache, Some(ccache), || cc), None);
        assert_eq!(
            classify_command(b"/usr/bin/ccache", Some(b"ccache"), || cc),
            Some(Tool::Cxx)
        );
        assert_eq!(classify(b"/home/emsdkuser/gcc", None), None);
    }

    #[test]
    fn meson_run_by_an_interpreter() {
        let meson = Some(Tool::Meson);
        let c =
            |p: &[u8], a0: Option<&[u8]>, a1: Option<&'static [u8]>| classify_command(p, a0, || a1);
        assert_eq!(
            c(
                b"/usr/bin/python3.11",
                Some(b"python3.11"),
                Some(b"vendored-meson/meson/meson.py")
            ),
            meson
        );
        assert_eq!(
            c(
                b"/venv/bin/python",
                Some(b"/venv/bin/python"),
                Some(b"/src/meson.py")
            ),
            meson
        );
        assert_eq!(c(b"/venv/bin/meson", Some(b"meson"), Some(b"setup")), meson);
        assert_eq!(
            c(b"/usr/bin/python3", Some(b"python3"), Some(b"setup.py")),
            None
        );
        assert_eq!(c(b"/usr/bin/node", Some(b"node"), Some(b"meson.py")), None);
        assert_eq!(c(b"/usr/bin/python3", Some(b"python3"), None), None);
        // Compilers still win on their own names.
        assert_eq!(
            c(b"/usr/bin/gcc", Some(b"gcc"), Some(b"meson.py")),
            Some(Tool::Cc)
        );
    }
}
