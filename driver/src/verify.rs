//! `pyrewrite verify`: check a wasm wheel's imports against a Pyodide runtime.

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Wheels to check.
    #[arg(required = true)]
    pub wheels: Vec<std::path::PathBuf>,
}

pub fn main(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("verify: not built yet")
}
