//! Writing the new wheel: entries in a fixed order with the input's own
//! timestamps, permissions and compressed bytes, into a temporary file in the
//! output directory that is renamed into place only when complete.

use super::archive::WheelArchive;
use anyhow::{anyhow, Context, Result};
use std::fs::File;
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use zip::ZipWriter;

/// One entry of the output, in output order.
pub enum Entry {
    /// Member `index` of the input, compressed bytes copied verbatim.
    Copy { index: usize, name: String },
    /// New contents, written with the options (method, time, mode) of input
    /// member `like`.
    New {
        like: usize,
        name: String,
        data: Vec<u8>,
    },
}

/// Writes `entries` as a zip to `dest` (atomically).
pub fn write_wheel(input: &mut WheelArchive, entries: &[Entry], dest: &Path) -> Result<()> {
    write_atomically(dest, |file| {
        let mut zip = ZipWriter::new(file);
        let comment: Box<[u8]> = input.zip.comment().into();
        if !comment.is_empty() {
            zip.set_raw_comment(comment)?;
        }
        for entry in entries {
            match entry {
                Entry::Copy { index, name } => {
                    let f = input.zip.by_index_raw(*index)?;
                    zip.raw_copy_file_rename(f, name)
                        .with_context(|| format!("copying member {name}"))?;
                }
                Entry::New { like, name, data } => {
                    let options = input
                        .zip
                        .by_index_raw(*like)?
                        .options()
                        .large_file(data.len() as u64 >= u32::MAX as u64);
                    zip.start_file(name.as_str(), options)?;
                    zip.write_all(data)?;
                }
            }
        }
        zip.finish()?;
        Ok(())
    })
}

/// Creates `dest` by writing a sibling temporary file and renaming it over
/// `dest`: readers see the old file or the complete new one, never a part.
/// The temporary file is removed if `fill` fails.
pub fn write_atomically(dest: &Path, fill: impl FnOnce(&mut File) -> Result<()>) -> Result<()> {
    let dir = dest
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = dest
        .file_name()
        .ok_or_else(|| anyhow!("{} has no file name", dest.display()))?;
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let tmp = TempPath(dir.join(format!(
        ".{}.pyrewrite-{}-{}.tmp",
        name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )));
    let mut file = File::options()
        .write(true)
        .read(true)
        .create_new(true)
        .open(&tmp.0)
        .with_context(|| format!("cannot create {}", tmp.0.display()))?;
    fill(&mut file)?;
    file.flush()?;
    file.rewind()?;
    file.sync_all()
        .with_context(|| format!("cannot flush {}", tmp.0.display()))?;
    drop(file);
    std::fs::rename(&tmp.0, dest)
        .with_context(|| format!("cannot move the new wheel into place at {}", dest.display()))?;
    std::mem::forget(tmp);
    Ok(())
}

/// Deletes the temporary file unless it was renamed into place.
struct TempPath(PathBuf);

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
