//! The rewrite engine: the one place that knows how a native compiler command
//! becomes its wasm32 twin.
//!
//! Pure by design: no I/O, no globals, no environment reads. The preload calls
//! it inside every exec of a build and the driver calls it for `pyrewrite
//! explain`, so both always agree. Anything that needs the outside world (a
//! response file's contents) comes in through arguments.

pub mod target;

pub use target::Target;

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
    Ar,
    Ranlib,
    Strip,
}

impl Tool {
    pub fn as_str(self) -> &'static str {
        match self {
            Tool::Cc => "cc",
            Tool::Cxx => "c++",
            Tool::Cpp => "cpp",
            Tool::Ld => "ld",
            Tool::Ar => "ar",
            Tool::Ranlib => "ranlib",
            Tool::Strip => "strip",
        }
    }
}

/// What should run instead of an exec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Not ours: run it unchanged.
    Passthrough,
    /// Run `argv` instead; `argv[0]` is the program to exec (absolute when the
    /// target knows where emcc lives).
    Rewrite {
        tool: Tool,
        argv: Vec<Vec<u8>>,
        /// Files the caller must write before the exec (rewritten copies of
        /// response files), as (path, contents).
        files: Vec<(Vec<u8>, Vec<u8>)>,
    },
    /// Do not run anything: print `stdout` and exit with `exit_code`.
    Answer {
        tool: Tool,
        stdout: Vec<u8>,
        exit_code: i32,
        reason: String,
    },
    /// Do not run anything: print `message` on stderr and exit with `exit_code`.
    Refuse {
        tool: Tool,
        message: String,
        exit_code: i32,
    },
}

/// Which tool, if any, an exec is: by the basename of the exec path and of argv[0].
pub fn classify(path: &[u8], argv0: Option<&[u8]>) -> Option<Tool> {
    classify_name(basename(path)).or_else(|| argv0.and_then(|a| classify_name(basename(a))))
}

fn basename(p: &[u8]) -> &[u8] {
    match p.iter().rposition(|&b| b == b'/') {
        Some(i) => &p[i + 1..],
        None => p,
    }
}

fn classify_name(name: &[u8]) -> Option<Tool> {
    // Placeholder: the full recognition (triplet prefixes, version suffixes)
    // is the rules issue's work.
    match name {
        b"cc" | b"gcc" | b"clang" => Some(Tool::Cc),
        b"c++" | b"g++" | b"clang++" => Some(Tool::Cxx),
        b"cpp" => Some(Tool::Cpp),
        b"ld" => Some(Tool::Ld),
        b"ar" => Some(Tool::Ar),
        b"ranlib" => Some(Tool::Ranlib),
        b"strip" => Some(Tool::Strip),
        _ => None,
    }
}

/// Decide what runs instead of `path` with `argv`.
///
/// `read_file` gives the contents of a response file (`@file`) named in argv,
/// or `None` if it cannot be read; it is the engine's only window on the world.
pub fn decide(
    path: &[u8],
    argv: &[&[u8]],
    target: &Target,
    read_file: &dyn Fn(&[u8]) -> Option<Vec<u8>>,
) -> Decision {
    let _ = read_file;
    let Some(tool) = classify(path, argv.first().copied()) else {
        return Decision::Passthrough;
    };
    let program = match tool {
        Tool::Cxx => target.emxx.clone(),
        _ => target.emcc.clone(),
    };
    let mut out = vec![program.into_bytes()];
    out.extend(argv.iter().skip(1).map(|a| a.to_vec()));
    Decision::Rewrite {
        tool,
        argv: out,
        files: Vec::new(),
    }
}
