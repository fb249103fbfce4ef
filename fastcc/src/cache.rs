//! Learned templates on disk: one file per shape, named by the hash of the
//! key and holding the key itself (a hash collision reads as a miss).
//!
//! The key is the shape of the command plus everything else emcc's answer
//! depends on: the emcc it runs (path, size, modification time of the
//! program, and of the `.emscripten` config and `emscripten-version.txt`
//! beside it), every `EM*`
//! environment variable (`EMCC_CFLAGS`, `EM_CONFIG`, …), and this program
//! (its version, and the same stamp of its file: another build of pyrewrite
//! learns afresh). A new emcc or another setting is another key, so it is asked
//! again.

use pyrewrite_rules::fast_path::{entry_name, Shape, Template};
use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

pub struct Cache {
    dir: PathBuf,
}

/// What the cache knows of a key.
pub enum Entry {
    Template(Template),
    /// The shape failed to prove once: emcc runs it, for this reason.
    Emcc(String),
    None,
}

/// Suffix of an entry that sends a shape to emcc for good.
const EMCC_SUFFIX: &str = ".emcc";

impl Cache {
    pub fn new(dir: OsString) -> Cache {
        Cache { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn key(&self, emcc: &[u8], shape: &Shape<'_>) -> Vec<u8> {
        let mut key = format!("pyrewrite-cc {}\n", env!("CARGO_PKG_VERSION")).into_bytes();
        let program = std::fs::canonicalize(Path::new(std::ffi::OsStr::from_bytes(emcc)))
            .unwrap_or_else(|_| PathBuf::from(std::ffi::OsStr::from_bytes(emcc)));
        let config = program.with_file_name(".emscripten");
        let version = program.with_file_name("emscripten-version.txt");
        // This program itself: another build of pyrewrite (other rules for
        // shapes and templates) learns afresh.
        let me = std::env::current_exe().unwrap_or_default();
        for file in [&program, &config, &version, &me] {
            let stamp = std::fs::metadata(file)
                .map(|m| format!("{} {} {}.{}", m.ino(), m.len(), m.mtime(), m.mtime_nsec()))
                .unwrap_or_else(|_| "absent".into());
            key.extend_from_slice(format!("{} {stamp}\n", file.display()).as_bytes());
        }
        let mut em: Vec<(OsString, OsString)> = std::env::vars_os()
            .filter(|(k, _)| k.as_bytes().starts_with(b"EM"))
            .collect();
        em.sort();
        for (k, v) in em {
            key.extend_from_slice(k.as_bytes());
            key.push(b'=');
            key.extend_from_slice(v.as_bytes());
            key.push(0);
        }
        key.push(b'\n');
        key.extend_from_slice(&shape.key);
        key
    }

    fn path(&self, key: &[u8], suffix: &str) -> PathBuf {
        let mut name = entry_name(key);
        name.push_str(suffix);
        self.dir.join(name)
    }

    pub fn lookup(&self, key: &[u8]) -> Entry {
        if let Some(t) = std::fs::read(self.path(key, ""))
            .ok()
            .and_then(|entry| Template::decode(&entry, key))
        {
            return Entry::Template(t);
        }
        let no = std::fs::read(self.path(key, EMCC_SUFFIX)).unwrap_or_default();
        match no.strip_prefix(key).and_then(|r| r.strip_prefix(b"\n")) {
            Some(why) => Entry::Emcc(String::from_utf8_lossy(why).into_owned()),
            None => Entry::None,
        }
    }

    pub fn store(&self, key: &[u8], t: &Template) {
        self.write(&self.path(key, ""), &t.encode(key));
    }

    pub fn store_emcc(&self, key: &[u8], why: &str) {
        let mut entry = key.to_vec();
        entry.push(b'\n');
        entry.extend_from_slice(why.as_bytes());
        self.write(&self.path(key, EMCC_SUFFIX), &entry);
    }

    /// Written to a temporary name and renamed: parallel compiles of one
    /// shape never read half an entry. A cache that cannot be written only
    /// costs speed (the next compile asks emcc again).
    fn write(&self, path: &Path, bytes: &[u8]) {
        if std::fs::create_dir_all(&self.dir).is_err() {
            return;
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, bytes).is_ok() && std::fs::rename(&tmp, path).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// One line (`WHAT DETAIL`) appended to the driver's log; lines from
/// parallel compiles stay whole (one `write` in append mode).
pub fn append_line(log: &Path, what: &str, detail: &str) {
    let mut line = Vec::from(what.as_bytes());
    if !detail.is_empty() {
        line.push(b' ');
        line.extend(detail.bytes().map(|b| if b == b'\n' { b' ' } else { b }));
    }
    line.push(b'\n');
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(log)
    {
        let _ = f.write_all(&line);
    }
}
