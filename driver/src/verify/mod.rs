//! `pyrewrite verify`: check a wasm wheel's imports against the runtime that will
//! load it, before anyone loads it.
//!
//! A side module is linked when it is loaded, in the user's browser: a type
//! mismatch is a LinkError there, a missing function fails on first call, and a
//! struct whose layout changed between Emscripten versions is misread silently.
//! This reads every extension's imports and the runtime's exports (wasmparser),
//! resolves them like Emscripten's loader, and explains what would go wrong.

pub mod abi;
mod check;
mod loader;
mod report;
pub mod runtime;
pub mod wasm;
mod wheel_so;

pub use report::{Report, Severity};

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Check wasm wheels against a Pyodide runtime (main module exports, JS-provided
/// symbols, shipped libraries). Exit 0 when no errors (warnings allowed), 1 when
/// errors are found (with --strict: any finding), 2 on usage or I/O errors.
#[derive(clap::Args)]
#[command(after_help = "\
Reports, per wheel and extension: imports nobody provides (missing symbol or
library), function imports whose type differs from the runtime's (time_t width,
missing -sWASM_BIGINT), and imports whose struct layout differs between the
module's Emscripten and the runtime's (time_t in stat/timespec/timeval).

Exit status: 0 no errors (warnings allowed), 1 errors found (with --strict: any
finding), 2 usage or I/O error.

Examples:
  pyrewrite verify dist/pkg-1.0-cp311-cp311-emscripten_3_1_32_wasm32.whl \\
      --against node_modules/pyodide
  pyrewrite verify app.whl --with libdep.whl --against target.json --json
  pyrewrite verify dist/*.whl        (the runtime named by the target profile)")]
pub struct Args {
    /// Wheels (or bare .so files) whose extension modules are checked.
    #[arg(required = true, value_name = "WHEEL")]
    pub wheels: Vec<PathBuf>,
    /// Runtime: a Pyodide distribution dir (npm package dir holding
    /// pyodide.asm.wasm), or a target profile JSON whose "pyodide_dir" names one.
    /// Default: the "pyodide_dir" of the target profile (--target).
    #[arg(long, value_name = "RUNTIME", conflicts_with = "target")]
    pub against: Option<PathBuf>,
    /// Target profile whose "pyodide_dir" is the runtime, when --against is not
    /// given [default: $PYREWRITE_TARGET, else the user's default profile
    /// $XDG_CONFIG_HOME/pyrewrite/target.json or ~/.config/pyrewrite/target.json]
    #[arg(long, value_name = "FILE")]
    pub target: Option<PathBuf>,
    /// Wheel whose shared libraries are loaded too: its exports count as provided.
    #[arg(long = "with", value_name = "WHEEL")]
    pub with: Vec<PathBuf>,
    /// Emscripten version the extensions were built with (e.g. 3.1.6). Default:
    /// what the module's own imports reveal, else the target profile's emcc,
    /// else the emcc on PATH.
    #[arg(long, value_name = "VER")]
    pub module_emscripten: Option<String>,
    /// Make warnings fatal too (exit 1).
    #[arg(long)]
    pub strict: bool,
    /// Print one JSON document (schema "pyrewrite-verify/1") instead of the report.
    #[arg(long)]
    pub json: bool,
}

/// How to check, beyond the inputs.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Wheels whose shared libraries count as providers (`--with`).
    pub with: Vec<PathBuf>,
    /// Emscripten version the extensions were built with, if known.
    pub module_emscripten: Option<String>,
}

pub fn main(args: Args) -> Result<ExitCode> {
    let opts = Options {
        with: args.with,
        module_emscripten: args.module_emscripten,
    };
    let profile;
    let against = match &args.against {
        Some(path) => Against::Path(path),
        None => {
            profile = crate::profile::load(args.target.as_deref())?;
            Against::Profile(&profile)
        }
    };
    let report = verify_wheels(&args.wheels, &against, &opts)?;
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_human());
    }
    Ok(ExitCode::from(report.exit_code(args.strict)))
}

/// The runtime to verify against.
pub enum Against<'a> {
    /// `--against`: a Pyodide dist dir or a target profile file.
    Path(&'a Path),
    /// A loaded target profile: its `pyodide_dir`.
    Profile(&'a crate::profile::Profile),
}

/// Verify `wheels` against `runtime` (a Pyodide dist dir or a target profile).
/// Errors only for unusable inputs; problems in the wheels are findings.
/// Used by `pyrewrite verify` and, at the end of a build, by `pyrewrite run`.
pub fn verify_wheels(wheels: &[PathBuf], runtime: &Against<'_>, opts: &Options) -> Result<Report> {
    let rt = match runtime {
        Against::Path(path) => runtime::load(path)?,
        Against::Profile(profile) => runtime::load_profile(profile)?,
    };
    let flag_version = opts
        .module_emscripten
        .as_deref()
        .map(|v| {
            v.parse::<abi::EmVersion>()
                .map_err(anyhow::Error::msg)
                .context("--module-emscripten")
        })
        .transpose()?;
    // The assumed builder: asked of emcc only when needed, once.
    let mut assumed: Option<(Option<abi::EmVersion>, String)> = None;

    let mut with_libs = Vec::new();
    for w in &opts.with {
        for so in wheel_so::read_shared_objects(w)? {
            if let Ok(info) = wasm::read_module(&so.bytes) {
                let label = format!("{} ({})", so.member, w.display());
                with_libs.push((so.member, label, info));
            }
        }
    }
    let shipped: Vec<(String, String, &wasm::ModuleInfo)> = rt
        .shipped_libs
        .iter()
        .map(|(n, i)| (n.clone(), format!("{n} (shipped with the runtime)"), i))
        .collect();

    let runtime_version = rt.emscripten;
    let runtime_bits = runtime_version.map(abi::time_t_bits);
    let runtime_label = format!(
        "the runtime (Pyodide {}, Emscripten {})",
        rt.pyodide_version.as_deref().unwrap_or("?"),
        runtime_version.map_or("?".into(), |v| v.to_string())
    );

    let mut wheel_reports = Vec::new();
    for wheel in wheels {
        let members = wheel_so::read_shared_objects(wheel)?;
        let parsed: Vec<(String, Result<wasm::ModuleInfo>)> = members
            .iter()
            .map(|so| (so.member.clone(), wasm::read_module(&so.bytes)))
            .collect();
        let mut extensions = Vec::new();
        for (member, info) in &parsed {
            let info = match info {
                Ok(info) => info,
                Err(e) => {
                    extensions.push(report::ExtensionReport {
                        member: member.clone(),
                        emscripten: None,
                        emscripten_source: "unreadable".into(),
                        time_t_bits: None,
                        time_t_source: "unreadable".into(),
                        imports: 0,
                        findings: vec![check::unreadable(&format!("{e:#}"))],
                    });
                    continue;
                }
            };
            let libs: Vec<check::Library<'_>> = parsed
                .iter()
                .filter(|(m, _)| m != member)
                .filter_map(|(m, i)| {
                    i.as_ref().ok().map(|info| check::Library {
                        label: format!("{m} (same wheel)"),
                        file_name: base_name(m),
                        info,
                    })
                })
                .chain(with_libs.iter().map(|(m, l, info)| check::Library {
                    label: l.clone(),
                    file_name: base_name(m),
                    info,
                }))
                .chain(shipped.iter().map(|(m, l, info)| check::Library {
                    label: l.clone(),
                    file_name: base_name(m),
                    info,
                }))
                .collect();

            let (version, version_source) = match flag_version {
                Some(v) => (Some(v), "--module-emscripten".to_string()),
                None => assumed
                    .get_or_insert_with(|| assumed_builder(rt.profile_emcc.as_deref()))
                    .clone(),
            };
            let (bits, source) = match check::time_t_bits_from_imports(info) {
                Some((b, sym)) => (
                    Some(b),
                    format!("inferred from the type of its `{sym}` import"),
                ),
                None => (
                    version.map(abi::time_t_bits),
                    match version {
                        Some(v) => format!("from Emscripten {v}: {version_source}"),
                        None => "Emscripten version unknown".into(),
                    },
                ),
            };
            let ctx = check::AbiContext {
                module_time_t_bits: bits,
                module_version: version,
                module_source: source.clone(),
                runtime_time_t_bits: runtime_bits,
                runtime_version,
                runtime_label: runtime_label.clone(),
            };
            let mut findings = check::check_module(info, &rt, &libs, &ctx);
            findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
            extensions.push(report::ExtensionReport {
                member: member.clone(),
                emscripten: ctx.module_version.map(|v| v.to_string()),
                emscripten_source: version_source,
                time_t_bits: bits,
                time_t_source: source,
                imports: info.imports.len(),
                findings,
            });
        }
        wheel_reports.push(report::WheelReport {
            path: wheel.display().to_string(),
            extensions,
        });
    }

    let mut report = Report {
        schema: "pyrewrite-verify/1",
        runtime: report::RuntimeSummary {
            dist_dir: rt.dist_dir.display().to_string(),
            pyodide_version: rt.pyodide_version.clone(),
            emscripten: runtime_version.map(|v| v.to_string()),
            emscripten_source: rt.emscripten_source.clone(),
            time_t_bits: runtime_bits,
            main_exports: rt.main_exports.len(),
            js_symbols: rt.js_symbols.len(),
            js_symbols_source: rt.js_symbols_source.clone(),
            on_demand: rt.loader.on_demand.iter().map(|r| r.to_string()).collect(),
            on_demand_source: rt.loader.source.clone(),
            shipped_libs: rt.shipped_libs.iter().map(|(n, _)| n.clone()).collect(),
        },
        with: opts.with.iter().map(|p| p.display().to_string()).collect(),
        wheels: wheel_reports,
        summary: report::Summary {
            errors: 0,
            warnings: 0,
        },
    };
    report.recount();
    Ok(report)
}

fn base_name(member: &str) -> String {
    member.rsplit('/').next().unwrap_or(member).to_string()
}

/// The Emscripten that most likely built the modules when nothing else says:
/// the target profile's emcc, else the `emcc` on PATH.
fn assumed_builder(profile_emcc: Option<&str>) -> (Option<abi::EmVersion>, String) {
    let emcc = profile_emcc.unwrap_or("emcc");
    let from = if profile_emcc.is_some() {
        format!("the target profile's emcc (`{emcc} --version`)")
    } else {
        format!("assumed: the installed emcc (`{emcc} --version`)")
    };
    let version = abi::emcc_version(emcc);
    (version, from)
}
