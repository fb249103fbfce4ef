//! A build session: `pyrewrite run`, `pyrewrite trace`, and reading logs back
//! (`pyrewrite events summary`).
//!
//! Flow: start the [`collector`] on a socket in a private temp dir, run the
//! build ([`child`]) with libpyrewrite.so preloaded, let ONE consumer thread
//! keep the [`model`], the event log ([`eventlog`]), the compilation database
//! ([`compdb`]) and the [`progress`] display; when the build exits, drain the
//! collector, write the files, retag new wheels ([`assemble`], `run` only),
//! make sure the extensions the build tried to make reached them
//! ([`completeness`], `run` only), check them against the target's Pyodide
//! ([`verify_step`], `run` only), print the summary and exit with the
//! build's status.

mod assemble;
mod child;
mod collector;
mod compdb;
mod completeness;
mod eventlog;
mod fast_path;
mod fsutil;
mod model;
mod progress;
mod step;
mod verify_step;
mod wheel_adapter;

pub use fsutil::PrivateDir;

use anyhow::Context;
use collector::Collector;
use compdb::Commands;
use pyrewrite_protocol::env;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit status of `run` when the build succeeded but a wheel could not be
/// assembled (distinct from the build's own failures and from 2, a driver error).
pub const EXIT_ASSEMBLY_FAILED: u8 = 3;

/// Exit status of `run --check` when a module of the wheels does not import
/// in the profile's Pyodide.
pub const EXIT_CHECK_FAILED: u8 = 6;

const DEFAULT_EVENTS: &str = ".pyrewrite/events.jsonl";
const DEFAULT_COMPDB: &str = ".pyrewrite/compile_commands.json";

const RUN_AFTER_HELP: &str = "\
Wheels: after a successful build, every *.whl that is new or changed in the working \
directory, ./dist, a -w/--wheel-dir or --outdir named in the command, or --out is \
retagged for wasm32. The retagged wheel replaces the native-named one the build wrote \
(which holds wasm): that one is removed once the new wheel is in place, never when \
assembly fails.

Extensions: if the wheels hold no extension module although the build compiled (a \
compile that failed under the rewrite and a fallback to pure Python), or hold fewer \
than the build linked, or the build compiled nothing although its source tree has \
C/C++ sources, `run` fails naming the failed command and its error (the wheels are \
still written); --allow-pure accepts such wheels.

Verify: when the target profile names a Pyodide (\"pyodide_dir\"), the wasm wheels are \
then checked against it like `pyrewrite verify WHEEL --against PROFILE` (imports nobody \
provides, signature mismatches, time_t layout changes); --no-verify skips it.

Check: with --check, the wasm wheels are then installed into the profile's Pyodide \
under node (offline) and every extension module is imported, like `pyrewrite check \
WHEEL`.

Profile: --target, else $PYREWRITE_TARGET, else the user's default profile \
($XDG_CONFIG_HOME/pyrewrite/target.json, else ~/.config/pyrewrite/target.json, which \
`pyrewrite target from-pyodide DIR` writes without -o).

Exit status: the build's status (128+N if it was killed by signal N); 3 if the build \
succeeded but a wheel could not be assembled; 5 if the wheels lack extension modules \
the build tried to make (pure-Python fallback; not with --allow-pure); 4 if the wheels \
were written but verify found errors (they will fail to load or to run), or warnings \
with --strict; 6 if --check found a module that does not import; 2 if pyrewrite \
itself failed (no profile, a \"pyodide_dir\" that holds no Pyodide, no node for \
--check). A failed build is never assembled; after that 3, then 5, then 4, then 6: \
the first that applies wins.

Example: pyrewrite run --target target.json -- pip wheel . --no-deps -w dist";

const TRACE_AFTER_HELP: &str = "\
Exit status: the build's status (128+N if it was killed by signal N); 2 if pyrewrite \
itself failed.

Example: pyrewrite trace -- make -j8   (then: pyrewrite events summary .pyrewrite/events.jsonl)";

/// Options shared by `run` and `trace`.
#[derive(clap::Args)]
pub struct SessionArgs {
    /// libpyrewrite.so to preload [default: $PYREWRITE_PRELOAD, else next to the pyrewrite binary]
    #[arg(long, value_name = "PATH")]
    pub preload: Option<PathBuf>,
    /// JSON-lines log of the execs seen (read it back with `pyrewrite events summary`)
    #[arg(long, value_name = "FILE", default_value = DEFAULT_EVENTS)]
    pub events: PathBuf,
    /// compile_commands.json to write (clang's compilation database)
    #[arg(long, value_name = "FILE", default_value = DEFAULT_COMPDB)]
    pub compdb: PathBuf,
    /// Print nothing but errors and warnings (no progress, no summary)
    #[arg(long, short)]
    pub quiet: bool,
}

/// Run a build with every compiler call rewritten to emcc, then retag the
/// wheels it produced for wasm32.
///
/// Exit status: the build's own status (128+N if it was killed by signal N);
/// 3 if the build succeeded but a wheel could not be assembled; 5 if the
/// wheels lack extension modules the build tried to make (not with
/// --allow-pure); 4 if verify found errors (warnings too with --strict); 6 if
/// --check found a module that does not import; 2 if pyrewrite itself failed
/// (no preload, no target profile, ...).
#[derive(clap::Args)]
#[command(after_help = RUN_AFTER_HELP)]
pub struct RunArgs {
    /// Target profile (JSON) [default: $PYREWRITE_TARGET, else the user's default profile
    /// $XDG_CONFIG_HOME/pyrewrite/target.json or ~/.config/pyrewrite/target.json]
    #[arg(long, value_name = "FILE")]
    pub target: Option<PathBuf>,
    /// Write the wasm wheels here [default: next to each wheel the build wrote];
    /// also searched for new wheels
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Make verify's warnings fatal too (exit 4), not only its errors
    #[arg(long)]
    pub strict: bool,
    /// Do not check the wasm wheels against the target's Pyodide (wins over --strict)
    #[arg(long)]
    pub no_verify: bool,
    /// After verify, install the wasm wheels into the profile's Pyodide (node,
    /// offline) and import every extension module, like `pyrewrite check`;
    /// a failure is exit 6
    #[arg(long)]
    pub check: bool,
    /// Accept wheels without the extension modules the build tried to make
    /// (a pure-Python fallback after a failed compile): a warning, not exit 5
    #[arg(long)]
    pub allow_pure: bool,
    #[command(flatten)]
    pub session: SessionArgs,
    /// The build command (put it after `--`), e.g. `pip wheel . -w dist`
    #[arg(last = true, required = true)]
    pub cmd: Vec<OsString>,
}

/// Run a build rewriting nothing; record the compiler execs it made and write
/// a compile_commands.json of the native build.
#[derive(clap::Args)]
#[command(after_help = TRACE_AFTER_HELP)]
pub struct TraceArgs {
    /// The target profile `run` would use [default: as `run`]. Trace rewrites
    /// nothing: the profile is only named in the summary (a missing or broken
    /// one is a warning there, an error only when given with --target)
    #[arg(long, value_name = "FILE")]
    pub target: Option<PathBuf>,
    /// Record every exec, not only compilers and binutils
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub session: SessionArgs,
    /// The build command (put it after `--`)
    #[arg(last = true, required = true)]
    pub cmd: Vec<OsString>,
}

#[derive(clap::Subcommand)]
pub enum EventsCommand {
    /// Summarise an event log (same report as at the end of `run`/`trace`).
    Summary {
        /// The JSON-lines log, e.g. .pyrewrite/events.jsonl
        file: PathBuf,
    },
}

pub fn run(a: RunArgs) -> anyhow::Result<ExitCode> {
    let mut profile = crate::profile::load(a.target.as_deref())?;
    profile.path = absolute(&profile.path)?;
    let target = &profile.target;
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let dirs = assemble::wheel_dirs(&cwd, &a.cmd, a.out.as_deref());
    let source_roots = completeness::source_roots(&cwd, &a.cmd);
    let before = assemble::snapshot(&dirs);
    let mode = Mode::Run {
        target_file: profile.path.clone(),
    };
    let outcome = run_session(&mode, &a.session, &a.cmd, true)?;
    let mut summary = outcome.summary;
    let mut code = outcome.exit_code;
    if code == 0 {
        let wheels = assemble::new_wheels(&before, &assemble::snapshot(&dirs));
        let log = outcome.log_written.then_some(a.session.events.as_path());
        let assembled = assemble::assemble(&wheels, target, a.out.as_deref(), log);
        summary.wheels = assembled.lines;
        for e in &assembled.failed {
            eprintln!("pyrewrite: error: wheel assembly: {e:#}");
        }
        if !assembled.failed.is_empty() {
            code = EXIT_ASSEMBLY_FAILED;
        } else if wheels.is_empty() && !a.session.quiet {
            let names: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
            eprintln!("pyrewrite: no new wheel found in {}", names.join(", "));
        } else {
            let infos: Vec<completeness::WheelInfo> = assembled
                .wheels
                .iter()
                .map(|w| completeness::WheelInfo {
                    path: w.output.clone(),
                    shared_objects: w.shared_objects.clone(),
                })
                .collect();
            let verdict =
                completeness::judge(&outcome.attempts, &infos, &target.ext_suffix, &source_roots);
            if let Some(v) = verdict {
                eprint!("{}", v.report(target, a.allow_pure));
                summary.extensions = Some(if a.allow_pure {
                    format!("{} (accepted: --allow-pure)", v.headline())
                } else {
                    format!("{} (exit {})", v.headline(), completeness::EXIT_INCOMPLETE)
                });
                if !a.allow_pure {
                    code = completeness::EXIT_INCOMPLETE;
                }
            }
        }
        // The wheels that were written are checked even when another failed;
        // the earlier failure keeps its status.
        let verified = verify_step::verify_after_assembly(&verify_step::VerifyRequest {
            wheels: &assembled.wasm_wheels,
            profile: &profile,
            skip: a.no_verify,
            strict: a.strict,
            quiet: a.session.quiet,
        });
        summary.verify = verified.verdict;
        if code == 0 {
            code = verified.exit_code;
        }
        if a.check {
            let (verdict, status) =
                check_after_build(&assembled.wasm_wheels, &profile, a.session.quiet);
            summary.check = verdict;
            if code == 0 {
                code = status;
            }
        }
    }
    if !a.session.quiet {
        eprint!("{}", summary.render());
    }
    Ok(ExitCode::from(code))
}

/// `run --check`: install the wasm wheels just written into the profile's
/// Pyodide and import their extension modules (`pyrewrite check`). Returns
/// the summary line and the status it asks for (0, [`EXIT_CHECK_FAILED`], or
/// 2 when it could not run).
fn check_after_build(
    wheels: &[PathBuf],
    profile: &crate::profile::Profile,
    quiet: bool,
) -> (Option<String>, u8) {
    if wheels.is_empty() {
        return (None, 0);
    }
    let req = crate::check::Request {
        wheels,
        pyodide: None,
        profile: Some(profile),
        node: None,
        code: None,
        timeout: std::time::Duration::from_secs(600),
    };
    if !quiet {
        eprintln!(
            "pyrewrite: check: importing {} wheel(s) in the Pyodide of {}",
            wheels.len(),
            profile.path.display()
        );
    }
    match crate::check::check_wheels(&req) {
        Ok(report) => {
            if quiet {
                for w in &report.wheels {
                    let errors = w
                        .error
                        .iter()
                        .chain(w.modules.iter().flat_map(|m| &m.error));
                    for e in errors {
                        eprintln!("pyrewrite: error: check: {}: {e}", w.path);
                    }
                }
            } else {
                eprint!("{}", report.to_human());
            }
            if report.ok {
                (Some(report.verdict()), 0)
            } else {
                let verdict = format!("{} (exit {EXIT_CHECK_FAILED})", report.verdict());
                (Some(verdict), EXIT_CHECK_FAILED)
            }
        }
        Err(e) => {
            eprintln!("pyrewrite: error: check: {e:#}");
            (Some("could not run (see the error above)".into()), 2)
        }
    }
}

pub fn trace(a: TraceArgs) -> anyhow::Result<ExitCode> {
    // Trace rewrites nothing, but says which profile `run` would use, so a
    // missing one is found before the real build.
    let profile_line = match crate::profile::load(a.target.as_deref()) {
        Ok(p) => format!(
            "pyrewrite: target profile {} ({}), as `pyrewrite run` would use it\n",
            p.path.display(),
            p.source_name()
        ),
        Err(e) if a.target.is_some() => return Err(e.into()),
        Err(e) => format!("pyrewrite: warning: `pyrewrite run` would fail: {e}\n"),
    };
    let mode = Mode::Trace;
    let outcome = run_session(&mode, &a.session, &a.cmd, a.all)?;
    // With --quiet nothing about the profile: it is no problem of the trace.
    if !a.session.quiet {
        eprint!("{}{profile_line}", outcome.summary.render());
    }
    Ok(ExitCode::from(outcome.exit_code))
}

pub fn events(c: EventsCommand) -> anyhow::Result<ExitCode> {
    match c {
        EventsCommand::Summary { file } => {
            let mut summary = model::Summary::default();
            for event in eventlog::read_log(&file)? {
                summary.observe(&event);
            }
            print!("{}", summary.render());
            Ok(ExitCode::SUCCESS)
        }
    }
}

enum Mode {
    Run { target_file: PathBuf },
    Trace,
}

struct Outcome {
    summary: model::Summary,
    /// Every compile and link the build ran, for the completeness check.
    attempts: completeness::Attempts,
    exit_code: u8,
    log_written: bool,
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("cannot resolve {}", path.display()))
}

/// `--preload`, else `$PYREWRITE_PRELOAD`, else libpyrewrite.so in the
/// directory of the running binary.
fn resolve_preload(flag: Option<&Path>) -> anyhow::Result<PathBuf> {
    let from_env = std::env::var_os(env::PRELOAD)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let path = match flag.map(Path::to_path_buf).or(from_env) {
        Some(p) => absolute(&p)?,
        None => std::env::current_exe()
            .context("cannot locate the pyrewrite binary")?
            .with_file_name(pyrewrite_protocol::preload::FILE_NAME),
    };
    if !path.is_file() {
        anyhow::bail!(
            "preload library {} not found; build it with scripts/build.sh or pass --preload PATH",
            path.display()
        );
    }
    Ok(path)
}

/// The environment changes for the build: the preload first in LD_PRELOAD
/// (keeping what the user had, but no other copy of the library: by the
/// protocol's rule, the one the library applies, so a stale copy at another
/// path can neither hook the build a second time nor hide it), the session
/// variables, and no stale PYREWRITE_EVENTS (the socket is the transport
/// inside a session).
fn session_env(mode: &Mode, preload: &Path, socket: &Path) -> Vec<(String, Option<OsString>)> {
    let mut ld_preload = preload.as_os_str().to_os_string();
    if let Some(existing) = std::env::var_os("LD_PRELOAD") {
        let own = Some(preload.as_os_str().as_bytes());
        for other in pyrewrite_protocol::preload::entries(existing.as_bytes())
            .filter(|e| !pyrewrite_protocol::preload::is_pyrewrite_library(e, own))
        {
            ld_preload.push(":");
            ld_preload.push(OsStr::from_bytes(other));
        }
    }
    let mut vars = vec![
        ("LD_PRELOAD".to_string(), Some(ld_preload)),
        (env::PRELOAD.to_string(), Some(preload.into())),
        (env::SOCKET.to_string(), Some(socket.into())),
        (env::EVENTS.to_string(), None),
    ];
    match mode {
        Mode::Run { target_file } => {
            vars.push((env::MODE.to_string(), Some("rewrite".into())));
            vars.push((env::TARGET.to_string(), Some(target_file.into())));
        }
        Mode::Trace => vars.push((env::MODE.to_string(), Some("trace".into()))),
    }
    vars
}

/// What the consumer thread hands back when the event stream ends.
struct Consumed {
    summary: model::Summary,
    attempts: completeness::Attempts,
    entries: Vec<compdb::Entry>,
    /// `None` once a write failed (its temporary file is removed then).
    log: Option<eventlog::LogWriter>,
    log_error: Option<anyhow::Error>,
    /// Events meant for the log (those it holds, or would have held).
    log_events: u64,
}

/// The one consumer: the only owner of the model, the log and the progress
/// display, so none of them needs a lock.
fn consume(
    rx: crossbeam_channel::Receiver<Box<pyrewrite_protocol::Event>>,
    log: eventlog::LogWriter,
    commands: Commands,
    record_all: bool,
    mut progress: progress::Progress,
) -> Consumed {
    let mut summary = model::Summary::default();
    let mut attempts = completeness::Attempts::default();
    let mut entries = Vec::new();
    let mut log_error = None;
    let mut log = Some(log);
    let mut log_events = 0;
    for event in rx {
        let step = summary.observe(&event);
        progress.on_step(&summary, event.tool.as_deref(), &step);
        entries.extend(compdb::entries_for(&event, commands));
        attempts.observe(&event);
        if record_all || event.tool.is_some() {
            log_events += 1;
            if let Some(Err(e)) = log.as_mut().map(|l| l.append(&event)) {
                // A full disk: stop writing and give the space back at once
                // (the log may share the build's file system); the build
                // and the counts go on.
                log_error = Some(e);
                log = None;
            }
        }
    }
    progress.finish();
    Consumed {
        summary,
        attempts,
        entries,
        log,
        log_error,
        log_events,
    }
}

/// The preload drops an event the driver does not take within
/// `socket::DEADLINE_MS` (a stalled driver must not hang the build) and
/// counts it in `<socket>.lost`, one byte each. Always a warning, even with
/// `--quiet`: the counts, the log and the database miss those execs.
fn report_lost_events(socket: &Path) {
    use pyrewrite_protocol::socket::{DEADLINE_MS, LOST_SUFFIX};
    let mut lost_file = socket.as_os_str().to_os_string();
    lost_file.push(LOST_SUFFIX);
    let lost = std::fs::metadata(&lost_file).map_or(0, |m| m.len());
    if lost > 0 {
        eprintln!(
            "pyrewrite: warning: {lost} event(s) lost: the driver did not take them within \
             {DEADLINE_MS} ms; the counts, the event log and compile_commands.json miss those execs"
        );
    }
}

fn run_session(
    mode: &Mode,
    args: &SessionArgs,
    cmd: &[OsString],
    record_all: bool,
) -> anyhow::Result<Outcome> {
    let preload = resolve_preload(args.preload.as_deref())?;
    let log = eventlog::LogWriter::create(&args.events)?;
    fsutil::ensure_parent(&args.compdb)?;
    let private = fsutil::PrivateDir::new("pyrewrite-session-")?;
    let socket = private.path().join("events.sock");
    child::install_signal_forwarding()?;

    let (collector, rx) = Collector::start(&socket)?;
    let commands = match mode {
        Mode::Run { .. } => Commands::AsRun,
        Mode::Trace => Commands::Original,
    };
    let progress = progress::Progress::new(progress::Style::detect(args.quiet));
    let consumer = std::thread::Builder::new()
        .name("pyrewrite-consume".into())
        .spawn(move || consume(rx, log, commands, record_all, progress))?;

    let status = child::run_build(cmd, &session_env(mode, &preload, collector.socket()));
    let rejected = collector.drain_and_stop();
    let mut consumed = consumer
        .join()
        .map_err(|_| anyhow::anyhow!("the event consumer thread panicked"))?;
    report_lost_events(&socket);
    // Bad input on the socket: warnings even with --quiet (in the summary
    // otherwise), like lost events.
    if args.quiet && rejected.any() {
        eprint!("{}", rejected.render());
    }
    consumed.summary.rejected = rejected;
    let fast_path = fast_path::FastPathReport::read(&socket);
    drop(private);
    child::restore_default_signals();
    let status = status?;

    let mut exit_code = child::exit_code_of(status);
    let mut output_failed = false;
    let finished = match (consumed.log_error, consumed.log) {
        (Some(e), _) => Err(e),
        (None, Some(log)) => log.finish(),
        (None, None) => Err(anyhow::anyhow!("the event log was not written")),
    };
    let log_written = match finished {
        Ok(()) => true,
        Err(e) => {
            // Always said, even with --quiet: the session's record is gone.
            eprintln!(
                "pyrewrite: error: {e:#}; its {} events were not logged (the summary counts \
                 them; {} was not written)",
                consumed.log_events,
                args.events.display()
            );
            output_failed = true;
            false
        }
    };
    if let Err(e) = compdb::write_atomic(&args.compdb, &consumed.entries) {
        eprintln!("pyrewrite: error: {e:#}");
        output_failed = true;
    }
    // A build failure is the more useful status; a lost log only turns a
    // successful build into an error.
    if output_failed && exit_code == 0 {
        exit_code = 2;
    }
    if let Some(line) = fast_path
        .summary()
        .filter(|_| !args.quiet || !fast_path.differs.is_empty())
    {
        eprintln!("{line}");
    }
    // Verify mode is a check: a difference fails a build that succeeded.
    for command in &fast_path.differs {
        eprintln!("pyrewrite: error: the fast path's object differs from emcc's for: {command}");
    }
    if !fast_path.differs.is_empty() && exit_code == 0 {
        exit_code = 2;
    }
    if !args.quiet && log_written {
        eprintln!(
            "pyrewrite: events in {}, {} compile commands in {}",
            args.events.display(),
            consumed.entries.len(),
            args.compdb.display()
        );
    }
    Ok(Outcome {
        summary: consumed.summary,
        attempts: consumed.attempts,
        exit_code,
        log_written,
    })
}
