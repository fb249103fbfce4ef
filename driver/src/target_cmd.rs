//! `pyrewrite target ...`: create target profiles.

use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Derive a target profile from a Pyodide distribution directory.
    FromPyodide {
        /// The Pyodide distribution (e.g. node_modules/pyodide).
        dir: std::path::PathBuf,
    },
}

pub fn main(_c: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("target: not built yet")
}
