//! A build session: `pyrewrite run`, `pyrewrite trace`, and reading logs back.

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct RunArgs {
    /// The build command (put it after `--`).
    #[arg(last = true, required = true)]
    pub cmd: Vec<std::ffi::OsString>,
}

#[derive(clap::Args)]
pub struct TraceArgs {
    /// The build command (put it after `--`).
    #[arg(last = true, required = true)]
    pub cmd: Vec<std::ffi::OsString>,
}

#[derive(clap::Subcommand)]
pub enum EventsCommand {
    /// Summarise an event log.
    Summary { file: std::path::PathBuf },
}

pub fn run(_a: RunArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("run: not built yet")
}

pub fn trace(_a: TraceArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("trace: not built yet")
}

pub fn events(_c: EventsCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("events: not built yet")
}
