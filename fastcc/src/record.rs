//! emcc's clang calls, written down by this same program run as emcc's
//! compiler wrapper (`EM_COMPILER_WRAPPER`, which emcc puts before every
//! clang it runs).
//!
//! Format: per command, the argument count, then each argument as
//! `LEN:BYTES` (arguments may hold any byte but NUL, newlines included).

use crate::cache::Cache;
use crate::run::{self, Status};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A file for one compile's recording, removed when dropped.
pub struct Recording {
    path: PathBuf,
}

impl Recording {
    /// A fresh file in the cache directory; `None` if it cannot be made
    /// (the compile then runs unrecorded and nothing is learned).
    pub fn new(cache: &Cache) -> Option<Recording> {
        std::fs::create_dir_all(cache.dir()).ok()?;
        let path = cache
            .dir()
            .join(format!("record-{}-{}", std::process::id(), nanos()));
        std::fs::File::create(&path).ok()?;
        Some(Recording { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The commands recorded (an unreadable or damaged file reads as none).
    pub fn commands(&self) -> Vec<Vec<Vec<u8>>> {
        parse(&std::fs::read(&self.path).unwrap_or_default()).unwrap_or_default()
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// Appends `args` (the compiler first) to `file`, then becomes the compiler.
pub fn append_and_exec(file: &Path, args: &[Vec<u8>]) -> Status {
    let mut bytes = format!("{}\n", args.len()).into_bytes();
    for a in args {
        bytes.extend_from_slice(format!("{}:", a.len()).as_bytes());
        bytes.extend_from_slice(a);
    }
    if let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(file) {
        let _ = f.write_all(&bytes);
    }
    run::exec(&[], args)
}

fn parse(mut bytes: &[u8]) -> Option<Vec<Vec<Vec<u8>>>> {
    let mut commands = Vec::new();
    while !bytes.is_empty() {
        let nl = bytes.iter().position(|&b| b == b'\n')?;
        let count: usize = std::str::from_utf8(bytes.get(..nl)?).ok()?.parse().ok()?;
        bytes = bytes.get(nl + 1..)?;
        let mut args = Vec::new();
        for _ in 0..count {
            let colon = bytes.iter().position(|&b| b == b':')?;
            let len: usize = std::str::from_utf8(bytes.get(..colon)?)
                .ok()?
                .parse()
                .ok()?;
            args.push(bytes.get(colon + 1..colon + 1 + len)?.to_vec());
            bytes = bytes.get(colon + 1 + len..)?;
        }
        commands.push(args);
    }
    Some(commands)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_back_with_any_bytes() {
        let dir = std::env::temp_dir().join(format!("pyrewrite-cc-test-{}", std::process::id()));
        let cache = Cache::new(dir.clone().into_os_string());
        let r = Recording::new(&cache).unwrap();
        let one = vec![b"clang".to_vec(), b"-DA=\"x y\"\n:5".to_vec(), Vec::new()];
        for cmd in [&one, &one] {
            let mut bytes = format!("{}\n", cmd.len()).into_bytes();
            for a in cmd.iter() {
                bytes.extend_from_slice(format!("{}:", a.len()).as_bytes());
                bytes.extend_from_slice(a);
            }
            std::fs::OpenOptions::new()
                .append(true)
                .open(r.path())
                .unwrap()
                .write_all(&bytes)
                .unwrap();
        }
        assert_eq!(r.commands(), vec![one.clone(), one]);
        assert_eq!(parse(b"2\n3:abc"), None);
        let path = r.path().to_path_buf();
        drop(r);
        assert!(!path.exists());
        let _ = std::fs::remove_dir_all(dir);
    }
}
