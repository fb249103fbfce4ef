//! Small file-system helpers: atomic writes and a private temporary directory.

use anyhow::Context;
use std::ffi::{CString, OsString};
use std::io::Write;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// The temporary sibling a file is written to before being renamed over `path`.
pub fn temp_sibling(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| OsString::from("out"));
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

/// Create `path`'s parent directory if it does not exist yet.
pub fn ensure_parent(path: &Path) -> anyhow::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create directory {}", dir.display())),
        _ => Ok(()),
    }
}

/// Write `bytes` to a temporary sibling, then rename it over `path`: a reader
/// sees the old file or the whole new one, never half of it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    ensure_parent(path)?;
    let tmp = temp_sibling(path);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// Flush `dir`'s entries (a rename into it) to disk, so that a file removed
/// after a rename is never lost with the renamed one on a crash.
pub fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync directory {}", dir.display()))
}

/// A directory only this user can enter (mode 0700, made by `mkdtemp`),
/// removed with everything in it when dropped.
pub struct PrivateDir {
    path: PathBuf,
}

impl PrivateDir {
    pub fn new(prefix: &str) -> anyhow::Result<PrivateDir> {
        let base = std::env::temp_dir();
        let mut template = base
            .join(format!("{prefix}XXXXXX"))
            .into_os_string()
            .into_vec();
        template.push(0);
        let template = CString::from_vec_with_nul(template)?;
        let raw = template.into_raw();
        // SAFETY: `raw` is a writable NUL-terminated buffer owned by us; mkdtemp
        // only replaces the trailing X's in place.
        let made = unsafe { libc::mkdtemp(raw) };
        // SAFETY: `raw` came from `CString::into_raw` just above.
        let template = unsafe { CString::from_raw(raw) };
        if made.is_null() {
            return Err(std::io::Error::last_os_error()).with_context(|| {
                format!("cannot create a private directory in {}", base.display())
            });
        }
        let path = PathBuf::from(std::ffi::OsStr::from_bytes(template.as_bytes()));
        Ok(PrivateDir { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn private_dir_is_0700_and_removed_on_drop() {
        let dir = PrivateDir::new("pyrewrite-test-").unwrap();
        let path = dir.path().to_path_buf();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        std::fs::write(path.join("x"), b"x").unwrap();
        drop(dir);
        assert!(!path.exists());
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = PrivateDir::new("pyrewrite-test-").unwrap();
        let target = dir.path().join("sub/out.json");
        write_atomic(&target, b"one").unwrap();
        write_atomic(&target, b"two").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(target.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![OsString::from("out.json")]);
    }
}
