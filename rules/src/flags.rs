//! Compiler-driver flags: which ones take a value, which ones go, which
//! directories are the host's, and what is added.
//!
//! | flag | fate | why |
//! |---|---|---|
//! | `-pthread`, `-pthreads` | dropped | Pyodide has no threads; with emcc it turns on atomics and shared memory, which the runtime cannot load |
//! | `-m…` except wasm features and `-mllvm` | dropped | host CPU options (`-m64`, `-march=`, `-mtune=`, `-msse*`, `-mavx*`, `-mpopcnt`, `-mfpmath=`…): emcc rejects `-msse*` without `-msimd128`, clang rejects `-mfpmath=sse` |
//! | `-fcf-protection*` | dropped | Intel CET: clang rejects it for wasm32 |
//! | `-fstack-clash-protection` | dropped | x86 stack probing, unused for wasm |
//! | `-flto*`, `-ffat-lto-objects`, `-fno-fat-lto-objects`, `-fuse-linker-plugin` | dropped | the host Python's GCC LTO setup; wasm objects stay plain |
//! | `-fuse-ld=*` | dropped | host linker choice; emcc always uses wasm-ld |
//! | `-specs=*`, `--sysroot`, `-isysroot` | dropped | point at host toolchain files and the host root |
//! | `-pie`, `-no-pie`, `-static-pie` | dropped | host executable layout |
//! | `-fzero-call-used-regs=*`, `-ftrivial-auto-var-init=*`, `-f[no-]var-tracking*` | dropped | GCC options (distribution hardening) that clang 14 rejects |
//! | `-s` | dropped | strip at link: removes the wasm target_features section |
//! | `-z X`, `-zX` | dropped | ELF linker keywords (`-z defs` forbids the undefined symbols a side module needs) |
//! | `-B…compiler_compat` | dropped | conda's host linker wrapper dir |
//! | `-L/usr…`, `-L/lib…`, host Python lib dirs (`<prefix>/lib` of a profile `host_python_includes` entry, pyenv's `…/.pyenv/versions/V/lib`, `…/lib/pythonX.Y/config-…`) | dropped | host libraries are x86_64 ELF; wasm-ld would find them first |
//! | `-I`/`-isystem`/`-idirafter`/`-iquote` `/usr/include…`, `/usr/local/include…` | dropped | host glibc/x86 headers would shadow Emscripten's sysroot |
//! | host Python include (`…/include/python3.N[abi]`, or listed in the profile) | replaced by the target's | the host `pyconfig.h` describes x86_64 (8-byte `long`): wrong ABI |
//! | input objects and libraries under `/usr/lib…`, `/lib…` | dropped | host x86_64 files (libtool's `-nostdlib` C++ links name crti.o, crtbeginS.o, crtendS.o, crtn.o) |
//! | `-lgcc`, `-lgcc_s`, `-lgcc_eh`, `-lutil`, `-lpython*` | dropped | no such wasm libraries (wasm-ld: unable to find library); a side module gets libpython's symbols from the Pyodide runtime |
//! | `-fopenmp`, `-fopenmp=*` | refused | no threads in Pyodide; `-fopenmp-simd` is kept (no runtime) |
//! | compile: `-Werror=implicit-function-declaration -Werror=mismatched-parameter-types -Werror=return-type -fPIC` | added | C mistakes that are only warnings natively become function signature mismatches that trap at run time in wasm; side modules must be position independent |
//! | shared link: `-sSIDE_MODULE=1 -sWASM_BIGINT` | added | without SIDE_MODULE `emcc -shared` writes a relocatable object named `.so`; without WASM_BIGINT i64 imports do not match Pyodide's exports |
//! | `-Ofast` | replaced by `-O3 -ffast-math` | emcc 3.1.6 rejects the spelling (`Invalid optimization level: -Ofast`); this is what gcc and clang mean by it (yarl builds with it) |
//! | `-x c-header` first, when a C driver or `cpp` gets only `.h` inputs | added | emcc 3.1.6 reads a `.h` as a C++ header (`__cplusplus` defined, a C++ preprocessor): `gcc -E x.h`, as cffi-based builds run it (zstandard), must stay C |
//! | C++ shared link: the profile's `cxx_compat_object` | added | libc++ helpers emcc 3.1.6's headers call out of line that the runtime's newer libc++ no longer exports (docs/target.md) |
//! | shared link: `-Wl,--no-whole-archive` first | added | emcc 3.1.6 wraps every input of a `SIDE_MODULE=1` link in `--whole-archive`, so two archives holding the same object (meson bundles an uninstalled static library into an installed one that links it) fail with `duplicate symbol`; native `ld` pulls only the members it needs, which is what the package was built and tested with (newer Emscripten gives `-shared` native semantics too). A `-Wl,--whole-archive` the build asks for still applies |

// The option sets below are `match`es and `if` chains, not tables of string
// slices: a table of slices is an array of pointers that the dynamic loader
// must relocate in every process libpyrewrite.so is loaded into, compiler or
// not; literals compared in code cost nothing at load.

/// True when `arg` is an option that takes the next argument as its value.
pub(crate) fn takes_value(arg: &[u8]) -> bool {
    matches!(
        arg,
        b"-o"
            | b"-I"
            | b"-L"
            | b"-l"
            | b"-D"
            | b"-U"
            | b"-B"
            | b"-x"
            | b"-z"
            | b"-u"
            | b"-e"
            | b"-T"
            | b"-include"
            | b"-imacros"
            | b"-isystem"
            | b"-idirafter"
            | b"-iquote"
            | b"-iprefix"
            | b"-iwithprefix"
            | b"-iwithprefixbefore"
            | b"-isysroot"
            | b"--sysroot"
            | b"-MF"
            | b"-MT"
            | b"-MQ"
            | b"-MJ"
            | b"-Xlinker"
            | b"-Xpreprocessor"
            | b"-Xassembler"
            | b"-Xclang"
            | b"-mllvm"
            | b"-target"
            | b"--target"
            | b"-triple"
            | b"-arch"
            | b"-aux-info"
            | b"-dumpbase"
            | b"-dumpdir"
            | b"--param"
            | b"-specs"
            | b"--specs"
    )
}

/// Single flags that go when equal, with the reason.
fn dropped_exact(arg: &[u8]) -> Option<&'static str> {
    Some(match arg {
        b"-pthread" | b"-pthreads" => NO_THREADS,
        b"-fstack-clash-protection" => "x86 stack probing; unused for wasm",
        b"-ffat-lto-objects" | b"-fno-fat-lto-objects" | b"-fuse-linker-plugin" => HOST_LTO,
        b"-pie" | b"-no-pie" | b"-static-pie" => HOST_EXE,
        b"-s" => "strip at link: removes the wasm target_features section",
        _ => return None,
    })
}

/// Single flags that go when they start with a prefix, with the reason
/// (first match wins, in this order).
fn dropped_prefix(arg: &[u8]) -> Option<&'static str> {
    let p = |prefix: &[u8]| arg.starts_with(prefix);
    Some(if p(b"-fcf-protection") {
        "Intel CET; clang rejects it for wasm32"
    } else if p(b"-flto") {
        HOST_LTO
    } else if p(b"-fuse-ld=") {
        "host linker choice; emcc always uses wasm-ld"
    } else if p(b"-specs=") || p(b"--specs=") || p(b"--sysroot=") {
        HOST_FILES
    } else if p(b"-z") {
        "ELF linker keyword; wasm-ld rejects it"
    } else if p(b"-fzero-call-used-regs")
        || p(b"-ftrivial-auto-var-init")
        || p(b"-fvar-tracking")
        || p(b"-fno-var-tracking")
    {
        GCC_ONLY
    } else {
        return None;
    })
}

const GCC_ONLY: &str =
    "GCC hardening/debug option that emcc's clang 14 rejects (unknown or disabled argument)";

pub(crate) const NO_THREADS: &str =
    "Pyodide has no threads; emcc would turn on atomics and shared memory";
const HOST_LTO: &str = "the host GCC's LTO setup; wasm objects stay plain";
const HOST_EXE: &str = "host executable layout";
pub(crate) const HOST_FILES: &str = "points at host toolchain files or the host root";
pub(crate) const HOST_CPU: &str = "host CPU option; meaningless or rejected for wasm32";
pub(crate) const HOST_HEADERS: &str =
    "host system headers would shadow Emscripten's sysroot (glibc, x86_64)";
pub(crate) const HOST_LIBS: &str =
    "host library dir: its x86_64 ELF libraries would be found before wasm ones";
pub(crate) const COMPILER_COMPAT: &str = "conda's host linker wrapper dir";

/// Why a single flag goes, if it does (value-taking options and `-m` are handled elsewhere).
pub(crate) fn dropped_flag(arg: &[u8]) -> Option<&'static str> {
    dropped_exact(arg).or_else(|| dropped_prefix(arg))
}

/// True for a `-m…` flag to keep: a wasm feature (`-msimd128`, `-mno-sign-ext`).
/// `-mllvm` is a value option handled by the caller.
pub(crate) fn is_wasm_machine_flag(arg: &[u8]) -> bool {
    let Some(rest) = arg.strip_prefix(b"-m") else {
        return false;
    };
    // The wasm features clang/emcc understand as `-mFEATURE` / `-mno-FEATURE`.
    matches!(
        rest.strip_prefix(b"no-").unwrap_or(rest),
        b"simd128"
            | b"relaxed-simd"
            | b"bulk-memory"
            | b"nontrapping-fptoint"
            | b"sign-ext"
            | b"mutable-globals"
            | b"tail-call"
            | b"reference-types"
            | b"multivalue"
            | b"exception-handling"
            | b"extended-const"
            | b"multimemory"
    )
}

/// Libraries that do not exist for wasm.
pub(crate) fn dropped_lib(name: &[u8]) -> Option<&'static str> {
    match name {
        b"gcc" | b"gcc_s" | b"gcc_eh" => Some("GCC's runtime library; emcc brings compiler-rt"),
        b"util" => Some("no libutil in Emscripten (wasm-ld: unable to find library)"),
        _ if name.starts_with(b"python") => {
            Some("a side module must not link libpython: the Pyodide runtime provides its symbols")
        }
        _ => None,
    }
}

fn trim_slashes(dir: &[u8]) -> &[u8] {
    let mut d = dir;
    while d.len() > 1 {
        match d.strip_suffix(b"/") {
            Some(shorter) => d = shorter,
            None => break,
        }
    }
    d
}

fn under(dir: &[u8], root: &[u8]) -> bool {
    dir == root || (dir.starts_with(root) && dir.get(root.len()) == Some(&b'/'))
}

pub(crate) const HOST_OBJECT: &str =
    "a host x86_64 object or library (crt files, libgcc, libstdc++): wasm-ld cannot use it";

/// An object or library input under the host's library dirs (libtool's
/// `-nostdlib` links name crti.o, crtbeginS.o… explicitly).
pub(crate) fn is_host_object(path: &[u8]) -> bool {
    [
        "/usr/lib",
        "/usr/lib64",
        "/usr/lib32",
        "/lib",
        "/lib64",
        "/lib32",
    ]
    .iter()
    .any(|root| under(path, root.as_bytes()) && path.len() > root.len())
        && !is_source(path)
}

/// `<prefix>/include/pythonX.Y[abiflags]`: the shape of every CPython include dir.
pub(crate) fn looks_like_python_include(dir: &[u8]) -> bool {
    let mut parts = trim_slashes(dir).rsplitn(2, |&b| b == b'/');
    let (Some(name), Some(parent)) = (parts.next(), parts.next()) else {
        return false;
    };
    if !(parent.ends_with(b"/include") || parent == b"include") {
        return false;
    }
    let Some(version) = name.strip_prefix(b"python") else {
        return false;
    };
    let digits_end = |s: &[u8]| s.iter().take_while(|b| b.is_ascii_digit()).count();
    let major = digits_end(version);
    if major == 0 || version.get(major) != Some(&b'.') {
        return false;
    }
    let rest = version.get(major + 1..).unwrap_or_default();
    let minor = digits_end(rest);
    minor > 0
        && rest
            .get(minor..)
            .is_some_and(|abiflags| abiflags.iter().all(u8::is_ascii_lowercase))
}

/// Host system include dirs.
pub(crate) fn is_host_include(dir: &[u8]) -> bool {
    let dir = trim_slashes(dir);
    under(dir, b"/usr/include") || under(dir, b"/usr/local/include")
}

/// Host library dirs: the system's, and a host Python's `<prefix>/lib`
/// (`python_prefixes`) or `…/lib/pythonX.Y/config-…`.
pub(crate) fn is_host_lib_dir(dir: &[u8], python_prefixes: &[&[u8]]) -> bool {
    let dir = trim_slashes(dir);
    if crate::tool::is_emscripten_path(dir) || dir.ends_with(b"/emscripten") {
        // Debian's Emscripten sysroot lives under /usr/share/emscripten.
        return false;
    }
    if ["/usr", "/lib", "/lib32", "/lib64"]
        .iter()
        .any(|root| under(dir, root.as_bytes()))
    {
        return true;
    }
    if let Some(prefix) = dir.strip_suffix(b"/lib") {
        // The profile's host Python prefixes, and pyenv's layout.
        let pyenv = prefix
            .windows(b"/.pyenv/versions/".len())
            .any(|w| w == b"/.pyenv/versions/");
        if python_prefixes.contains(&prefix) || pyenv {
            return true;
        }
    }
    let name = dir.rsplit(|&b| b == b'/').next().unwrap_or(b"");
    name.starts_with(b"config-3")
        && dir
            .windows(b"/lib/python".len())
            .any(|w| w == b"/lib/python")
}

/// The host Python prefixes of the profile's `host_python_includes` (their
/// library directories are the host's, never linked into a wasm module).
pub(crate) fn host_python_prefixes(target: &crate::Target) -> alloc::vec::Vec<&[u8]> {
    target
        .host_python_includes
        .iter()
        .filter_map(|d| python_prefix(d.as_bytes()))
        .collect()
}

/// The `<prefix>` of a Python include dir `<prefix>/include/python…`.
pub(crate) fn python_prefix(include_dir: &[u8]) -> Option<&[u8]> {
    let mut parts = trim_slashes(include_dir).rsplitn(2, |&b| b == b'/');
    parts.next();
    parts.next()?.strip_suffix(b"/include")
}

/// Same directory, ignoring trailing slashes.
pub(crate) fn same_dir(a: &[u8], b: &[u8]) -> bool {
    trim_slashes(a) == trim_slashes(b)
}

/// The three `-Werror=` flags every compile gets.
pub(crate) const WERROR: &[&str] = &[
    "-Werror=implicit-function-declaration",
    "-Werror=mismatched-parameter-types",
    "-Werror=return-type",
];

/// Settings every shared link gets.
pub(crate) const SIDE_MODULE: &[&str] = &["-sSIDE_MODULE=1", "-sWASM_BIGINT"];

/// What `-Ofast` means to gcc and clang; emcc 3.1.6 refuses the spelling
/// (`Invalid optimization level: -Ofast`).
pub(crate) const OFAST: &[&str] = &["-O3", "-ffast-math"];
pub(crate) const OFAST_WHY: &str =
    "emcc 3.1.6 rejects -Ofast (`Invalid optimization level`); gcc and clang define it so";

/// Put first when a C driver (or `cpp`) gets only `.h` inputs: emcc 3.1.6
/// would preprocess them as C++ headers (`__cplusplus` defined), gcc as C.
pub(crate) const C_HEADER: &[&str] = &["-x", "c-header"];

/// `.h`: a C header to gcc, a C++ header to emcc 3.1.6.
pub(crate) fn is_c_header(name: &[u8]) -> bool {
    extension(name) == b"h"
}

/// Put first in a shared link: emcc keeps the order of linker flags and
/// inputs, and opens its `SIDE_MODULE=1` link with `--whole-archive`; this
/// closes it before the first input, so archives are searched as native `ld`
/// searches them (only members that define a needed symbol).
pub(crate) const NATIVE_ARCHIVES: &str = "-Wl,--no-whole-archive";

/// Added to a program link, so that the build can run what it linked (a
/// configure test, meson's `cc.run`, CMake's `try_run`, a code generator) and
/// get wasm32's answers: the exit status of `main` (`EXIT_RUNTIME`), the host
/// file system (`NODERAWFS`) for every file and for stdout/stderr too
/// (`FORCE_FILESYSTEM`: without it a program that only prints gets emcc's
/// line-buffered console, which adds a newline at exit that the native
/// program never wrote), and one self-contained file (`SINGLE_FILE`: the
/// wasm inlined, so node ≥ 18's `fetch` is never used to load it — emcc
/// 3.1.6's loader would pass it a file path — and the program can be moved
/// like a native one).
pub(crate) const RUNNABLE_PROGRAM: &[&str] = &[
    "-sEXIT_RUNTIME=1",
    "-sNODERAWFS=1",
    "-sFORCE_FILESYSTEM=1",
    "-sSINGLE_FILE=1",
];

/// The environment of a program link: emcc's autoconf mode adds the `#!`
/// line for node and sets the execute bit (3.1.6 has no other switch for it).
pub(crate) const AUTOCONF_MODE: (&str, &str) = ("EMMAKEN_JUST_CONFIGURE", "1");

/// True when a link's output is a program a build may run: no `-o` (emcc's
/// `a.out`), or a name without an extension, or `.exe`, `.out`, `.js`. Not
/// `.html`, `.wasm`, `.mjs`: those are web or standalone-wasm artefacts.
pub(crate) fn is_program_name(output: Option<&[u8]>) -> bool {
    let Some(output) = output else {
        return true;
    };
    let base = crate::tool::basename(output);
    match base.iter().rposition(|&b| b == b'.') {
        None | Some(0) => true,
        Some(dot) => matches!(base.get(dot..), Some(b".exe" | b".out" | b".js")),
    }
}

/// True for file names a compiler compiles (not objects or archives).
pub(crate) fn is_source(name: &[u8]) -> bool {
    matches!(
        extension(name),
        b"c" | b"i" | b"s" | b"S" | b"sx" | b"m" | b"mm" | b"M"
    ) || is_cxx_source(name)
}

/// C++ sources: `.cpp .cc .cxx .C .c++ .cp .CPP .CC .ii` (`.CC` is clang's,
/// and emcc is clang).
pub(crate) fn is_cxx_source(name: &[u8]) -> bool {
    matches!(
        extension(name),
        b"cpp" | b"cc" | b"cxx" | b"C" | b"c++" | b"cp" | b"CPP" | b"CC" | b"ii"
    )
}

fn extension(name: &[u8]) -> &[u8] {
    let mut parts = crate::tool::basename(name).rsplitn(2, |&b| b == b'.');
    match (parts.next(), parts.next()) {
        (Some(ext), Some(stem)) if !stem.is_empty() => ext,
        _ => b"",
    }
}

/// `x.so` or `x.so.1`, `x.so.1.2`: a shared object's name.
pub(crate) fn is_shared_object_name(name: &[u8]) -> bool {
    let base = crate::tool::basename(name);
    if base.ends_with(b".so") && base.len() > 3 {
        return true;
    }
    // Strip trailing `.N` groups, then look for `.so`.
    let mut head = base;
    loop {
        let mut parts = head.rsplitn(2, |&b| b == b'.');
        let (Some(part), Some(stem)) = (parts.next(), parts.next()) else {
            return false;
        };
        if part == b"so" {
            return head.len() < base.len() && !stem.is_empty();
        }
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return false;
        }
        head = stem;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_include_shape() {
        for yes in [
            "/usr/include/python3.11",
            "/home/dev/.pyenv/versions/3.11.7/include/python3.11/",
            "/usr/local/include/python3.12d",
            "/opt/py/include/python3.13t",
            "include/python3.7m",
        ] {
            assert!(looks_like_python_include(yes.as_bytes()), "{yes}");
        }
        for no in [
            "/usr/include",
            "/usr/include/python3.11/internal",
            "/src/python3.11",
            "/usr/include/python3",
            "/usr/include/python3.x",
            "/usr/include/pythonic",
        ] {
            assert!(!looks_like_python_include(no.as_bytes()), "{no}");
        }
        assert_eq!(
            python_prefix(b"/home/dev/.pyenv/versions/3.11.7/include/python3.11"),
            Some(&b"/home/dev/.pyenv/versions/3.11.7"[..])
        );
    }

    #[test]
    fn host_dirs() {
        assert!(is_host_include(b"/usr/include"));
        assert!(is_host_include(b"/usr/include/x86_64-linux-gnu/"));
        assert!(is_host_include(b"/usr/local/include"));
        assert!(!is_host_include(b"/usr/includes"));
        assert!(!is_host_include(b"/src/usr/include"));
        let pre: &[&[u8]] = &[b"/home/dev/.pyenv/versions/3.11.7"];
        assert!(is_host_lib_dir(b"/usr/lib/x86_64-linux-gnu", pre));
        assert!(is_host_lib_dir(b"/lib64", pre));
        assert!(is_host_lib_dir(
            b"/home/dev/.pyenv/versions/3.11.7/lib",
            pre
        ));
        assert!(is_host_lib_dir(
            b"/opt/py/lib/python3.11/config-3.11-x86_64-linux-gnu",
            pre
        ));
        assert!(!is_host_lib_dir(b"/opt/py/lib", pre));
        assert!(!is_host_lib_dir(b"build/lib", pre));
        assert!(!is_host_lib_dir(b"/usrx/lib", pre));
        assert!(!is_host_lib_dir(
            b"/usr/share/emscripten/cache/sysroot/lib/wasm32-emscripten/pic",
            pre
        ));
    }

    #[test]
    fn names() {
        for yes in [
            "x.so",
            "a/b/libx.so.1",
            "libx.so.1.2.3",
            "x.cpython-311-x86_64-linux-gnu.so",
        ] {
            assert!(is_shared_object_name(yes.as_bytes()), "{yes}");
        }
        for no in [".so", "x.so.", "x.sox", "x.o", "so", "libx.so.a", "x.so.1a"] {
            assert!(!is_shared_object_name(no.as_bytes()), "{no}");
        }
        assert!(is_cxx_source(b"src/a.C") && is_cxx_source(b"a.c++") && !is_cxx_source(b"a.c"));
        assert!(
            is_source(b"a.c") && is_source(b"a.cpp") && !is_source(b"a.o") && !is_source(b".c")
        );
        assert!(is_wasm_machine_flag(b"-msimd128") && is_wasm_machine_flag(b"-mno-sign-ext"));
        assert!(!is_wasm_machine_flag(b"-msse2") && !is_wasm_machine_flag(b"-m64"));
    }
}
