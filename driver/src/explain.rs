//! `pyrewrite explain`: the rules' decision for one command line, without running it.

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The command line to explain (put it after `--`).
    #[arg(last = true, required = true)]
    pub argv: Vec<std::ffi::OsString>,
}

pub fn main(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("explain: not built yet")
}
