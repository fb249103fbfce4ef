//! `pyrewrite-cc EMCC ARGS…`: one compile, run by emcc's own clang when the
//! command's shape is known, else by emcc (which teaches the shape).
//!
//! libpyrewrite.so sends a compile here (instead of to emcc) when the
//! profile's fast path is on and the rules say the command can take it
//! (`pyrewrite_rules::fast_path`). The environment says how
//! (`PYREWRITE_FAST_PATH`, `…_CACHE`, `…_LAUNCHER`); this program runs
//! outside the preload, like emcc.
//!
//! | the shape's cache entry | mode `on` | mode `verify` |
//! |---|---|---|
//! | a template | exec the launcher + clang command | emcc writes the object; clang writes a second one beside it; compared |
//! | none | emcc runs, its clang call recorded; the template is kept if clang from it writes the same bytes | same |
//! | "emcc" (a shape that failed to prove) | emcc | emcc |
//!
//! Every compile appends one line to `$PYREWRITE_SOCKET.fast-path` when the
//! driver runs the session (the driver's summary counts them), else to
//! `$PYREWRITE_EVENTS.fast-path` when the library was preloaded by hand.

mod cache;
mod record;
mod run;

use pyrewrite_protocol::env as vars;
use pyrewrite_rules::fast_path::{self, Mode, Template};
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

fn main() {
    let args: Vec<Vec<u8>> = std::env::args_os()
        .skip(1)
        .map(OsString::into_vec)
        .collect();
    // Started by emcc as its compiler wrapper: write the command down, run it.
    if let Some(file) = std::env::var_os(vars::FAST_PATH_RECORD) {
        run::exit_with(record::append_and_exec(Path::new(&file), &args));
    }
    if args.is_empty() {
        eprintln!(
            "pyrewrite-cc: runs one compile for libpyrewrite.so (the fast path, docs/fast-path.md)\n\
             usage: pyrewrite-cc EMCC ARGS...  (EMCC: emcc or em++, as the rules wrote it)"
        );
        std::process::exit(2);
    }
    if args[0] == b"--explain" {
        explain(args.get(1..).unwrap_or_default());
    }
    run::exit_with(compile(&args));
}

/// `pyrewrite-cc --explain EMCC ARGS…` (for `pyrewrite explain`): prints
/// what this compile would run, without running anything.
fn explain(args: &[Vec<u8>]) -> ! {
    let s = setup();
    let line = match explained(&s, args) {
        Ok(cmd) => format!("clang (learned): {}", run::joined(&cmd)),
        Err(why) => why,
    };
    println!("{line}");
    std::process::exit(0)
}

fn explained(s: &Setup, args: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, String> {
    let name = args.first().ok_or("emcc (no command given)")?;
    let emcc = run::resolve(name).ok_or("emcc (not found on PATH or under $EMSDK)")?;
    let mut emcc_argv = args.to_vec();
    emcc_argv[0] = emcc.clone();
    let borrowed: Vec<&[u8]> = emcc_argv.iter().map(Vec::as_slice).collect();
    let shape = fast_path::shape(&borrowed).map_err(|why| format!("emcc ({why})"))?;
    let cache = s.cache.as_ref().ok_or("emcc (no cache directory)")?;
    match cache.lookup(&cache.key(&emcc, &shape)) {
        cache::Entry::Template(t) => {
            let cmd = t.command(&shape.values()).unwrap_or_default();
            Ok(s.launcher.iter().cloned().chain(cmd).collect())
        }
        cache::Entry::Emcc(why) => Err(format!("emcc (this shape did not prove: {why})")),
        cache::Entry::None => Err(
            "emcc, this time: the first compile of this shape asks emcc and learns its clang command"
                .into(),
        ),
    }
}

/// What the environment told this compile.
struct Setup {
    mode: Mode,
    cache: Option<cache::Cache>,
    launcher: Vec<Vec<u8>>,
    log: Option<OsString>,
}

fn setup() -> Setup {
    let mode = std::env::var_os(vars::FAST_PATH)
        .and_then(|m| Mode::parse(m.as_bytes()))
        .unwrap_or(Mode::On);
    let launcher = std::env::var(vars::FAST_PATH_LAUNCHER)
        .ok()
        .and_then(|j| serde_json::from_str::<Vec<String>>(&j).ok())
        .unwrap_or_default()
        .into_iter()
        .map(String::into_bytes)
        .collect();
    // Next to the driver's socket (`run`), else next to the event log
    // (the library preloaded by hand with PYREWRITE_EVENTS).
    let log = std::env::var_os(vars::SOCKET)
        .or_else(|| std::env::var_os(vars::EVENTS))
        .filter(|p| !p.is_empty())
        .map(|mut s| {
            s.push(pyrewrite_protocol::socket::FAST_PATH_SUFFIX);
            s
        });
    Setup {
        mode,
        cache: std::env::var_os(vars::FAST_PATH_CACHE).map(cache::Cache::new),
        launcher,
        log,
    }
}

/// Runs the compile `args` (emcc first); returns the exit status.
fn compile(args: &[Vec<u8>]) -> run::Status {
    let s = setup();
    let Some(emcc) = run::resolve(&args[0]) else {
        eprintln!(
            "pyrewrite-cc: cannot find {} on PATH or under $EMSDK; install Emscripten or give \
             its absolute path in the target profile",
            String::from_utf8_lossy(&args[0])
        );
        return run::Status::Code(127);
    };
    let mut emcc_argv = args.to_vec();
    emcc_argv[0] = emcc.clone();
    let borrowed: Vec<&[u8]> = emcc_argv.iter().map(Vec::as_slice).collect();
    let shape = match fast_path::shape(&borrowed) {
        Ok(shape) => shape,
        Err(why) => return s.emcc(&emcc_argv, why),
    };
    let Some(cache) = &s.cache else {
        return s.emcc(
            &emcc_argv,
            "no cache directory ($PYREWRITE_FAST_PATH_CACHE)",
        );
    };
    if std::env::var_os("EM_COMPILER_WRAPPER").is_some() {
        return s.emcc(&emcc_argv, "EM_COMPILER_WRAPPER is the build's own");
    }
    let key = cache.key(&emcc, &shape);
    match cache.lookup(&key) {
        cache::Entry::Template(t) => match s.mode {
            Mode::Verify => verify(&s, &emcc_argv, &shape, &t),
            _ => {
                let cmd = t.command(&shape.values()).unwrap_or_default();
                s.log("fast", "");
                run::exec(&s.launcher, &cmd)
            }
        },
        cache::Entry::Emcc(why) => s.emcc(&emcc_argv, &why),
        cache::Entry::None => learn(&s, cache, &key, &emcc_argv, &shape),
    }
}

impl Setup {
    /// emcc runs the compile, behind the launcher.
    fn emcc(&self, argv: &[Vec<u8>], why: &str) -> run::Status {
        self.log("emcc", why);
        run::exec(&self.launcher, argv)
    }

    fn log(&self, what: &str, detail: &str) {
        if let Some(log) = &self.log {
            cache::append_line(Path::new(log), what, detail);
        }
    }
}

/// emcc compiles (its clang call recorded); if the template read from that
/// call makes clang write the same object, it is kept for the next file.
fn learn(
    s: &Setup,
    cache: &cache::Cache,
    key: &[u8],
    argv: &[Vec<u8>],
    shape: &fast_path::Shape<'_>,
) -> run::Status {
    let recording = record::Recording::new(cache);
    let status = run::emcc_recorded(argv, recording.as_ref().map(|r| r.path()));
    if !status.success() {
        s.log("emcc", "the compile failed");
        return status;
    }
    let commands = recording.map(|r| r.commands()).unwrap_or_default();
    let outcome = match commands.as_slice() {
        [one] => {
            let build: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
            let spelled = fast_path::driver_spelled(one);
            let recorded: Vec<&[u8]> = spelled.iter().map(Vec::as_slice).collect();
            Template::learn(shape, &build, &recorded)
                .map_err(|why| Unproven::ForGood(why.to_string()))
                .and_then(|t| prove(shape, &t, &s.launcher).map(|()| t))
        }
        [] => Err(Unproven::ForGood("emcc ran no compiler".into())),
        _ => Err(Unproven::ForGood("emcc ran more than one compiler".into())),
    };
    match outcome {
        Ok(t) => {
            cache.store(key, &t);
            s.log("learned", "");
        }
        Err(Unproven::ForGood(why)) => {
            cache.store_emcc(key, &why);
            s.log("emcc", &why);
        }
        Err(Unproven::ThisTime(why)) => s.log("emcc", &why),
    }
    status
}

/// Why a template is not kept: for good (the shape goes to emcc from now
/// on), or this time only (the proving compile could not run: the next
/// compile of the shape tries again).
enum Unproven {
    ForGood(String),
    ThisTime(String),
}

/// clang from `t` writes, beside the build's object, the same bytes as emcc
/// did. Behind the launcher: a compiler cache then holds this compile too,
/// and the next build of the same sources hits it for every compile.
fn prove(shape: &fast_path::Shape<'_>, t: &Template, launcher: &[Vec<u8>]) -> Result<(), Unproven> {
    match run::beside(shape, t, launcher) {
        Ok(true) => Ok(()),
        Ok(false) => Err(Unproven::ForGood(
            "clang from the template wrote another object than emcc".into(),
        )),
        Err(e) => Err(Unproven::ThisTime(format!(
            "clang from the template failed: {e}"
        ))),
    }
}

/// emcc writes the build's object; clang from the template writes another
/// beside it; both compared. A difference is reported, never hidden: the
/// build keeps emcc's object.
fn verify(s: &Setup, argv: &[Vec<u8>], shape: &fast_path::Shape<'_>, t: &Template) -> run::Status {
    let status = run::emcc_recorded(argv, None);
    if !status.success() {
        s.log("emcc", "the compile failed");
        return status;
    }
    // Bare clang: a compiler cache must not answer for it.
    match run::beside(shape, t, &[]) {
        Ok(true) => s.log("verified", ""),
        outcome => {
            let why = match outcome {
                Err(e) => format!("clang from the template failed: {e}"),
                _ => "the objects differ".to_string(),
            };
            let shown = run::joined(argv);
            eprintln!("pyrewrite-cc: fast path differs from emcc ({why}): {shown}");
            s.log("differs", &shown);
        }
    }
    status
}
