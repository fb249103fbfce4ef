//! The shared objects (`*.so`) verify checks: the members of a wheel, read
//! through the `wheel` module's checked reader, or a bare `.so`/`.wasm` file.

use crate::wheel::{archive::WheelArchive, extension};
use anyhow::{Context, Result};
use std::path::Path;

/// One shared object: its name inside the wheel (or the file name) and bytes.
pub struct SharedObject {
    pub member: String,
    pub bytes: Vec<u8>,
}

/// The `.so` members of a wheel, in archive order. A path that is itself a `.so`
/// (or `.wasm`) file yields just that file.
pub fn read_shared_objects(path: &Path) -> Result<Vec<SharedObject>> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bare = !name.ends_with(".whl") && !name.ends_with(".zip");
    if bare && (extension::classify(&name, "").is_some() || name.ends_with(".wasm")) {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        return Ok(vec![SharedObject {
            member: name,
            bytes,
        }]);
    }
    let wheel = WheelArchive::open(path).with_context(|| format!("wheel {}", path.display()))?;
    Ok(wheel
        .members
        .into_iter()
        .filter(|m| !m.is_dir && extension::classify(&m.name, "").is_some())
        .map(|m| SharedObject {
            member: m.name,
            bytes: m.data,
        })
        .collect())
}
