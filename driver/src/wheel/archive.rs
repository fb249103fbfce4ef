//! Reading a wheel: every member decompressed into memory after the zip
//! itself, the member names and the entry layout were checked, so that a
//! hostile or broken wheel fails before anything is written.

use anyhow::{anyhow, bail, Context, Result};
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use zip::ZipArchive;

/// The bytes of a wheel, shared between the reader and the raw-copy writer.
pub type ZipBytes = Cursor<Arc<[u8]>>;

/// One zip entry, in central-directory order.
#[derive(Debug, Clone)]
pub struct Member {
    /// Position in the archive, for raw copies.
    pub index: usize,
    pub name: String,
    pub is_dir: bool,
    /// Uncompressed contents (empty for directories).
    pub data: Vec<u8>,
}

pub struct WheelArchive {
    pub path: PathBuf,
    /// The file as read once: everything decided and copied comes from these
    /// bytes, never from a second read of the path.
    pub bytes: Arc<[u8]>,
    pub zip: ZipArchive<ZipBytes>,
    pub members: Vec<Member>,
}

impl WheelArchive {
    /// Opens and fully reads a wheel. CRCs are checked while reading.
    pub fn open(path: &Path) -> Result<WheelArchive> {
        let bytes: Arc<[u8]> = std::fs::read(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .into();
        let mut zip = ZipArchive::new(Cursor::new(bytes.clone())).map_err(|e| {
            anyhow!("not a readable zip ({e}); the file may be truncated or not a wheel")
        })?;
        if zip.has_duplicate_names() {
            let dups = duplicate_names(&bytes);
            bail!(
                "duplicate member names {}: a wheel must name each file once \
                 (installers disagree on which copy wins)",
                if dups.is_empty() {
                    "(names not recoverable)".to_string()
                } else {
                    dups.join(", ")
                }
            );
        }
        zip.validate_header_consistency().map_err(|e| {
            anyhow!("inconsistent zip structure ({e}); the file is damaged or crafted")
        })?;
        let mut members = Vec::with_capacity(zip.len());
        for index in 0..zip.len() {
            let mut file = zip
                .by_index(index)
                .map_err(|e| anyhow!("cannot open member #{index}: {e}"))?;
            let name = file
                .name()
                .map_err(|e| anyhow!("member #{index} has an unreadable name: {e}"))?
                .into_owned();
            check_member_path(&name)?;
            if file.encrypted() {
                bail!("member {name} is encrypted; wheels are never encrypted");
            }
            if file.is_symlink() {
                bail!("member {name} is a symbolic link; wheels hold regular files only");
            }
            let is_dir = file.is_dir();
            let mut data = Vec::new();
            if !is_dir {
                file.read_to_end(&mut data).map_err(|e| {
                    anyhow!("member {name} cannot be read ({e}); the wheel is damaged")
                })?;
            }
            members.push(Member {
                index,
                name,
                is_dir,
                data,
            });
        }
        Ok(WheelArchive {
            path: path.to_path_buf(),
            bytes,
            zip,
            members,
        })
    }

    pub fn member(&self, name: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.name == name)
    }
}

/// Rejects names an installer could write outside its target directory, or
/// that mean different files on different systems.
pub fn check_member_path(name: &str) -> Result<()> {
    let why = if name.is_empty() {
        Some("is empty")
    } else if name.starts_with('/') {
        Some("is an absolute path")
    } else if name.contains('\\') {
        Some("contains a backslash (Windows separators are not allowed in zip names)")
    } else if name.contains('\0') {
        Some("contains a NUL byte")
    } else if name.len() >= 2 && name.as_bytes()[1] == b':' {
        Some("starts with a drive letter")
    } else {
        let trimmed = name.strip_suffix('/').unwrap_or(name);
        let parts: Vec<&str> = trimmed.split('/').collect();
        if parts.contains(&"..") {
            Some("contains a `..` component (it would be written outside the install directory)")
        } else if parts.iter().any(|p| p.is_empty() || *p == ".") {
            Some("contains an empty or `.` component")
        } else {
            None
        }
    };
    match why {
        Some(why) => bail!("member {name:?} {why}; refusing a wheel with unsafe member paths"),
        None => Ok(()),
    }
}

/// Names that occur more than once in the central directory, read straight
/// from the zip bytes (the zip crate keeps only one entry per name). Returns
/// nothing for layouts this small reader does not follow (zip64).
fn duplicate_names(bytes: &[u8]) -> Vec<String> {
    let u16_at = |o: usize| {
        bytes
            .get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |o: usize| {
        bytes
            .get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let Some(eocd) = bytes.windows(4).rposition(|w| w == b"PK\x05\x06") else {
        return vec![];
    };
    let (Some(count), Some(start)) = (u16_at(eocd + 10), u32_at(eocd + 16)) else {
        return vec![];
    };
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    let mut at = start as usize;
    for _ in 0..count {
        if u32_at(at) != Some(0x0201_4b50) {
            return vec![];
        }
        let (Some(n), Some(x), Some(c)) = (u16_at(at + 28), u16_at(at + 30), u16_at(at + 32))
        else {
            return vec![];
        };
        let Some(name) = bytes.get(at + 46..at + 46 + n as usize) else {
            return vec![];
        };
        *seen
            .entry(String::from_utf8_lossy(name).into_owned())
            .or_default() += 1;
        at += 46 + n as usize + x as usize + c as usize;
    }
    seen.into_iter()
        .filter(|(_, k)| *k > 1)
        .map(|(n, _)| n)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_member_paths_are_refused() {
        for bad in [
            "/etc/passwd",
            "../evil.py",
            "pkg/../../evil.py",
            "pkg\\evil.py",
            "C:evil.py",
            "pkg//x.py",
            "./x.py",
            "",
        ] {
            assert!(check_member_path(bad).is_err(), "{bad:?} accepted");
        }
        for good in [
            "pkg/__init__.py",
            "pkg/",
            "pkg-1.0.dist-info/RECORD",
            "a..b/c",
        ] {
            check_member_path(good).unwrap();
        }
    }
}
