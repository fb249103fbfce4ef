//! The rewrite engine: the one place that knows how a native compiler command
//! becomes its wasm32 twin.
//!
//! Pure by design: no I/O, no globals, no environment reads. The preload calls
//! it inside every exec of a build and the driver calls it for `pyrewrite
//! explain`, so both always agree. Anything that needs the outside world (a
//! response file's contents) comes in through arguments. Arguments are byte
//! strings; nothing here assumes UTF-8 or panics on odd input.
//!
//! | module | what it knows |
//! |---|---|
//! | [`tool`] | which program an exec is ([`classify`], allocation-free) |
//! | [`command`] | what a command does for the build (sources, objects, link output, archive), read by the rewrite's own reader: the driver's session uses it |
//! | `compiler` | gcc/clang/cpp commands → emcc/em++ |
//! | `ld` | raw `ld` commands → emcc links |
//! | `flags` | driver flags that go, host dirs, what is added |
//! | [`fast_path`] | compiles run by emcc's own clang: a command's shape, the template emcc's clang command becomes, and where a compile goes (`pyrewrite-cc` or emcc, behind the profile's launcher) |
//! | `linker` | `-Wl,` items wasm-ld rejects |
//! | `build_system` | `meson setup` / `cmake` configure → cross builds for wasm32 |
//! | [`response_file`] | `@file` reading, writing and naming |
//! | [`target`] | the target profile |
//! | [`profile`] | where the profile is (flag, `$PYREWRITE_TARGET`, the user's default) and loading it: one loader for the preload and the driver |
//!
//! The per-tool rules (`ar`, `ranlib`, `strip`) live here:
//!
//! | tool | decision | why |
//! |---|---|---|
//! | `ar` | `emar` + the same arguments, minus `--plugin X` | emar is llvm-ar with Emscripten's setup; the GCC LTO plugin is host-only |
//! | `ranlib` | `emranlib` + the same arguments, minus `--plugin X` | same |
//! | `strip` | answer: exit 0, nothing printed; with `-o OUT IN`: copy IN to OUT | stripping a side module can remove the wasm sections Pyodide needs (`dylink.0`, target features) |

// No std: libpyrewrite.so runs this engine inside every process of a build and
// links no Rust std (it would add ~40k instructions of loading to every exec);
// heap types come from `alloc`. Unit tests run with std.
#![cfg_attr(not(test), no_std)]
// Inside libpyrewrite.so a panic aborts the process that made the call (make,
// ninja, pip...: no unwinding without std), so nothing here may index, unwrap
// or panic.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::unreachable
)]
#![cfg_attr(
    test,
    allow(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]
extern crate alloc;

mod build_system;
pub mod command;
mod compiler;
mod expand;
pub mod fast_path;
mod flags;
mod ld;
mod linker;
mod prelude;
pub mod profile;
pub mod response_file;
pub mod target;
pub mod tool;

use prelude::*;

pub use build_system::{cmake_toolchain, meson_cross_file};
pub use target::generated_dir;
pub use target::{resolve_program, Target, TargetError};
pub use tool::{classify, classify_command, Tool};

/// What should run instead of an exec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Not ours: run it unchanged.
    Passthrough,
    /// Run `argv` instead; `argv[0]` is the program to exec (absolute when the
    /// target knows where emcc lives, else a name to look up in PATH).
    Rewrite {
        tool: Tool,
        argv: Vec<Vec<u8>>,
        /// Files the caller must write before the exec (rewritten copies of
        /// response files), as (path, contents). Paths are as the build gave
        /// them (relative to the exec's cwd), see [`response_file`]; generated
        /// build-system files are absolute, under [`Target::generated_dir`].
        files: Vec<(Vec<u8>, Vec<u8>)>,
        /// Variables this command needs in its environment, on top of the
        /// profile's `env` (e.g. emcc's autoconf mode for a program link).
        env: Vec<(String, String)>,
    },
    /// Do not run anything: print `stdout` and exit with `exit_code`.
    Answer {
        tool: Tool,
        stdout: Vec<u8>,
        exit_code: i32,
        reason: String,
    },
    /// Do not run anything: print `message` (no trailing newline) on stderr
    /// and exit with `exit_code`.
    Refuse {
        tool: Tool,
        message: String,
        exit_code: i32,
    },
}

impl Decision {
    /// The action, as events report it (`pyrewrite_protocol::Action`).
    pub fn action(&self) -> pyrewrite_protocol::Action {
        use pyrewrite_protocol::Action;
        match self {
            Decision::Passthrough => Action::Passthrough,
            Decision::Rewrite { .. } => Action::Rewrite,
            Decision::Answer { .. } => Action::Answer,
            Decision::Refuse { .. } => Action::Refuse,
        }
    }

    /// The action word of events and `pyrewrite explain --json`
    /// (`passthrough`, `rewrite`, `answer`, `refuse`): the protocol's one
    /// spelling, [`pyrewrite_protocol::Action::as_str`].
    pub fn action_name(&self) -> &'static str {
        self.action().as_str()
    }

    /// The recognised tool; `None` for a passthrough.
    pub fn tool(&self) -> Option<Tool> {
        match self {
            Decision::Passthrough => None,
            Decision::Rewrite { tool, .. }
            | Decision::Answer { tool, .. }
            | Decision::Refuse { tool, .. } => Some(*tool),
        }
    }

    /// The reason carried by an answer or a refusal (use [`explain`] for
    /// every decision's reason).
    pub fn reason(&self) -> Option<&str> {
        match self {
            Decision::Answer { reason, .. } => Some(reason),
            Decision::Refuse { message, .. } => Some(message),
            _ => None,
        }
    }
}

/// A decision with the reasons behind it, for people (`pyrewrite explain`,
/// debug logs). Costs allocations; the hot path uses [`decide`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub decision: Decision,
    /// One line: what kind of command this is and what runs instead.
    pub reason: String,
    /// One line per change: each dropped or replaced argument with its why,
    /// and the added flags.
    pub notes: Vec<String>,
}

/// Collects reasons only when asked to, so [`decide`] pays nothing for them.
pub(crate) struct Notes {
    on: bool,
    summary: Option<String>,
    items: Vec<String>,
}

impl Notes {
    fn new(on: bool) -> Notes {
        Notes {
            on,
            summary: None,
            items: Vec::new(),
        }
    }

    pub(crate) fn add(&mut self, note: impl FnOnce() -> String) {
        if self.on {
            self.items.push(note());
        }
    }

    pub(crate) fn summary(&mut self, text: impl FnOnce() -> String) {
        if self.on {
            self.summary = Some(text());
        }
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
    decide_with(path, argv, target, read_file, &mut Notes::new(false))
}

/// [`decide`], with the reasons.
pub fn explain(
    path: &[u8],
    argv: &[&[u8]],
    target: &Target,
    read_file: &dyn Fn(&[u8]) -> Option<Vec<u8>>,
) -> Explanation {
    let mut notes = Notes::new(true);
    let decision = decide_with(path, argv, target, read_file, &mut notes);
    let reason = match (&decision, notes.summary.take()) {
        (_, Some(summary)) => summary,
        (Decision::Passthrough, None) => {
            "not a compiler or binutil pyrewrite rewrites: runs unchanged".to_string()
        }
        (Decision::Answer { reason, .. }, None) => reason.clone(),
        (Decision::Refuse { message, .. }, None) => message.clone(),
        (Decision::Rewrite { tool, argv, .. }, None) => format!(
            "{} → {}",
            tool.as_str(),
            argv.first()
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .unwrap_or_default()
        ),
    };
    Explanation {
        decision,
        reason,
        notes: notes.items,
    }
}

fn decide_with(
    path: &[u8],
    argv: &[&[u8]],
    target: &Target,
    read_file: &dyn Fn(&[u8]) -> Option<Vec<u8>>,
    notes: &mut Notes,
) -> Decision {
    let Some(tool) = classify_command(path, argv.first().copied(), || argv.get(1).copied()) else {
        return Decision::Passthrough;
    };
    if tool.is_compiler() && tool::is_launcher(path, argv.first().copied()) {
        return launcher(tool, path, argv, target, read_file, notes);
    }
    match tool {
        Tool::Cc | Tool::Cxx | Tool::Cpp => compiler::decide(tool, argv, target, read_file, notes),
        Tool::Ld => ld::decide(argv, target, read_file, notes),
        Tool::Ar => archiver(tool, &target.emar, argv, notes),
        Tool::Ranlib => archiver(tool, &target.emranlib, argv, notes),
        Tool::Strip => strip(argv),
        Tool::Meson | Tool::Cmake | Tool::Backend => {
            build_system::decide(tool, path, argv, target, notes)
        }
    }
}

/// `ccache gcc ARGS` → `ccache emcc ARGS'`: the launched compiler's own
/// decision, still run by the cache, so the cache keys on emcc and the
/// rewritten arguments (a native build never gets a wasm object from it, nor
/// the other way round). The build's cache goes before the profile's
/// `launcher`, so with the fast path it launches the clang command
/// (`pyrewrite-cc` puts it there). Answers and refusals need no cache.
fn launcher(
    tool: Tool,
    path: &[u8],
    argv: &[&[u8]],
    target: &Target,
    read_file: &dyn Fn(&[u8]) -> Option<Vec<u8>>,
    notes: &mut Notes,
) -> Decision {
    let inner = argv.get(1..).unwrap_or(&[]);
    let cache = String::from_utf8_lossy(path).into_owned();
    let mut launched = target.clone();
    launched.launcher.insert(0, cache.clone());
    let decision = compiler::decide(tool, inner, &launched, read_file, notes);
    if let Decision::Rewrite {
        argv: rewritten, ..
    } = &decision
    {
        let cache = String::from_utf8_lossy(tool::basename(path)).into_owned();
        notes.summary(|| {
            let run: Vec<String> = rewritten
                .iter()
                .take(2)
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect();
            format!("{cache} launching {} → {}", tool.as_str(), run.join(" "))
        });
    }
    decision
}

/// `ar`/`ranlib` → `emar`/`emranlib` with the same arguments, minus the GCC
/// LTO plugin.
fn archiver(tool: Tool, program: &str, argv: &[&[u8]], notes: &mut Notes) -> Decision {
    let mut out = vec![program.as_bytes().to_vec()];
    let mut args = argv.iter().skip(1);
    while let Some(arg) = args.next() {
        if *arg == b"--plugin" {
            let value = args.next();
            notes.add(|| {
                let v = value
                    .map(|v| String::from_utf8_lossy(v))
                    .unwrap_or_default();
                format!("dropped `--plugin {v}`: the host GCC's LTO plugin")
            });
        } else if arg.starts_with(b"--plugin=") {
            notes.add(|| {
                let a = String::from_utf8_lossy(arg);
                format!("dropped `{a}`: the host GCC's LTO plugin")
            });
        } else {
            out.push(arg.to_vec());
        }
    }
    notes.summary(|| format!("{} → {program}", tool.as_str()));
    Decision::Rewrite {
        tool,
        argv: out,
        files: Vec::new(),
        env: Vec::new(),
    }
}

const STRIP_WHY: &str =
    "strip does nothing for wasm: stripping a side module can remove dylink.0 and target features";

/// `strip` succeeds without touching anything; `strip -o OUT IN` copies IN to OUT
/// so the file the build expects exists.
fn strip(argv: &[&[u8]]) -> Decision {
    let mut output = None;
    let mut inputs = Vec::new();
    let mut args = argv.iter().skip(1);
    while let Some(arg) = args.next() {
        if *arg == b"-o" {
            output = args.next().copied();
        } else if let Some(o) = arg.strip_prefix(b"-o").filter(|o| !o.is_empty()) {
            output = Some(o);
        } else if let Some(o) = arg.strip_prefix(b"--output-file=") {
            output = Some(o);
        } else if arg.len() > 1 && arg.starts_with(b"-") {
            // Options such as `-R .comment`, `-K sym`, `-N sym` carry a value.
            if matches!(*arg, b"-R" | b"-K" | b"-N" | b"-F" | b"-I" | b"-O") {
                args.next();
            }
        } else {
            inputs.push(*arg);
        }
    }
    match (output, inputs.as_slice()) {
        (Some(out), [input]) => Decision::Rewrite {
            tool: Tool::Strip,
            argv: vec![
                b"/bin/cp".to_vec(),
                b"-f".to_vec(),
                b"--".to_vec(),
                input.to_vec(),
                out.to_vec(),
            ],
            files: Vec::new(),
            env: Vec::new(),
        },
        _ => Decision::Answer {
            tool: Tool::Strip,
            stdout: Vec::new(),
            exit_code: 0,
            reason: STRIP_WHY.to_string(),
        },
    }
}
