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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wheel::fixtures::*;

    #[test]
    fn verify_reads_wheels_through_the_same_bounded_reader() {
        let dir = tempfile::tempdir().unwrap();
        let input = wheel_with_member(dir.path(), "demo/zeros.bin", vec![0; 8 << 20]);
        let err = format!("{:#}", read_shared_objects(&input).err().unwrap());
        assert!(
            err.contains("demo-1.0-cp311-cp311-linux_x86_64.whl"),
            "{err}"
        );
        assert!(
            err.contains("member demo/zeros.bin decompresses to 8388608 bytes"),
            "{err}"
        );
        assert!(err.contains("decompression bomb"), "{err}");
    }
}
