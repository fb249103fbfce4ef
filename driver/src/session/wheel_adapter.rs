//! The ONE seam between a session and wheel assembly (`driver/src/wheel/`,
//! built on the `wheel` branch). `pyrewrite run` calls only
//! [`retag_wheel`]; connecting the real implementation is a change to this
//! file alone.
//!
//! Until the wheel module is merged, this adapter fails with a message that
//! says so, and `run` exits with the documented assembly-failure status (3):
//! a native wheel is never passed off as a wasm one.

use pyrewrite_rules::Target;
use std::path::{Path, PathBuf};

/// One natively built wheel to turn into its wasm32 twin.
// Fields are read by the wheel module once it is connected at merge.
#[allow(dead_code)]
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
}

/// Retag one wheel for the target platform.
pub fn retag_wheel(request: &RetagRequest) -> anyhow::Result<Retagged> {
    anyhow::bail!(
        "cannot retag {}: wheel assembly is not connected in this build \
         (session::wheel_adapter waits for the wheel module)",
        request.wheel.display()
    )
}
