//! Reading a wheel: the zip itself, the member names, the entry layout and
//! the sizes every member declares are checked before anything is
//! decompressed, then each member is decompressed into memory with a hard cap
//! (no member can make the reader allocate more than [`Limits`] allow), so
//! that a hostile or broken wheel fails before anything is written, in
//! bounded memory.

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

const MIB: u64 = 1 << 20;

/// What reading one wheel may cost. Every member is held in memory while a
/// wheel is checked and retagged, so these bound the reader's memory: at most
/// the wheel file plus `max_total` of decompressed members
/// (docs/wheel.md, "Hostile or broken wheels").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest decompressed member.
    pub max_member: u64,
    /// Largest sum of decompressed members; also the largest wheel file.
    pub max_total: u64,
    /// Largest decompressed/compressed ratio of a member bigger than
    /// `ratio_from`: deflate reaches ~1030:1 on one repeated byte, real
    /// wheel contents (code, text, binaries) 2-20:1.
    pub max_ratio: u64,
    /// Members up to this size may have any ratio (a small file of zeros
    /// compresses to almost nothing and costs nothing).
    pub ratio_from: u64,
    /// Largest `.dist-info/RECORD` (about 150 000 rows) or `.dist-info/WHEEL`,
    /// the files that are parsed.
    pub max_metadata: u64,
    /// Most entries in one wheel.
    pub max_members: usize,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        max_member: 512 * MIB,
        max_total: 1024 * MIB,
        max_ratio: 100,
        ratio_from: MIB,
        max_metadata: 16 * MIB,
        max_members: 100_000,
    };
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}

/// `n` bytes for messages: "1073741824 bytes (1024 MiB)".
fn size(n: u64) -> String {
    if n >= MIB {
        format!("{n} bytes ({} MiB)", n / MIB)
    } else {
        format!("{n} bytes")
    }
}

pub struct WheelArchive {
    pub path: PathBuf,
    /// The file as read once: everything decided and copied comes from these
    /// bytes, never from a second read of the path.
    pub bytes: Arc<[u8]>,
    pub zip: ZipArchive<ZipBytes>,
    pub members: Vec<Member>,
}

/// What the central directory says about a member, checked before reading.
struct Declared {
    name: String,
    is_dir: bool,
    size: u64,
}

impl WheelArchive {
    /// Opens and fully reads a wheel within [`Limits::DEFAULT`]. CRCs are
    /// checked while reading.
    pub fn open(path: &Path) -> Result<WheelArchive> {
        WheelArchive::open_with(path, &Limits::DEFAULT)
    }

    /// [`WheelArchive::open`] with other limits (tests).
    pub fn open_with(path: &Path, limits: &Limits) -> Result<WheelArchive> {
        let file_len = std::fs::metadata(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .len();
        if file_len > limits.max_total {
            bail!(
                "the file has {}, more than the {} a wheel may have",
                size(file_len),
                size(limits.max_total)
            );
        }
        let bytes: Arc<[u8]> = std::fs::read(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .into();
        let mut zip = ZipArchive::new(Cursor::new(bytes.clone())).map_err(|e| {
            anyhow!("not a readable zip ({e}); the file may be truncated or not a wheel")
        })?;
        if zip.len() > limits.max_members {
            bail!(
                "{} members, more than the {} a wheel may have",
                zip.len(),
                limits.max_members
            );
        }
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
        // Everything the central directory says, checked before any member
        // is decompressed: a bomb is refused without inflating a byte of it.
        let mut declared = Vec::with_capacity(zip.len());
        let mut total: u64 = 0;
        for index in 0..zip.len() {
            let file = zip
                .by_index_raw(index)
                .map_err(|e| anyhow!("cannot open member #{index}: {e}"))?;
            let utf8_flag = file.flags().as_u16() & 0x0800 != 0;
            let name = member_name(index, file.name_raw(), utf8_flag)?;
            check_member_path(&name)?;
            if file.encrypted() {
                bail!("member {name} is encrypted; wheels are never encrypted");
            }
            if file.is_symlink() {
                bail!("member {name} is a symbolic link; wheels hold regular files only");
            }
            let is_dir = file.is_dir();
            let (len, packed) = (file.size(), file.compressed_size());
            if !is_dir {
                check_declared_size(&name, len, packed, limits)?;
                total = total.saturating_add(len);
                if total > limits.max_total {
                    bail!(
                        "members up to {name} decompress to {}, more than the {} a wheel may \
                         hold in all; refusing a possible decompression bomb",
                        size(total),
                        size(limits.max_total)
                    );
                }
            }
            declared.push(Declared {
                name,
                is_dir,
                size: len,
            });
        }
        let mut members = Vec::with_capacity(declared.len());
        for (index, d) in declared.into_iter().enumerate() {
            let mut data = Vec::new();
            if !d.is_dir {
                let file = zip
                    .by_index(index)
                    .map_err(|e| anyhow!("cannot open member {}: {e}", d.name))?;
                // Never more than declared (+1 to see a lie): the declared
                // size passed the limits above.
                file.take(d.size.saturating_add(1))
                    .read_to_end(&mut data)
                    .map_err(|e| {
                        anyhow!(
                            "member {} cannot be read ({e}); the wheel is damaged",
                            d.name
                        )
                    })?;
                if data.len() as u64 > d.size {
                    bail!(
                        "member {} decompresses to more than the {} its zip header declares; \
                         refusing a crafted wheel (possible decompression bomb)",
                        d.name,
                        size(d.size)
                    );
                }
            }
            members.push(Member {
                index,
                name: d.name,
                is_dir: d.is_dir,
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

/// A member's name as UTF-8 text, or an error naming it by its raw bytes.
/// Wheel member names are UTF-8 (RECORD, which lists them, is UTF-8 text);
/// a name without the zip's UTF-8 flag (general purpose bit 11) is read as
/// CP437 by Python's `zipfile`, so by pip, so non-ASCII names must carry the
/// flag. (The zip crate tries UTF-8 first whatever the flag says.)
fn member_name(index: usize, raw: &[u8], utf8_flag: bool) -> Result<String> {
    let shown = raw.escape_ascii().to_string();
    let Ok(name) = std::str::from_utf8(raw) else {
        bail!(
            "member #{index} \"{shown}\" has a name that is not UTF-8; wheel member names \
             are UTF-8"
        );
    };
    if !name.is_ascii() && !utf8_flag {
        bail!(
            "member #{index} \"{shown}\" has a non-ASCII name without the zip's UTF-8 flag: \
             installers would read it as CP437, not as the UTF-8 that RECORD lists"
        );
    }
    Ok(name.to_string())
}

/// Refuses a member whose declared size breaks `limits`, before reading it.
fn check_declared_size(name: &str, len: u64, packed: u64, limits: &Limits) -> Result<()> {
    let bomb = "refusing a possible decompression bomb";
    if len > limits.max_member {
        bail!(
            "member {name} decompresses to {}, more than the {} a member may have; {bomb}",
            size(len),
            size(limits.max_member)
        );
    }
    if len > limits.ratio_from && len > packed.saturating_mul(limits.max_ratio) {
        bail!(
            "member {name} decompresses to {} from {} (ratio {}:1; a member over {} \
             may have at most {}:1); {bomb}",
            size(len),
            size(packed),
            len / packed.max(1),
            size(limits.ratio_from),
            limits.max_ratio
        );
    }
    if is_parsed_metadata(name) && len > limits.max_metadata {
        bail!(
            "member {name} has {}, more than the {} a RECORD or WHEEL file may have",
            size(len),
            size(limits.max_metadata)
        );
    }
    Ok(())
}

/// `*.dist-info/RECORD` or `*.dist-info/WHEEL` at the top level.
fn is_parsed_metadata(name: &str) -> bool {
    name.split_once('/').is_some_and(|(dir, file)| {
        dir.ends_with(".dist-info") && (file == "RECORD" || file == "WHEEL")
    })
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
