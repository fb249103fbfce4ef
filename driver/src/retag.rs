//! `pyrewrite retag`: turn a natively tagged wheel into a wasm32 one.

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Wheels to retag.
    #[arg(required = true)]
    pub wheels: Vec<std::path::PathBuf>,
}

pub fn main(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("retag: not built yet")
}
