//! `pyrewrite retag`: turn natively built wheels into wasm32 ones. The work
//! is in [`crate::wheel`]; this module is the command line around it.

use crate::wheel::{self, Outcome, Provenance, RetagReport};
use anyhow::Result;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Shown by `pyrewrite retag --help` after the options (the one-line
/// summary is the subcommand's doc in main.rs).
const LONG_HELP: &str = "\
For each WHEEL: every shared object in it (`*.so`, `*.so.N`) must be a wasm\n\
side module (wasm magic, then the `dylink.0` section first); a native ELF\n\
or an `emcc -shared` object file without -sSIDE_MODULE=1 is an error naming\n\
the member. RECORD must match the contents; unsafe paths (absolute, `..`),\n\
duplicate names and damaged zips are refused. Nothing is written for a\n\
wheel that fails.\n\
\n\
A wheel that passes is written anew into --out as\n\
NAME-VERSION[-BUILD]-PYTHON-ABI-PLATFORM.whl with only PLATFORM replaced by\n\
the target's tag (python and abi tags, including abi3, stay); extension\n\
modules named with a host suffix (.cpython-311-x86_64-linux-gnu.so) get the\n\
target's suffix (.cpython-311-wasm32-emscripten.so), while .abi3.so and\n\
plain .so keep their names (the target's importer accepts both); WHEEL\n\
gets the new Tag lines and Root-Is-Purelib: false; RECORD is regenerated.\n\
All other bytes, timestamps and permissions are kept: the same input gives\n\
the same output. The file appears atomically (temp file + rename).\n\
\n\
The input wheel is never modified or deleted. A wheel without shared\n\
objects (e.g. py3-none-any), or one already retagged, is left as it is\n\
(copied unchanged into --out when that is another directory).\n\
\n\
Exit status: 0 all wheels done; 1 warnings with --strict; 2 a wheel failed\n\
(the others are still processed).\n\
";

#[derive(clap::Args)]
#[command(after_long_help = LONG_HELP)]
pub struct Args {
    /// Wheels to retag.
    #[arg(required = true, value_name = "WHEEL")]
    pub wheels: Vec<PathBuf>,
    /// Target profile (JSON, see `pyrewrite target`); gives the platform tag
    /// and extension suffix. Default: $PYREWRITE_TARGET, else the user's
    /// default profile ($XDG_CONFIG_HOME/pyrewrite/target.json or
    /// ~/.config/pyrewrite/target.json).
    #[arg(long, value_name = "FILE")]
    pub target: Option<PathBuf>,
    /// Platform tag to use instead of the profile's, e.g.
    /// pyemscripten_2025_0_wasm32 (PEP 783) or pyodide_2024_0_wasm32.
    #[arg(long, value_name = "TAG")]
    pub platform_tag: Option<String>,
    /// Directory for the new wheels (created if missing). Default: next to
    /// each input wheel.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Session event log (JSON lines, as written by `pyrewrite run`):
    /// warn about every shared object that no rewritten link produced, and
    /// explain a native ELF (the command that made or named it, why the
    /// hooks missed it).
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,
    /// Treat warnings as failures (exit 1).
    #[arg(long)]
    pub strict: bool,
    /// Print one JSON object per wheel on stdout instead of text:
    /// {"input", "output", "outcome": "retagged"|"no_extensions"|"already_target",
    /// "platform_tag", "renamed": [[old, new]], "side_modules", "warnings"},
    /// or {"input", "error"} for a wheel that failed.
    #[arg(long)]
    pub json: bool,
}

pub fn main(args: Args) -> Result<ExitCode> {
    let mut target = crate::profile::load(args.target.as_deref())?.target;
    if let Some(tag) = &args.platform_tag {
        target.platform_tag = tag.clone();
    }
    wheel::check_target(&target)?;
    let provenance = match &args.events {
        Some(path) => {
            let (p, skipped) = Provenance::load(path)?;
            if skipped > 0 {
                eprintln!(
                    "pyrewrite: warning: {}: skipped {skipped} line(s) that are not events",
                    path.display()
                );
            }
            Some(p)
        }
        None => None,
    };

    let (mut failed, mut warned) = (false, false);
    for input in &args.wheels {
        let out_dir = match &args.out {
            Some(d) => d.clone(),
            None => input
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf(),
        };
        match wheel::retag_wheel(input, &target, &out_dir, provenance.as_ref()) {
            Ok(report) => {
                if args.json {
                    println!("{}", serde_json::to_string(&report)?);
                } else {
                    print_report(&report);
                }
                warned |= !report.warnings.is_empty();
            }
            Err(e) => {
                if args.json {
                    let line = serde_json::json!({"input": input, "error": format!("{e:#}")});
                    println!("{line}");
                }
                eprintln!("pyrewrite: error: {e:#}");
                failed = true;
            }
        }
    }
    Ok(if failed {
        ExitCode::from(2)
    } else if warned && args.strict {
        eprintln!("pyrewrite: warnings are fatal with --strict");
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_report(r: &RetagReport) {
    let input = r.input.display();
    let output = r.output.display();
    let copied = if r.output != r.input {
        format!(" (copied to {output})")
    } else {
        String::new()
    };
    match r.outcome {
        Outcome::Retagged => {
            println!("retagged {input} -> {output}");
            for (old, new) in &r.renamed {
                println!("  renamed {old} -> {new}");
            }
        }
        Outcome::NoExtensions => {
            println!("left as it is (no extension modules): {input}{copied}")
        }
        Outcome::AlreadyTarget => {
            println!(
                "left as it is (already {}): {input}{copied}",
                r.platform_tag
            )
        }
    }
    if !r.side_modules.is_empty() {
        println!("  {} side module(s) checked", r.side_modules.len());
    }
    for w in &r.warnings {
        eprintln!("pyrewrite: warning: {input}: {w}");
    }
}
