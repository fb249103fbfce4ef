//! The one seam between a session and wheel assembly (`crate::wheel`,
//! docs/wheel.md): `pyrewrite run` calls only [`retag_wheel`], which turns the
//! wheel module's report into the lines of the session summary.

use crate::wheel::{self, Outcome, Provenance};
use pyrewrite_rules::Target;
use std::path::{Path, PathBuf};

/// One natively built wheel to turn into its wasm32 twin.
pub struct RetagRequest<'a> {
    pub wheel: &'a Path,
    pub target: &'a Target,
    /// Where the retagged wheel goes.
    pub out_dir: &'a Path,
    /// The session's event log, so assembly can check each extension came
    /// from a link the session rewrote.
    pub events_log: Option<&'a Path>,
}

/// The wheel written for a request.
pub struct Retagged {
    pub output: PathBuf,
    /// The wheel's platform tag, e.g. `emscripten_3_1_32_wasm32`.
    pub tag: String,
    /// Things worth a look that did not stop assembly (an extension no
    /// rewritten link produced, ...).
    pub warnings: Vec<String>,
    /// Whether the wheel holds extension modules (a wasm wheel worth
    /// verifying), as opposed to a pure wheel left as it is.
    pub has_extensions: bool,
    /// A new wheel was written for the target (the input is then a
    /// native-named wheel holding wasm, which `run` must not leave behind).
    pub retagged: bool,
    /// The shared objects in the wheel, by their names in the input.
    pub shared_objects: Vec<String>,
}

/// Retag one wheel for the target platform with `crate::wheel`, checking
/// against the session's links when the event log is at hand.
pub fn retag_wheel(request: &RetagRequest) -> anyhow::Result<Retagged> {
    let provenance = match request.events_log {
        Some(log) => Some(Provenance::load(log)?.0),
        None => None,
    };
    let report = wheel::retag_wheel(
        request.wheel,
        request.target,
        request.out_dir,
        provenance.as_ref(),
    )?;
    let has_extensions = report.outcome != Outcome::NoExtensions;
    let tag = match report.outcome {
        Outcome::Retagged => report.platform_tag,
        Outcome::NoExtensions => format!(
            "{}, no extension modules: left as it is",
            report.platform_tag
        ),
        Outcome::AlreadyTarget => format!("{}, already for the target", report.platform_tag),
    };
    Ok(Retagged {
        output: report.output,
        tag,
        warnings: report.warnings,
        has_extensions,
        retagged: report.outcome == Outcome::Retagged,
        shared_objects: report.side_modules,
    })
}
