//! `pyrewrite check`: install wasm wheels into a real Pyodide under node,
//! offline, and import every extension module, reporting per module `ok` or
//! the exact failure. `verify` reads the modules; this runs them.
//!
//! How (docs/check.md):
//! - the runtime is `--pyodide DIR`, else the target profile's `pyodide_dir`;
//!   node is `--node`, else the profile's `node`, else `node` on `PATH`, else
//!   `$EMSDK_NODE`;
//! - each wheel's tags are checked against the runtime's (what micropip
//!   would refuse), and each `.so` member is read here: its name on the
//!   runtime, whether it is an extension module (it exports `PyInit_<name>`),
//!   the symbols it needs at run time (non-weak function and GOT imports);
//! - `check.mjs` (embedded, written to a private temporary directory) boots
//!   Pyodide from the distribution itself, unpacks the wheels into
//!   site-packages with `check.py` (no micropip: the npm package does not
//!   ship it, and nothing may be downloaded), loads each shared object as
//!   micropip does (`pyodide._api.loadDynlib(path, false)`), resolves the
//!   symbols each one needs as Emscripten's lazy stubs will, imports each
//!   extension module, runs `--code`, and reports JSON lines.

use crate::profile::{self, Profile};
use crate::verify::runtime::{find_dist, LOADER_PROVIDED};
use crate::verify::wasm::{self, Kind};
use crate::wheel::archive::WheelArchive;
use crate::wheel::extension::{self, SharedObject};
use crate::wheel::filename::WheelName;
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const SCRIPT: &str = include_str!("check.mjs");
const HELPER: &str = include_str!("check.py");

/// Exit status when a module (or the wheel, or `--code`) failed.
pub const EXIT_FAILED: u8 = 1;

const AFTER_HELP: &str = "\
Each wheel is unpacked into the site-packages of a fresh Pyodide (node, offline: no \
micropip, nothing downloaded), each shared object is loaded as micropip loads it, and \
each extension module (a .so exporting PyInit_<name>) is imported. Per module: ok, or \
the failure: the LinkError naming the import that did not match, the symbols no \
library and not the runtime defines (the module imports; the first call into one \
stops the runtime), or the exception its init raised. A wheel whose tags the runtime \
does not accept (e.g. linux_x86_64) is a failure too. Python's output goes to stderr.

Exit status: 0 every module imported (and --code ran); 1 a module, a wheel or --code \
failed; 2 bad input (an unreadable or invalid wheel, no Pyodide, no node, no profile).

Examples:
  pyrewrite check dist/*.whl
  pyrewrite check --pyodide node_modules/pyodide pkg.whl --code 'import pkg; print(pkg.f(1))'";

/// Install wasm wheels into a real Pyodide (node, offline) and import every
/// extension module.
#[derive(clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Wasm wheels to install together.
    #[arg(required = true, value_name = "WHEEL")]
    pub wheels: Vec<PathBuf>,
    /// Target profile whose "pyodide_dir" and "node" are used [default:
    /// $PYREWRITE_TARGET, else the user's default profile
    /// $XDG_CONFIG_HOME/pyrewrite/target.json or ~/.config/pyrewrite/target.json]
    #[arg(long, value_name = "FILE")]
    pub target: Option<PathBuf>,
    /// The Pyodide distribution (npm package dir holding pyodide.asm.wasm)
    /// instead of the profile's; the profile is then optional.
    #[arg(long, value_name = "DIR")]
    pub pyodide: Option<PathBuf>,
    /// Node.js to run Pyodide [default: the profile's "node", else node on PATH,
    /// else $EMSDK_NODE]
    #[arg(long, value_name = "PATH")]
    pub node: Option<PathBuf>,
    /// Python run after the imports (top-level await allowed); an exception fails the check.
    #[arg(long, value_name = "PY")]
    pub code: Option<String>,
    /// Print one JSON document (schema "pyrewrite-check/1") instead of the report.
    #[arg(long)]
    pub json: bool,
    /// Give up (and fail) after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub timeout: u64,
}

pub fn main(args: Args) -> Result<ExitCode> {
    let loaded = match &args.pyodide {
        // The runtime is given: a profile is only used when there is one.
        Some(_) => profile::load_optional(args.target.as_deref())?,
        None => Some(profile::load(args.target.as_deref())?),
    };
    let req = Request {
        wheels: &args.wheels,
        pyodide: args.pyodide.as_deref(),
        profile: loaded.as_ref(),
        node: args.node.as_deref(),
        code: args.code.as_deref(),
        timeout: Duration::from_secs(args.timeout),
    };
    let report = check_wheels(&req)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_human());
    }
    Ok(ExitCode::from(report.exit_code()))
}

/// What to check, and with what.
pub struct Request<'a> {
    pub wheels: &'a [PathBuf],
    /// `--pyodide`: wins over the profile's `pyodide_dir`.
    pub pyodide: Option<&'a Path>,
    pub profile: Option<&'a Profile>,
    /// `--node`: wins over the profile's `node`.
    pub node: Option<&'a Path>,
    pub code: Option<&'a str>,
    pub timeout: Duration,
}

/// The runtime the wheels were checked in.
#[derive(Debug, Clone, Serialize)]
pub struct RuntimeInfo {
    pub dir: String,
    /// As Pyodide reports itself once booted.
    pub pyodide: Option<String>,
    pub python: String,
    pub platform_tag: String,
    pub node: String,
}

/// How one shared object fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Ok,
    /// The runtime refused to load it (a LinkError, a needed library missing).
    LoadError,
    /// Loaded and imported, but needs symbols nobody defines.
    MissingSymbols,
    /// Its module init raised.
    ImportError,
    /// Never loadable: not wasm, or named for another interpreter.
    NotLoadable,
    /// Not reached (the wheel was not installed, the runtime died, time ran out).
    NotChecked,
}

/// A symbol a module needs that no one defines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Symbol {
    pub name: String,
    /// `function`, `data` (`GOT.mem`) or `function address` (`GOT.func`).
    pub kind: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModuleResult {
    /// Dotted module name (extensions) or the member name (libraries).
    pub module: String,
    pub member: String,
    /// `extension` (imported) or `library` (only loaded).
    pub kind: &'static str,
    pub status: Status,
    /// One line: the exact failure.
    pub error: Option<String>,
    /// The Python traceback of an import error.
    pub traceback: Option<String>,
    pub missing: Vec<Symbol>,
    /// Where Python found it (extensions that imported).
    pub file: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WheelResult {
    pub path: String,
    /// Installed into site-packages.
    pub installed: bool,
    /// Why not (tags the runtime refuses, an unpacking error).
    pub error: Option<String>,
    pub modules: Vec<ModuleResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CodeResult {
    pub ok: bool,
    pub error: Option<String>,
    pub traceback: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Fatal {
    pub stage: String,
    pub error: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub modules: usize,
    pub ok: usize,
    pub failed: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub runtime: RuntimeInfo,
    pub wheels: Vec<WheelResult>,
    pub code: Option<CodeResult>,
    /// The runtime stopped working (or time ran out) during `stage`.
    pub fatal: Option<Fatal>,
    pub summary: Summary,
    pub ok: bool,
}

/// One shared object to load in the runtime.
#[derive(Debug, Clone, Serialize)]
struct PlannedLib {
    /// Path relative to site-packages.
    path: String,
    module: Option<String>,
    symbols: Vec<Symbol>,
    #[serde(skip)]
    member: String,
}

#[derive(Debug, Clone, Serialize)]
struct PlannedWheel {
    /// Index in the report's wheels (the script names wheels by it).
    id: usize,
    file: PathBuf,
    name: String,
    libraries: Vec<PlannedLib>,
}

/// Checks `req.wheels`. An error only for unusable inputs (exit 2); what
/// fails in the runtime is in the report.
pub fn check_wheels(req: &Request) -> Result<Report> {
    let dist = runtime_dir(req)?;
    let node = resolve_node(req.node, req.profile)?;
    let tags = crate::target_cmd::runtime_tags(&dist)?;
    let python_tag = cpython_tag(&tags.python);

    let mut wheels = Vec::new();
    let mut planned = Vec::new();
    for path in req.wheels {
        let (result, plan) = plan_wheel(path, wheels.len(), &tags.platform_tag, &python_tag)?;
        planned.extend(plan);
        wheels.push(result);
    }
    let mut report = Report {
        schema: "pyrewrite-check/1",
        runtime: RuntimeInfo {
            dir: dist.display().to_string(),
            pyodide: None,
            python: tags.python.clone(),
            platform_tag: tags.platform_tag.clone(),
            node: node.display().to_string(),
        },
        wheels,
        code: None,
        fatal: None,
        summary: Summary {
            modules: 0,
            ok: 0,
            failed: 0,
        },
        ok: false,
    };
    if !planned.is_empty() || req.code.is_some() {
        let plan = serde_json::json!({
            "pyodide": dist,
            "helper": HELPER,
            "code": req.code,
            "wheels": planned,
        });
        let lines = run_node(&node, &plan, req.timeout)?;
        apply(&mut report, &planned, &lines);
    }
    report.finish();
    Ok(report)
}

/// `--pyodide`, else the profile's `pyodide_dir`.
fn runtime_dir(req: &Request) -> Result<PathBuf> {
    if let Some(dir) = req.pyodide {
        return find_dist(dir);
    }
    let Some(profile) = req.profile else {
        bail!("no Pyodide to check in: pass --pyodide DIR (node_modules/pyodide)");
    };
    match profile.pyodide_dir() {
        Some(dir) => find_dist(&dir).with_context(|| {
            format!(
                "the \"pyodide_dir\" of target profile {}",
                profile.path.display()
            )
        }),
        None => bail!(
            "target profile {} names no Pyodide (\"pyodide_dir\"): regenerate it with \
             `pyrewrite target from-pyodide DIR` from the npm package, or pass --pyodide DIR",
            profile.path.display()
        ),
    }
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Node, found as emcc is: `--node`, else the profile's `node` (a path is
/// used as is, a bare name looked up), else `node` on `PATH`, else
/// `$EMSDK_NODE` (what emsdk_env.sh sets).
fn resolve_node(flag: Option<&Path>, profile: Option<&Profile>) -> Result<PathBuf> {
    let install = "install Node.js >= 18 (apt-get install nodejs)";
    let (name, origin) = match (flag, profile) {
        (Some(f), _) => (f.to_path_buf(), "--node".to_string()),
        (None, Some(p)) => (
            PathBuf::from(&p.target.node),
            format!("the \"node\" of target profile {}", p.path.display()),
        ),
        (None, None) => (PathBuf::from("node"), "the default".to_string()),
    };
    let text = name.to_string_lossy().into_owned();
    if text.contains('/') {
        if is_executable(&name) {
            return Ok(name);
        }
        bail!(
            "node {} ({origin}) is not an executable file; {install}, or fix the path \
             (--node PATH, or \"node\" in the target profile)",
            name.display()
        );
    }
    let path_var = std::env::var_os("PATH").map(|v| v.into_encoded_bytes());
    let found = pyrewrite_rules::resolve_program(
        text.as_bytes(),
        path_var.as_deref(),
        None,
        &|p: &[u8]| is_executable(Path::new(std::ffi::OsStr::from_bytes(p))),
    );
    if let Some(p) = found {
        return Ok(PathBuf::from(std::ffi::OsStr::from_bytes(&p)));
    }
    if let Some(emsdk_node) = std::env::var_os("EMSDK_NODE").map(PathBuf::from) {
        if is_executable(&emsdk_node) {
            return Ok(emsdk_node);
        }
    }
    bail!(
        "`{text}` ({origin}) is not on PATH, and $EMSDK_NODE names no node; {install}, \
         or pass --node PATH"
    )
}

use std::os::unix::ffi::OsStrExt;

/// `3.11.2` -> `cp311`.
fn cpython_tag(version: &str) -> String {
    let mut parts = version.split('.');
    let major = parts.next().unwrap_or("3");
    let minor = parts.next().unwrap_or("");
    format!("cp{major}{minor}")
}

/// Why the runtime's installer would refuse a wheel with these tags (`None`:
/// accepted). Accepted: platform = the runtime's tag or `any`; python and abi
/// `cpXY-cpXY`, `cpXY-abi3` (any `cp3Y <= cpXY`), or a `pyN[N]`/`cpXY` tag with abi `none`.
fn tag_problem(name: &WheelName, platform: &str, python: &str) -> Option<String> {
    let minor = |t: &str| t.strip_prefix("cp3").and_then(|m| m.parse::<u32>().ok());
    let runtime_minor = minor(python).unwrap_or(0);
    let py_ok = |py: &str, abi: &str| match abi {
        "none" => {
            py == python
                || py == "py3"
                || py.strip_prefix("py3").and_then(|m| m.parse::<u32>().ok()) == Some(runtime_minor)
        }
        "abi3" => minor(py).is_some_and(|m| m <= runtime_minor),
        abi => abi == python && py == python,
    };
    let accepted = name
        .platform
        .split('.')
        .any(|p| p == platform || p == "any")
        && name
            .python
            .split('.')
            .any(|py| name.abi.split('.').any(|abi| py_ok(py, abi)));
    (!accepted).then(|| {
        format!(
            "not installable: its tags {}-{}-{} are not ones this runtime accepts \
             ({python} or abi3 or py3, {platform} or any); a wheel built natively must be \
             retagged (`pyrewrite run` does it, or `pyrewrite retag`)",
            name.python, name.abi, name.platform
        )
    })
}

/// Where a wheel member goes relative to site-packages (`None`: not
/// installed). The same rule as `_target_of` in check.py.
fn member_target(name: &str) -> Option<String> {
    let parts: Vec<&str> = name.split('/').collect();
    let parts = match parts.first() {
        Some(top) if top.ends_with(".data") => match parts.get(1) {
            Some(&"purelib") | Some(&"platlib") if parts.len() > 2 => parts[2..].to_vec(),
            _ => return None,
        },
        _ => parts,
    };
    if parts.is_empty()
        || parts
            .iter()
            .any(|p| p.is_empty() || *p == "." || *p == "..")
    {
        return None;
    }
    Some(parts.join("/"))
}

/// The dotted module a shared object at `rel` (site-packages relative)
/// would be imported as, if it is an extension module (exports `PyInit_<name>`).
fn module_name(rel: &str, exports: &std::collections::BTreeMap<String, Kind>) -> Option<String> {
    let module = module_path(rel)?;
    let stem = module.rsplit('.').next()?;
    exports
        .contains_key(&format!("PyInit_{stem}"))
        .then_some(module)
}

/// `a/b/_c.SUFFIX.so` -> `a.b._c`, when every part is an identifier.
fn module_path(rel: &str) -> Option<String> {
    let (dir, base) = match rel.rsplit_once('/') {
        Some((d, b)) => (Some(d), b),
        None => (None, rel),
    };
    let stem = base.split('.').next()?;
    let identifier = |s: &str| {
        !s.is_empty()
            && !s.starts_with(|c: char| c.is_ascii_digit())
            && s.chars().all(|c| c.is_alphanumeric() || c == '_')
    };
    let mut parts: Vec<&str> = dir.map(|d| d.split('/').collect()).unwrap_or_default();
    parts.push(stem);
    parts.iter().all(|p| identifier(p)).then(|| parts.join("."))
}

/// The symbols a loaded module still needs from others: its non-weak
/// function imports (`env`, `wasi_snapshot_preview1`) and GOT entries.
fn needed_symbols(info: &wasm::ModuleInfo) -> Vec<Symbol> {
    let mut out: Vec<Symbol> = info
        .imports
        .iter()
        .filter(|i| !info.weak_imports.contains(&i.name))
        .filter(|i| !LOADER_PROVIDED.contains(&i.name.as_str()))
        .filter_map(|i| {
            let kind = match (i.module.as_str(), &i.kind) {
                ("env" | "wasi_snapshot_preview1", Kind::Func(_)) => "function",
                ("GOT.mem", _) => "data",
                ("GOT.func", _) => "function address",
                _ => return None,
            };
            Some(Symbol {
                name: i.name.clone(),
                kind: kind.into(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out.dedup_by(|a, b| a.name == b.name);
    out
}

fn module_result(module: String, member: String, kind: &'static str) -> ModuleResult {
    ModuleResult {
        module,
        member,
        kind,
        status: Status::NotChecked,
        error: None,
        traceback: None,
        missing: Vec::new(),
        file: None,
    }
}

/// Reads one wheel: its result so far, and what to load (`None`: nothing
/// goes to the runtime).
fn plan_wheel(
    path: &Path,
    id: usize,
    platform: &str,
    python: &str,
) -> Result<(WheelResult, Option<PlannedWheel>)> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = WheelName::parse(&file_name).with_context(|| format!("{}", path.display()))?;
    let archive = WheelArchive::open(path).with_context(|| format!("wheel {}", path.display()))?;
    let mut result = WheelResult {
        path: path.display().to_string(),
        installed: false,
        error: None,
        modules: Vec::new(),
    };
    // Libraries first, then extension modules, each in archive order: a
    // library an extension needs is then already there.
    let (mut libs, mut exts) = (Vec::new(), Vec::new());
    for m in archive.members.iter().filter(|m| !m.is_dir) {
        let Some(kind) = extension::classify(&m.name, "") else {
            continue;
        };
        let Some(rel) = member_target(&m.name) else {
            continue;
        };
        let info = wasm::read_module(&m.data);
        let module = match &info {
            Ok(i) => module_name(&rel, &i.exports),
            // Not wasm: name it as the importer would, by its suffix.
            Err(_) if !matches!(kind, SharedObject::Plain) => module_path(&rel),
            Err(_) => None,
        };
        let mut r = match &module {
            Some(module) => module_result(module.clone(), m.name.clone(), "extension"),
            None => module_result(m.name.clone(), m.name.clone(), "library"),
        };
        let unloadable = match (&info, &kind) {
            (Err(e), _) => Some(format!("{e:#}")),
            (Ok(_), SharedObject::HostCpython { suffix, .. })
            | (Ok(_), SharedObject::OtherInterpreter { suffix }) => Some(format!(
                "named with the suffix {suffix}, which this runtime never loads \
                 (retag the wheel: `pyrewrite retag`)"
            )),
            (Ok(i), _) if !i.has_dylink => Some(
                "not an Emscripten side module (no dylink.0 section): rebuild it with \
                 -sSIDE_MODULE=1"
                    .into(),
            ),
            _ => None,
        };
        if let Some(problem) = unloadable {
            r.status = Status::NotLoadable;
            r.error = Some(problem);
            result.modules.push(r);
            continue;
        }
        let planned = PlannedLib {
            path: rel,
            module: module.clone(),
            symbols: info.map(|i| needed_symbols(&i)).unwrap_or_default(),
            member: m.name.clone(),
        };
        if module.is_some() {
            exts.push((planned, r));
        } else {
            libs.push((planned, r));
        }
    }
    let (planned, results): (Vec<PlannedLib>, Vec<ModuleResult>) =
        libs.into_iter().chain(exts).unzip();
    result.modules.extend(results);
    if let Some(problem) = tag_problem(&name, platform, python) {
        result.error = Some(problem);
        return Ok((result, None));
    }
    Ok((
        result,
        Some(PlannedWheel {
            id,
            file: std::path::absolute(path)?,
            name: file_name,
            libraries: planned,
        }),
    ))
}

/// Runs check.mjs on `plan`; its JSON lines (a last `fatal` line is added
/// when it is stopped after `timeout` or dies without saying why).
fn run_node(
    node: &Path,
    plan: &serde_json::Value,
    timeout: Duration,
) -> Result<Vec<serde_json::Value>> {
    let private = crate::session::PrivateDir::new("pyrewrite-check-")?;
    let script = private.path().join("check.mjs");
    let plan_file = private.path().join("plan.json");
    std::fs::write(&script, SCRIPT).context("cannot write the check script")?;
    std::fs::write(&plan_file, serde_json::to_vec(plan)?).context("cannot write the check plan")?;
    let mut child = Command::new(node)
        .arg(&script)
        .arg(&plan_file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot run {}", node.display()))?;
    let stdout = child.stdout.take().context("no stdout from node")?;
    let (tx, rx) = crossbeam_channel::unbounded();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + timeout;
    let mut lines = Vec::new();
    let mut timed_out = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => match serde_json::from_str::<serde_json::Value>(&line) {
                Ok(v) => lines.push(v),
                // Not ours (a library printing to stdout): show it.
                Err(_) => eprintln!("{line}"),
            },
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                timed_out = true;
                let _ = child.kill();
                break;
            }
        }
    }
    let status = child.wait().context("waiting for node")?;
    let _ = reader.join();
    drop(private);
    let ended = |k: &str| lines.iter().any(|l| l["kind"] == k);
    if !ended("done") && !ended("fatal") {
        let stage = lines
            .iter()
            .rev()
            .find(|l| l["kind"] == "begin")
            .and_then(|l| l["step"].as_str())
            .unwrap_or("start")
            .to_string();
        let error = if timed_out {
            format!("timed out after {} s (--timeout)", timeout.as_secs())
        } else {
            format!("node ended without a result ({status})")
        };
        lines.push(serde_json::json!({"kind": "fatal", "stage": stage, "error": error}));
    }
    Ok(lines)
}

fn text(v: &serde_json::Value, key: &str) -> Option<String> {
    v[key].as_str().map(str::to_owned)
}

/// Fills the report from the script's lines.
fn apply(report: &mut Report, planned: &[PlannedWheel], lines: &[serde_json::Value]) {
    let wheel_of = |v: &serde_json::Value| {
        let id = v["wheel"].as_u64()? as usize;
        planned.iter().find(|p| p.id == id).map(|p| (p.id, p))
    };
    for line in lines {
        let kind = line["kind"].as_str().unwrap_or("");
        match kind {
            "runtime" => report.runtime.pyodide = text(line, "pyodide"),
            "install" => {
                if let Some((i, _)) = wheel_of(line) {
                    let w = &mut report.wheels[i];
                    w.installed = line["ok"] == true;
                    if !w.installed {
                        w.error = Some(format!(
                            "cannot be unpacked into site-packages: {}",
                            text(line, "error").unwrap_or_default()
                        ));
                    }
                }
            }
            "load" | "missing" | "import" => {
                let Some((i, plan)) = wheel_of(line) else {
                    continue;
                };
                let member = match kind {
                    "import" => {
                        let module = line["module"].as_str().unwrap_or("");
                        plan.libraries
                            .iter()
                            .find(|l| l.module.as_deref() == Some(module))
                            .map(|l| l.member.clone())
                    }
                    _ => {
                        let path = line["path"].as_str().unwrap_or("");
                        plan.libraries
                            .iter()
                            .find(|l| l.path == path)
                            .map(|l| l.member.clone())
                    }
                };
                let Some(member) = member else { continue };
                let Some(m) = report.wheels[i]
                    .modules
                    .iter_mut()
                    .find(|m| m.member == member)
                else {
                    continue;
                };
                apply_module(m, kind, line);
            }
            "code" => {
                report.code = Some(CodeResult {
                    ok: line["ok"] == true,
                    error: text(line, "error"),
                    traceback: text(line, "traceback"),
                })
            }
            "fatal" => {
                let stage = text(line, "stage").unwrap_or_default();
                let error = text(line, "error").unwrap_or_default();
                if stage == "code" {
                    report.code = Some(CodeResult {
                        ok: false,
                        error: Some(format!("the runtime stopped: {error}")),
                        traceback: None,
                    });
                }
                if let Some(module) = stage.strip_prefix("import ") {
                    for w in &mut report.wheels {
                        for m in &mut w.modules {
                            if m.module == module && m.status == Status::NotChecked {
                                m.status = Status::ImportError;
                                m.error = Some(format!("the runtime stopped: {error}"));
                            }
                        }
                    }
                }
                report.fatal = Some(Fatal { stage, error });
            }
            _ => {}
        }
    }
}

fn apply_module(m: &mut ModuleResult, kind: &str, line: &serde_json::Value) {
    match kind {
        // A library is done once loaded; an extension when it imports.
        "load" if line["ok"] == true && m.kind == "library" => m.status = Status::Ok,
        "load" if line["ok"] == true => {}
        "load" => {
            m.status = Status::LoadError;
            let error = text(line, "error").unwrap_or_default();
            let hint = if error.contains("LinkError") {
                "; `pyrewrite verify` explains the mismatch"
            } else {
                ""
            };
            m.error = Some(format!("cannot load {}: {error}{hint}", m.member));
        }
        "missing" => {
            m.missing = serde_json::from_value(line["symbols"].clone()).unwrap_or_default();
            if !m.missing.is_empty() {
                m.status = Status::MissingSymbols;
                let names: Vec<String> = m
                    .missing
                    .iter()
                    .map(|s| format!("`{}` ({})", s.name, s.kind))
                    .collect();
                m.error = Some(format!(
                    "needs {} symbol(s) that no library and not the runtime define: {}; it \
                     loads, and the first use of one stops the runtime (the loader's stub \
                     throws: a TypeError in Pyodide 0.23, `Dynamic linking error: cannot \
                     resolve symbol` in 0.25); link what defines them into the module",
                    names.len(),
                    names.join(", ")
                ));
            }
        }
        "import" => {
            m.file = text(line, "file");
            if line["ok"] == true {
                if m.status == Status::NotChecked {
                    m.status = Status::Ok;
                }
            } else {
                m.status = Status::ImportError;
                m.error = Some(format!(
                    "exception in module init: {}",
                    text(line, "error").unwrap_or_default()
                ));
                m.traceback = text(line, "traceback");
            }
        }
        _ => {}
    }
}

impl Report {
    fn finish(&mut self) {
        let all: Vec<&ModuleResult> = self.wheels.iter().flat_map(|w| &w.modules).collect();
        let ok = all.iter().filter(|m| m.status == Status::Ok).count();
        self.summary = Summary {
            modules: all.len(),
            ok,
            failed: all.len() - ok,
        };
        self.ok = self.summary.failed == 0
            && self.wheels.iter().all(|w| w.error.is_none())
            && self.code.as_ref().is_none_or(|c| c.ok)
            && self.fatal.is_none();
    }

    /// 0 when everything imported (and `--code` ran), else [`EXIT_FAILED`].
    pub fn exit_code(&self) -> u8 {
        if self.ok {
            0
        } else {
            EXIT_FAILED
        }
    }

    /// One line for `run`'s summary.
    pub fn verdict(&self) -> String {
        let s = &self.summary;
        let runtime = format!("Pyodide {}", self.runtime.pyodide.as_deref().unwrap_or("?"));
        if self.ok {
            format!("ok: {} module(s) imported in {runtime}", s.ok)
        } else {
            let mut what = format!("{} of {} module(s) failed", s.failed, s.modules);
            let bad_wheels = self.wheels.iter().filter(|w| w.error.is_some()).count();
            if bad_wheels > 0 {
                what += &format!(", {bad_wheels} wheel(s) not installed");
            }
            if self.code.as_ref().is_some_and(|c| !c.ok) {
                what += ", --code failed";
            }
            format!("{what} in {runtime}")
        }
    }

    pub fn to_human(&self) -> String {
        let r = &self.runtime;
        let mut out = format!(
            "runtime: {} (Pyodide {}, Python {}, {}), node {}\n",
            r.dir,
            r.pyodide.as_deref().unwrap_or("?"),
            r.python,
            r.platform_tag,
            r.node
        );
        for w in &self.wheels {
            out += &format!("\n{}\n", w.path);
            if let Some(e) = &w.error {
                out += &format!("  FAILED  {e}\n");
            }
            if w.modules.is_empty() && w.error.is_none() {
                out += "  ok      no shared objects (pure Python): installed\n";
            }
            for m in &w.modules {
                let what = if m.kind == "library" {
                    format!("{} (library, loaded only)", m.module)
                } else {
                    m.module.clone()
                };
                match (m.status, &m.error) {
                    (Status::Ok, _) => out += &format!("  ok      {what}\n"),
                    (Status::NotChecked, None) => {
                        out += &format!("  --      {what}: not checked\n")
                    }
                    (_, e) => {
                        out += &format!("  FAILED  {what}: {}\n", e.as_deref().unwrap_or("failed"))
                    }
                }
            }
        }
        if let Some(f) = &self.fatal {
            // A stop in an import or in --code is told there.
            if f.stage != "code" && !f.stage.starts_with("import ") {
                out += &format!("\nstopped during {}: {}\n", f.stage, f.error);
            }
        }
        if let Some(c) = &self.code {
            match (c.ok, &c.traceback) {
                (true, _) => out += "\ncode: ok\n",
                (false, Some(tb)) => out += &format!("\ncode: FAILED\n{}\n", tb.trim_end()),
                (false, None) => {
                    out += &format!("\ncode: FAILED: {}\n", c.error.as_deref().unwrap_or(""))
                }
            }
        }
        out += &format!("\n{}\n", self.verdict());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wheel(name: &str) -> WheelName {
        WheelName::parse(name).unwrap()
    }

    #[test]
    fn tags_the_runtime_accepts() {
        let ok = |n: &str| tag_problem(&wheel(n), "emscripten_3_1_32_wasm32", "cp311").is_none();
        assert!(ok("a-1-cp311-cp311-emscripten_3_1_32_wasm32.whl"));
        assert!(ok("a-1-cp38-abi3-emscripten_3_1_32_wasm32.whl"));
        assert!(ok("a-1-py3-none-any.whl"));
        assert!(ok("a-1-py2.py3-none-any.whl"));
        assert!(!ok("a-1-cp311-cp311-linux_x86_64.whl"));
        assert!(!ok("a-1-cp312-cp312-emscripten_3_1_32_wasm32.whl"));
        assert!(!ok("a-1-cp312-abi3-emscripten_3_1_32_wasm32.whl"));
        assert!(!ok("a-1-cp311-cp311-emscripten_3_1_45_wasm32.whl"));
        let why = tag_problem(
            &wheel("a-1-cp311-cp311-linux_x86_64.whl"),
            "emscripten_3_1_32_wasm32",
            "cp311",
        )
        .unwrap();
        assert!(
            why.contains("linux_x86_64") && why.contains("pyrewrite retag"),
            "{why}"
        );
        assert_eq!(cpython_tag("3.11.2"), "cp311");
    }

    #[test]
    fn members_go_where_an_installer_puts_them() {
        assert_eq!(member_target("a/b.so").as_deref(), Some("a/b.so"));
        assert_eq!(
            member_target("x-1.data/platlib/a/b.so").as_deref(),
            Some("a/b.so")
        );
        assert_eq!(member_target("x-1.data/scripts/tool"), None);
        assert_eq!(member_target("a/../b.so"), None);
    }

    #[test]
    fn extension_modules_are_the_ones_exporting_their_init() {
        let mut exports = std::collections::BTreeMap::new();
        exports.insert("PyInit__hello".to_string(), Kind::Global);
        let m = |rel: &str| module_name(rel, &exports);
        assert_eq!(
            m("hello_c/_hello.cpython-311-wasm32-emscripten.so").as_deref(),
            Some("hello_c._hello")
        );
        assert_eq!(m("_hello.abi3.so").as_deref(), Some("_hello"));
        assert_eq!(m("hello_c/libother.so"), None);
        assert_eq!(m("hello-c.libs/_hello.so"), None);
    }

    #[test]
    fn node_from_the_profile_must_exist() {
        let p = Profile {
            target: pyrewrite_rules::Target {
                node: "/nonexistent/bin/node".into(),
                ..Default::default()
            },
            path: PathBuf::from("/p/target.json"),
            source: pyrewrite_rules::profile::Source::Default,
        };
        let e = resolve_node(None, Some(&p)).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/bin/node"), "{e}");
        assert!(e.contains("/p/target.json"), "{e}");
        assert!(e.contains("install Node.js"), "{e}");
        let e = resolve_node(Some(Path::new("no-such-node-xyz")), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not on PATH"), "{e}");
    }
}
