//! Did what the build compiled reach the wheels? A package whose C
//! extension fails to compile under the rewrite often falls back to pure
//! Python and still builds a wheel: without this check `run` would exit 0
//! with a `py3-none-any` wheel, or with one missing an extension module.
//!
//! What the session knows: every compile and link the build ran (from the
//! event stream, [`Attempts`]); what it does not: their exit status (events
//! are sent before the exec). A compile is therefore judged by its effect:
//! it **failed** when it was refused by the rules, or when it was rewritten
//! and its declared output (`-o`, else `NAME.o` in its directory) is missing
//! or older than the compile after the build, while its source file and the
//! output's directory still exist. The last two conditions keep out probes
//! in temporary directories the build removed (nothing can be said about
//! them) and make the judgement about the package's own sources. An
//! extension module **linked** in the session (an output named like one) is
//! missing when no wheel holds a shared object of that module name.
//!
//! The verdict ([`judge`]), for a session that produced wheels:
//! - no wheel holds an extension module, and the build attempted a compile
//!   or link, or attempted none although its source tree holds C/C++
//!   sources: [`Verdict::Pure`];
//! - some do, but a compile of a package source failed or a linked module
//!   is in no wheel: [`Verdict::Incomplete`];
//! - otherwise nothing to say (a genuinely pure project compiles nothing and
//!   has no C sources).
//!
//! Either verdict makes `run` exit [`EXIT_INCOMPLETE`] unless `--allow-pure`.
//! To show the error of a failed rewritten compile (the build's output is
//! gone: pip hides the output of a build that succeeded), the compile is run
//! again after the build, with its outputs sent to a private temporary
//! directory ([`reproduce`]).

use super::step::{classify_step, event_step, Step};
use crate::wheel::extension::{self, SharedObject};
use crate::wheel::provenance::shell_words;
use pyrewrite_protocol::{env, Action, Event};
use pyrewrite_rules::Target;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// Exit status of `run` when the build fell back to pure Python, or left an
/// extension module out, and `--allow-pure` was not given.
pub const EXIT_INCOMPLETE: u8 = 5;

/// An output whose mtime is this much older than the compile's start was
/// not written by it (file-system timestamps may lag the event clock by a
/// scheduler tick).
const STALE_TOLERANCE_SECS: f64 = 1.0;

/// Failed compiles re-run to show their error; the others are listed.
const REPRODUCED: usize = 3;
/// Evidence items listed in one report.
const LISTED: usize = 8;
/// Lines of a compile's error shown.
const ERROR_LINES: usize = 6;
/// A re-run compile taking longer is stopped.
const REPRODUCE_TIMEOUT: Duration = Duration::from_secs(120);

/// Directories never searched for C/C++ sources: build outputs, VCS and
/// tool state, virtual environments, and trees whose sources are not the
/// package's (tests, docs, examples).
const SKIPPED_DIRS: &[&str] = &[
    "build",
    "dist",
    "node_modules",
    "__pycache__",
    "site-packages",
    "test",
    "tests",
    "testing",
    "doc",
    "docs",
    "example",
    "examples",
    "benchmarks",
];
const SOURCE_EXTENSIONS: &[&str] = &["c", "cc", "cpp", "cxx", "c++", "C"];
/// Bounds of the source search: depth and entries looked at.
const SEARCH_DEPTH: usize = 8;
const SEARCH_ENTRIES: usize = 20_000;

/// What one compile or link exec was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Compile { sources: Vec<String> },
    Link,
}

/// A compile or link the build attempted, as the session saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub kind: Kind,
    pub action: Action,
    /// The build's own command.
    pub argv: Vec<String>,
    /// The command that ran: the rewritten one (emcc) for a rewrite.
    pub ran: Vec<String>,
    pub cwd: String,
    /// The files it should have written (relative to `cwd` unless absolute).
    pub outputs: Vec<String>,
    /// The rules' reason (the message printed for a refusal).
    pub reason: Option<String>,
    /// When it started (Unix seconds).
    pub time: f64,
}

impl Attempt {
    fn path(&self, file: &str) -> PathBuf {
        Path::new(&self.cwd).join(file)
    }
}

/// Every compile and link of a session, in arrival order. Fed by the
/// session's consumer thread.
#[derive(Debug, Default)]
pub struct Attempts(pub Vec<Attempt>);

impl Attempts {
    pub fn observe(&mut self, e: &Event) {
        // Answered execs (`cc --version`) ran nothing.
        if e.action == Action::Answer || !matches!(e.tool.as_deref(), Some("cc" | "c++" | "ld")) {
            return;
        }
        let ran = match (e.action, &e.new_argv) {
            (Action::Rewrite, Some(new)) => new.clone(),
            _ => e.argv.clone(),
        };
        // A refused compile is evidence too: read what the build asked for.
        let step = match e.action {
            Action::Refuse => classify_step(e.tool.as_deref(), &e.argv, &e.cwd),
            _ => event_step(e),
        };
        let (kind, outputs) = match step {
            // The rewrite keeps `-o`: the objects of the build's command
            // are those of the command that ran.
            Step::Compile { sources, objects } => (Kind::Compile { sources }, objects),
            Step::Link { output } => (Kind::Link, output.into_iter().collect()),
            Step::Archive { .. } | Step::Other => return,
        };
        self.0.push(Attempt {
            kind,
            action: e.action,
            argv: e.argv.clone(),
            ran,
            cwd: e.cwd.clone(),
            outputs,
            reason: e.reason.clone(),
            time: e.time,
        });
    }
}

/// A wheel of the session and its shared objects (names in the wheel).
#[derive(Debug, Clone)]
pub struct WheelInfo {
    pub path: PathBuf,
    pub shared_objects: Vec<String>,
}

/// One reason to think an extension module did not make it.
#[derive(Debug, Clone)]
pub enum Evidence<'a> {
    /// A compile of a package source failed; `why` says how we know.
    FailedCompile { attempt: &'a Attempt, why: String },
    /// An extension module was linked (or its link attempted) in the
    /// session but no wheel holds it; `why` adds whether the link failed.
    MissingModule {
        attempt: &'a Attempt,
        module: String,
        why: String,
    },
    /// The build compiled, no failure is visible (its build tree is gone),
    /// and nothing reached a wheel.
    CompiledButNothingReached { attempt: &'a Attempt, count: usize },
    /// No compile at all, although the source tree holds C/C++ sources.
    SourcesNeverCompiled { example: PathBuf },
}

/// The judgement on a session's wheels.
#[derive(Debug)]
pub enum Verdict<'a> {
    /// No wheel holds an extension module.
    Pure {
        wheels: Vec<PathBuf>,
        evidence: Vec<Evidence<'a>>,
    },
    /// Wheels hold extension modules, but not all the build tried to make.
    Incomplete { evidence: Vec<Evidence<'a>> },
}

/// Where a package's C/C++ sources may be: the project directories the
/// command names (`pip wheel DIR`, `python -m build DIR`), else the working
/// directory when it is a project itself.
pub fn source_roots(cwd: &Path, cmd: &[std::ffi::OsString]) -> Vec<PathBuf> {
    let is_project = |d: &Path| {
        ["setup.py", "pyproject.toml", "setup.cfg"]
            .iter()
            .any(|f| d.join(f).is_file())
    };
    let named: Vec<PathBuf> = cmd
        .iter()
        .skip(1)
        .map(|a| cwd.join(a))
        .filter(|d| d.is_dir() && is_project(d))
        .collect();
    if !named.is_empty() {
        return named;
    }
    if is_project(cwd) {
        vec![cwd.to_path_buf()]
    } else {
        Vec::new()
    }
}

/// The first C/C++ source under `roots` (bounded, see [`SKIPPED_DIRS`]).
pub fn find_source(roots: &[PathBuf]) -> Option<PathBuf> {
    let mut budget = SEARCH_ENTRIES;
    let mut stack: Vec<(PathBuf, usize)> = roots.iter().map(|r| (r.clone(), 0)).collect();
    stack.reverse();
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        let mut subdirs = vec![];
        for entry in entries {
            if budget == 0 {
                return None;
            }
            budget -= 1;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() {
                let skip = name.starts_with('.')
                    || name.ends_with(".egg-info")
                    || SKIPPED_DIRS.contains(&name.as_str())
                    || path.join("pyvenv.cfg").is_file();
                if !skip && depth < SEARCH_DEPTH {
                    subdirs.push((path, depth + 1));
                }
            } else if kind.is_file()
                && name
                    .rsplit_once('.')
                    .is_some_and(|(stem, ext)| !stem.is_empty() && SOURCE_EXTENSIONS.contains(&ext))
            {
                return Some(path);
            }
        }
        stack.extend(subdirs.into_iter().rev());
    }
    None
}

/// Judges the session: `None` when there is nothing to report.
pub fn judge<'a>(
    attempts: &'a Attempts,
    wheels: &[WheelInfo],
    ext_suffix: &str,
    source_roots: &[PathBuf],
) -> Option<Verdict<'a>> {
    if wheels.is_empty() {
        return None;
    }
    let in_wheels: BTreeSet<&str> = wheels
        .iter()
        .flat_map(|w| w.shared_objects.iter())
        .map(|m| module_name(m))
        .collect();
    let mut evidence: Vec<Evidence> = attempts
        .0
        .iter()
        .filter_map(|a| compile_failure(a).map(|why| Evidence::FailedCompile { attempt: a, why }))
        .collect();
    evidence.extend(missing_modules(attempts, &in_wheels, ext_suffix));

    if in_wheels.is_empty() {
        let wheels = wheels.iter().map(|w| w.path.clone()).collect();
        if evidence.is_empty() {
            if let Some(first) = attempts.0.first() {
                evidence.push(Evidence::CompiledButNothingReached {
                    attempt: first,
                    count: attempts.0.len(),
                });
            } else if let Some(example) = find_source(source_roots) {
                evidence.push(Evidence::SourcesNeverCompiled { example });
            } else {
                return None;
            }
        }
        return Some(Verdict::Pure { wheels, evidence });
    }
    (!evidence.is_empty()).then_some(Verdict::Incomplete { evidence })
}

/// How we know this compile of a package source failed, if it did.
fn compile_failure(a: &Attempt) -> Option<String> {
    let Kind::Compile { sources } = &a.kind else {
        return None;
    };
    // A source gone after the build (a probe in a temporary directory, an
    // unpacked sdist) says nothing about the package.
    if !Path::new(&a.cwd).is_dir() || !sources.iter().all(|s| a.path(s).is_file()) {
        return None;
    }
    match a.action {
        Action::Refuse => Some(format!(
            "refused by pyrewrite: {}",
            a.reason.as_deref().unwrap_or("no reason given")
        )),
        Action::Rewrite => a.outputs.iter().find_map(|o| output_failure(a, o)),
        Action::Passthrough | Action::Answer => None,
    }
}

/// Why output `o` of `a` shows the command failed, if it does. `None` also
/// when nothing can be said (its directory is gone).
fn output_failure(a: &Attempt, o: &str) -> Option<String> {
    let path = a.path(o);
    if !path.parent().is_some_and(Path::is_dir) {
        return None;
    }
    match std::fs::metadata(&path).and_then(|m| m.modified()) {
        Err(_) => Some(format!("its output {o} was never written")),
        Ok(mtime) if unix_secs(mtime) < a.time - STALE_TOLERANCE_SECS => Some(format!(
            "its output {o} is older than the command (left from an earlier build)"
        )),
        Ok(_) => None,
    }
}

fn unix_secs(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Extension modules linked in the session (the last link of each) that no
/// wheel holds.
fn missing_modules<'a>(
    attempts: &'a Attempts,
    in_wheels: &BTreeSet<&str>,
    ext_suffix: &str,
) -> Vec<Evidence<'a>> {
    let mut seen = BTreeSet::new();
    let mut found = vec![];
    for a in attempts.0.iter().rev() {
        if a.kind != Kind::Link {
            continue;
        }
        for o in &a.outputs {
            let base = o.rsplit('/').next().unwrap_or(o);
            if !is_extension_name(base, ext_suffix) {
                continue;
            }
            let module = module_name(base);
            if in_wheels.contains(module) || !seen.insert(module.to_string()) {
                continue;
            }
            let why = match a.action {
                Action::Refuse => format!(
                    "its link was refused by pyrewrite: {}",
                    a.reason.as_deref().unwrap_or("no reason given")
                ),
                _ => match output_failure(a, o) {
                    Some(why) => format!("its link failed: {why}"),
                    None if a.path(o).is_file() => {
                        format!("it was linked ({o}) but no wheel holds it")
                    }
                    None => "it was linked but no wheel holds it".to_string(),
                },
            };
            found.push(Evidence::MissingModule {
                attempt: a,
                module: module.to_string(),
                why,
            });
        }
    }
    found.reverse();
    found
}

/// A file name an extension module would have: a CPython or abi3 suffix,
/// the target's, or a plain `NAME.so` that is not a `libNAME.so` library.
fn is_extension_name(base: &str, ext_suffix: &str) -> bool {
    match extension::classify(base, ext_suffix) {
        Some(SharedObject::Plain) => base.ends_with(".so") && !base.starts_with("lib"),
        Some(SharedObject::OtherInterpreter { .. }) | None => false,
        Some(_) => true,
    }
}

/// `pkg/_speedups.cpython-311-x86_64-linux-gnu.so` -> `_speedups`.
fn module_name(name: &str) -> &str {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.split('.').next().unwrap_or(base)
}

/// What re-running a failed compile showed.
#[derive(Debug, PartialEq, Eq)]
pub enum Reproduced {
    /// It failed again; the first lines of its error.
    Failed(Vec<String>),
    /// It succeeded this time: the failure depended on the build's state.
    Succeeded,
    /// It could not be run (the reason).
    NotRun(String),
}

/// Runs a failed rewritten compile again, in its directory, with the
/// environment emcc got in the build (the profile's `env`, no preload) and
/// every file it would write (`-o`, dependency files) sent to a private
/// temporary directory: the build tree is never touched.
pub fn reproduce(a: &Attempt, target: &Target) -> Reproduced {
    let dir = match super::fsutil::PrivateDir::new("pyrewrite-reproduce-") {
        Ok(d) => d,
        Err(e) => return Reproduced::NotRun(format!("{e:#}")),
    };
    let argv = redirect_outputs(&a.ran, &dir.path().join("out.o"));
    let Some((program, args)) = argv.split_first() else {
        return Reproduced::NotRun("empty command".into());
    };
    let log = dir.path().join("output.log");
    let file = match std::fs::File::create(&log) {
        Ok(f) => f,
        Err(e) => return Reproduced::NotRun(e.to_string()),
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(&a.cwd)
        .stdin(Stdio::null())
        .env_remove("LD_PRELOAD");
    for var in env::SESSION_VARS {
        cmd.env_remove(var);
    }
    for (name, value) in &target.env {
        let caller = std::env::var(name).ok();
        let v = Target::env_value(
            name.as_bytes(),
            value.as_bytes(),
            caller.as_deref().map(str::as_bytes),
        );
        cmd.env(name, String::from_utf8_lossy(&v).into_owned());
    }
    match file.try_clone() {
        Ok(f2) => cmd.stdout(f2).stderr(file),
        Err(e) => return Reproduced::NotRun(e.to_string()),
    };
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Reproduced::NotRun(format!("cannot run {program}: {e}")),
    };
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > REPRODUCE_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Reproduced::NotRun(format!(
                    "stopped after {} s",
                    REPRODUCE_TIMEOUT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Reproduced::NotRun(e.to_string()),
        }
    };
    if status.success() {
        return Reproduced::Succeeded;
    }
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    Reproduced::Failed(error_lines(&text))
}

/// `argv` with `-o FILE` pointing at `out` (added when absent) and the
/// dependency-file options dropped, so a re-run writes nothing in the tree.
fn redirect_outputs(argv: &[String], out: &Path) -> Vec<String> {
    let out = out.display().to_string();
    let mut result = Vec::with_capacity(argv.len() + 2);
    let mut had_output = false;
    let mut it = argv.iter();
    if let Some(program) = it.next() {
        result.push(program.clone());
    }
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-o" => {
                it.next();
                result.extend(["-o".to_string(), out.clone()]);
                had_output = true;
            }
            "-MD" | "-MMD" | "-MP" => {}
            "-MF" | "-MT" | "-MQ" | "-MJ" => {
                it.next();
            }
            a if a.starts_with("-Wp,-MD,") || a.starts_with("-Wp,-MMD,") => {}
            a if a.starts_with("-MF") || a.starts_with("-MT") || a.starts_with("-MQ") => {}
            a if a.starts_with("-o") && !a.starts_with("--") => {
                result.extend(["-o".to_string(), out.clone()]);
                had_output = true;
            }
            _ => result.push(arg.clone()),
        }
    }
    if !had_output {
        result.extend(["-o".to_string(), out]);
    }
    result
}

/// The first lines of a compiler's output that matter: from the first line
/// mentioning an error, else from the start.
fn error_lines(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut start = lines
        .iter()
        .position(|l| l.to_ascii_lowercase().contains("error"))
        .unwrap_or(0);
    // Keep the include chain that leads to it.
    while start > 0 && lines[start - 1].trim_start().ends_with(':') && {
        let prev = lines[start - 1].trim_start();
        prev.starts_with("In file included from") || prev.starts_with("from ")
    } {
        start -= 1;
    }
    lines[start..]
        .iter()
        .take(ERROR_LINES)
        .map(|l| l.to_string())
        .collect()
}

impl Verdict<'_> {
    /// The one-line verdict for the summary.
    pub fn headline(&self) -> String {
        match self {
            Verdict::Pure { .. } => {
                "no extension module reached the wheels: the build fell back to pure Python"
                    .to_string()
            }
            Verdict::Incomplete { .. } => {
                "the wheels lack extension modules the build tried to make".to_string()
            }
        }
    }

    fn evidence(&self) -> &[Evidence<'_>] {
        match self {
            Verdict::Pure { evidence, .. } | Verdict::Incomplete { evidence } => evidence,
        }
    }

    /// The full report, one line per fact, each starting `pyrewrite: `.
    /// The first `REPRODUCED` failed rewritten compiles are run again (see
    /// [`reproduce`]) to show their error.
    pub fn report(&self, target: &Target, allowed: bool) -> String {
        let mut out = vec![if allowed {
            format!("warning: {}: accepted (--allow-pure)", self.headline())
        } else {
            format!("error: {} (exit {EXIT_INCOMPLETE})", self.headline())
        }];
        if let Verdict::Pure { wheels, .. } = self {
            for w in wheels {
                out.push(format!("  {}: no extension module", w.display()));
            }
        }
        let mut reproduced = 0;
        let evidence = self.evidence();
        for e in evidence.iter().take(LISTED) {
            match e {
                Evidence::FailedCompile { attempt, why } => {
                    out.push(format!(
                        "  failed compile of {}: {why}",
                        sources_of(attempt)
                    ));
                    command_lines(&mut out, attempt);
                    if attempt.action == Action::Rewrite && reproduced < REPRODUCED {
                        reproduced += 1;
                        match reproduce(attempt, target) {
                            Reproduced::Failed(lines) => {
                                out.push(
                                    "    its error (run again by pyrewrite after the build):"
                                        .into(),
                                );
                                out.extend(lines.into_iter().map(|l| format!("      {l}")));
                            }
                            Reproduced::Succeeded => out.push(
                                "    run again after the build it succeeded: the failure depended \
                                 on the build's state (generated files, environment)"
                                    .into(),
                            ),
                            Reproduced::NotRun(why) => {
                                out.push(format!("    (could not run it again: {why})"))
                            }
                        }
                    }
                }
                Evidence::MissingModule {
                    attempt,
                    module,
                    why,
                } => {
                    out.push(format!("  extension module {module} is in no wheel: {why}"));
                    command_lines(&mut out, attempt);
                }
                Evidence::CompiledButNothingReached { attempt, count } => {
                    out.push(format!(
                        "  the build ran {count} compile/link command(s), none of whose \
                         products reached a wheel (its build tree is gone, so which failed \
                         is unknown); the first:"
                    ));
                    command_lines(&mut out, attempt);
                }
                Evidence::SourcesNeverCompiled { example } => out.push(format!(
                    "  the build compiled nothing, although the source tree holds C/C++ \
                     sources (e.g. {}): the build chose not to build its extensions",
                    example.display()
                )),
            }
        }
        if evidence.len() > LISTED {
            out.push(format!("  ... and {} more", evidence.len() - LISTED));
        }
        if !allowed {
            out.push(
                "  fix the build (`pyrewrite explain -- COMMAND` shows how a command is \
                 rewritten), or pass --allow-pure to accept these wheels"
                    .into(),
            );
        }
        out.iter().map(|l| format!("pyrewrite: {l}\n")).collect()
    }
}

fn sources_of(a: &Attempt) -> String {
    match &a.kind {
        Kind::Compile { sources } => sources.join(" "),
        Kind::Link => String::new(),
    }
}

/// The command that ran (and the build's own, when it was rewritten).
fn command_lines(out: &mut Vec<String>, a: &Attempt) {
    out.push(format!("    in {}: {}", a.cwd, shell_words(&a.ran)));
    if a.action == Action::Rewrite {
        out.push(format!(
            "    (the build's command: {})",
            shell_words(&a.argv)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::fsutil::PrivateDir;

    const HOST: &str = ".cpython-311-x86_64-linux-gnu.so";
    const TARGET: &str = ".cpython-311-wasm32-emscripten.so";

    /// A rewritten compile of `src` to `out` in `cwd`, started at `time`.
    fn compile(cwd: &Path, src: &str, out: &str, time: f64) -> Event {
        let argv = format!("gcc -c {src} -o {out}");
        let new = format!("emcc -c {src} -o {out}");
        Event {
            cwd: cwd.display().to_string(),
            time,
            ..crate::test_support::event(Action::Rewrite, Some("cc"), &argv, Some(&new))
        }
    }

    fn link(cwd: &Path, out: &str, time: f64) -> Event {
        let argv = format!("gcc -shared a.o -o {out}");
        let new = format!("emcc -shared a.o -o {out}");
        Event {
            cwd: cwd.display().to_string(),
            time,
            ..crate::test_support::event(Action::Rewrite, Some("cc"), &argv, Some(&new))
        }
    }

    fn attempts(events: &[Event]) -> Attempts {
        let mut a = Attempts::default();
        for e in events {
            a.observe(e);
        }
        a
    }

    fn wheel(shared: &[&str]) -> WheelInfo {
        WheelInfo {
            path: "dist/x.whl".into(),
            shared_objects: shared.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn now() -> f64 {
        unix_secs(SystemTime::now())
    }

    /// A project dir with `src/a.c` and an (empty) `build/` dir.
    fn project() -> PrivateDir {
        let d = PrivateDir::new("pyrewrite-test-").unwrap();
        std::fs::create_dir_all(d.path().join("src")).unwrap();
        std::fs::create_dir_all(d.path().join("build")).unwrap();
        std::fs::write(d.path().join("src/a.c"), "int x;\n").unwrap();
        d
    }

    #[test]
    fn only_compiles_and_links_are_attempts() {
        let d = project();
        let mut version =
            crate::test_support::event(Action::Answer, Some("cc"), "gcc --version", None);
        version.cwd = d.path().display().to_string();
        let python =
            crate::test_support::event(Action::Passthrough, None, "python3 setup.py", None);
        let a = attempts(&[
            version,
            python,
            compile(d.path(), "src/a.c", "build/a.o", 1.0),
            link(d.path(), &format!("build/_a{HOST}"), 2.0),
        ]);
        assert_eq!(a.0.len(), 2);
        assert_eq!(a.0[0].outputs, ["build/a.o"]);
        assert_eq!(a.0[0].ran[0], "emcc");
        assert_eq!(a.0[1].kind, Kind::Link);
        // Without -o, cc -c writes NAME.o in its directory.
        let a = attempts(&[crate::test_support::event(
            Action::Rewrite,
            Some("cc"),
            "cc -c src/a.c src/b.c",
            Some("emcc -c src/a.c src/b.c"),
        )]);
        assert_eq!(a.0[0].outputs, ["a.o", "b.o"]);
    }

    #[test]
    fn a_missing_or_stale_output_is_a_failed_compile_and_a_pure_wheel_is_judged() {
        let d = project();
        let a = attempts(&[compile(d.path(), "src/a.c", "build/a.o", now())]);
        let Some(Verdict::Pure { evidence, .. }) = judge(&a, &[wheel(&[])], TARGET, &[]) else {
            panic!("a pure wheel after a failed compile must be reported")
        };
        let [Evidence::FailedCompile { why, .. }] = evidence.as_slice() else {
            panic!("{evidence:?}")
        };
        assert_eq!(why, "its output build/a.o was never written");

        // An object from an earlier build does not count as written.
        std::fs::write(d.path().join("build/a.o"), "old").unwrap();
        let a = attempts(&[compile(d.path(), "src/a.c", "build/a.o", now() + 60.0)]);
        let v = judge(&a, &[wheel(&[])], TARGET, &[]).unwrap();
        assert!(
            matches!(&v.evidence()[0], Evidence::FailedCompile { why, .. } if why.contains("older than the command")),
            "{v:?}"
        );
        // Written by this compile: no failure, but nothing reached a wheel.
        let a = attempts(&[compile(d.path(), "src/a.c", "build/a.o", now() - 0.2)]);
        let v = judge(&a, &[wheel(&[])], TARGET, &[]).unwrap();
        assert!(
            matches!(
                v.evidence(),
                [Evidence::CompiledButNothingReached { count: 1, .. }]
            ),
            "{v:?}"
        );
    }

    #[test]
    fn probes_in_removed_directories_say_nothing_and_complete_wheels_pass() {
        let d = project();
        let gone = d.path().join("tmp-probe");
        let probe = compile(&gone, "conftest.c", "conftest.o", now());
        let module = format!("build/_a{HOST}");
        std::fs::write(d.path().join("build/a.o"), "obj").unwrap();
        std::fs::write(d.path().join(&module), "so").unwrap();
        let a = attempts(&[
            probe,
            compile(d.path(), "src/a.c", "build/a.o", now() - 0.5),
            link(d.path(), &module, now() - 0.5),
        ]);
        let wheels = [wheel(&[&format!("pkg/_a{HOST}")]), wheel(&[])];
        assert!(judge(&a, &wheels, TARGET, &[]).is_none());
    }

    #[test]
    fn a_linked_module_in_no_wheel_makes_the_wheels_incomplete() {
        let d = project();
        let a = attempts(&[
            link(d.path(), &format!("build/_a{HOST}"), now()),
            link(d.path(), &format!("build/_b{HOST}"), now()),
            // Probe and library links are not extension modules.
            link(d.path(), "build/conftest", now()),
            link(d.path(), "build/libhelper.so", now()),
        ]);
        std::fs::write(d.path().join(format!("build/_a{HOST}")), "so").unwrap();
        let v = judge(&a, &[wheel(&[&format!("pkg/_a{TARGET}")])], TARGET, &[]).unwrap();
        let Verdict::Incomplete { evidence } = &v else {
            panic!("{v:?}")
        };
        let [Evidence::MissingModule { module, why, .. }] = evidence.as_slice() else {
            panic!("{evidence:?}")
        };
        assert_eq!(module, "_b");
        assert_eq!(
            why,
            &format!("its link failed: its output build/_b{HOST} was never written")
        );
    }

    #[test]
    fn a_refused_compile_of_a_package_source_names_the_reason() {
        let d = project();
        let refused = Event {
            cwd: d.path().display().to_string(),
            reason: Some("-fopenmp: OpenMP is not available for wasm32".into()),
            ..crate::test_support::event(
                Action::Refuse,
                Some("cc"),
                "gcc -fopenmp -c src/a.c -o build/a.o",
                None,
            )
        };
        let a = attempts(&[refused]);
        let v = judge(&a, &[wheel(&[])], TARGET, &[]).unwrap();
        let report = v.report(&Target::default(), false);
        assert!(
            report.contains("failed compile of src/a.c: refused by pyrewrite: -fopenmp: OpenMP"),
            "{report}"
        );
        assert!(report.contains("--allow-pure"), "{report}");
        assert!(
            report.starts_with("pyrewrite: error: no extension module reached the wheels"),
            "{report}"
        );
    }

    #[test]
    fn sources_count_only_when_nothing_was_compiled() {
        let d = project();
        std::fs::write(d.path().join("setup.py"), "").unwrap();
        let roots = source_roots(d.path(), &["pip".into(), "wheel".into(), ".".into()]);
        assert_eq!(roots, [d.path().join(".")]);
        let none = Attempts::default();
        let v = judge(&none, &[wheel(&[])], TARGET, &roots).unwrap();
        assert!(
            matches!(v.evidence(), [Evidence::SourcesNeverCompiled { example }] if example.ends_with("src/a.c")),
            "{v:?}"
        );
        // Tests, docs, build trees, hidden dirs and venvs are not searched.
        std::fs::remove_file(d.path().join("src/a.c")).unwrap();
        for dir in ["tests", "docs", "build/temp", ".git", "venv"] {
            std::fs::create_dir_all(d.path().join(dir)).unwrap();
            std::fs::write(d.path().join(dir).join("x.c"), "").unwrap();
        }
        std::fs::write(d.path().join("venv/pyvenv.cfg"), "").unwrap();
        assert!(judge(&none, &[wheel(&[])], TARGET, &roots).is_none());
        // Not a project: nothing to search.
        assert!(source_roots(&d.path().join("src"), &[]).is_empty());
        // No wheel: nothing to judge.
        assert!(judge(&none, &[], TARGET, &roots).is_none());
    }

    #[test]
    fn outputs_of_a_rerun_go_to_the_private_dir() {
        let v = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        let out = Path::new("/p/out.o");
        assert_eq!(
            redirect_outputs(
                &v("emcc -MMD -MF d/a.d -c a.c -o build/a.o -Wp,-MD,x.d -MTx"),
                out
            ),
            v("emcc -c a.c -o /p/out.o")
        );
        assert_eq!(
            redirect_outputs(&v("emcc -c a.c -obuild/a.o"), out),
            v("emcc -c a.c -o /p/out.o")
        );
        assert_eq!(
            redirect_outputs(&v("emcc -c a.c"), out),
            v("emcc -c a.c -o /p/out.o")
        );
    }

    #[test]
    fn error_lines_start_at_the_first_error() {
        let text = "warning: unused -I\nIn file included from a.c:1:\n\ncpuid.h:14:2: error: this header is for x86 only\n#include <cpuid.h>\n1 error generated.\nemcc: error: '/usr/bin/clang' failed\n";
        assert_eq!(
            error_lines(text),
            [
                "In file included from a.c:1:",
                "cpuid.h:14:2: error: this header is for x86 only",
                "#include <cpuid.h>",
                "1 error generated.",
                "emcc: error: '/usr/bin/clang' failed",
            ]
        );
        assert_eq!(
            error_lines("warning: x\nno problem"),
            ["warning: x", "no problem"]
        );
    }

    #[test]
    fn a_failed_compile_is_run_again_without_touching_the_tree() {
        // A stand-in compiler that fails like clang and would write its -o.
        let d = project();
        let cc = d.path().join("fakecc");
        std::fs::write(
            &cc,
            "#!/bin/sh\nwhile [ $# -gt 0 ]; do [ \"$1\" = -o ] && : > \"$2\"; shift; done\n\
             echo \"a.c:1:10: fatal error: 'cpuid.h' file not found\" >&2; exit 1\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&cc, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut e = compile(d.path(), "src/a.c", "build/a.o", now());
        e.new_argv.as_mut().unwrap()[0] = cc.display().to_string();
        let a = attempts(&[e]);
        assert_eq!(
            reproduce(&a.0[0], &Target::default()),
            Reproduced::Failed(vec![
                "a.c:1:10: fatal error: 'cpuid.h' file not found".into()
            ])
        );
        assert!(
            !d.path().join("build/a.o").exists(),
            "the re-run wrote into the tree"
        );
    }
}
