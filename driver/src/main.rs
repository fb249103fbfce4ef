//! `pyrewrite`: the driver. Each subcommand lives in its own module; this file
//! only parses the command line and dispatches.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod check;
mod explain;
mod profile;
mod retag;
mod session;
mod target_cmd;
#[cfg(test)]
mod test_support;
mod unhooked;
mod verify;
mod wheel;

/// Cross-compile Python C/C++ extensions to WebAssembly (Pyodide) without
/// changing the package's build: run the ordinary native build with
/// libpyrewrite.so preloaded, rewrite every compiler call to emcc in flight,
/// and retag the resulting wheel for wasm32.
#[derive(Parser)]
#[command(name = "pyrewrite", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a build with compiler calls rewritten to emcc, then retag its wheels.
    Run(session::RunArgs),
    /// Run a build rewriting nothing; record what it executed and a compile_commands.json.
    Trace(session::TraceArgs),
    /// Show what pyrewrite would run instead of a command, without running anything.
    Explain(explain::Args),
    /// Retag natively built wheels as wasm32 after checking every extension is a side module.
    Retag(retag::Args),
    /// Create target profiles.
    #[command(subcommand)]
    Target(target_cmd::Command),
    /// Read an event log back.
    #[command(subcommand)]
    Events(session::EventsCommand),
    /// Check a wasm wheel's imports against a Pyodide runtime.
    Verify(verify::Args),
    /// Install wasm wheels into a real Pyodide (node, offline) and import every extension module.
    Check(check::Args),
}

fn main() -> ExitCode {
    unhooked::ensure();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => session::run(a),
        Command::Trace(a) => session::trace(a),
        Command::Explain(a) => explain::main(a),
        Command::Retag(a) => retag::main(a),
        Command::Target(c) => target_cmd::main(c),
        Command::Events(c) => session::events(c),
        Command::Verify(a) => verify::main(a),
        Command::Check(a) => check::main(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("pyrewrite: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
