//! Minimal reader of the shared objects (`*.so`) inside a wheel.
//!
//! Deliberately small: the `wheel` module (retagging) reads wheels too; the two
//! should share one reader once both are on main.

use anyhow::{Context, Result};
use std::io::Read;
use std::path::Path;

/// One shared object: its name inside the wheel (or the file name) and bytes.
pub struct SharedObject {
    pub member: String,
    pub bytes: Vec<u8>,
}

/// The `.so` members of a wheel, in archive order. A path that is itself a `.so`
/// (or `.wasm`) file is accepted too and yields just that file.
pub fn read_shared_objects(path: &Path) -> Result<Vec<SharedObject>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if !bytes.starts_with(b"PK") {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if is_shared_object_name(&name) || name.ends_with(".wasm") {
            return Ok(vec![SharedObject {
                member: name,
                bytes,
            }]);
        }
        anyhow::bail!(
            "{} is neither a wheel (zip archive) nor a .so/.wasm file",
            path.display()
        );
    }
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .with_context(|| format!("{} is not a readable wheel (zip)", path.display()))?;
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .with_context(|| format!("{}: cannot read member #{i}", path.display()))?;
        let member = entry
            .name()
            .with_context(|| format!("{}: member #{i} has an unreadable name", path.display()))?
            .into_owned();
        if entry.is_dir() || !is_shared_object_name(&member) {
            continue;
        }
        let mut data = Vec::with_capacity(entry.size() as usize);
        entry
            .read_to_end(&mut data)
            .with_context(|| format!("{}: cannot extract {member}", path.display()))?;
        out.push(SharedObject {
            member,
            bytes: data,
        });
    }
    Ok(out)
}

/// `foo.so`, `foo.cpython-311-wasm32-emscripten.so`, `libbar.so.1`.
fn is_shared_object_name(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.ends_with(".so") || base.contains(".so.")
}
