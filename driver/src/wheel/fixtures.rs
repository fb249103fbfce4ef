//! Test fixtures: hand-built wheels and real shared objects (wasm side
//! module, relocatable wasm object, native ELF) made by the real compilers.
//!
//! Self-contained (only external crates) so that `driver/tests/` can include
//! it with `#[path]`. RECORD hashes are computed here independently of
//! `wheel::record`, so tests do not check the code against itself.

#![allow(dead_code)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub type Members = Vec<(String, Vec<u8>)>;

pub const HOST_SUFFIX: &str = ".cpython-311-x86_64-linux-gnu.so";
pub const TARGET_SUFFIX: &str = ".cpython-311-wasm32-emscripten.so";

const SOURCE: &str = "int add(int a, int b) { return a + b; }\n";

/// A wasm side module built by the real emcc, as pyrewrite's rewritten link does.
pub fn side_module() -> Vec<u8> {
    static CELL: OnceLock<Vec<u8>> = OnceLock::new();
    CELL.get_or_init(|| {
        build(&[
            &["emcc", "-fPIC", "-O2", "-c", "m.c", "-o", "m.o"],
            &[
                "emcc",
                "-shared",
                "-sSIDE_MODULE=1",
                "-sWASM_BIGINT",
                "m.o",
                "-o",
                "m.so",
            ],
        ])
    })
    .clone()
}

/// What `emcc -shared` makes without -sSIDE_MODULE=1: a relocatable object.
pub fn relocatable_object() -> Vec<u8> {
    static CELL: OnceLock<Vec<u8>> = OnceLock::new();
    CELL.get_or_init(|| {
        build(&[
            &["emcc", "-fPIC", "-O2", "-c", "m.c", "-o", "m.o"],
            &["emcc", "-shared", "m.o", "-o", "m.so"],
        ])
    })
    .clone()
}

/// A native x86_64 shared object, what an unrewritten link makes.
pub fn elf_shared_object() -> Vec<u8> {
    static CELL: OnceLock<Vec<u8>> = OnceLock::new();
    CELL.get_or_init(|| build(&[&["gcc", "-shared", "-fPIC", "m.c", "-o", "m.so"]]))
        .clone()
}

/// Runs `steps` in a scratch dir holding `m.c`; returns `m.so`.
fn build(steps: &[&[&str]]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.c"), SOURCE).unwrap();
    for step in steps {
        let out = Command::new(step[0])
            .args(&step[1..])
            .current_dir(dir.path())
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {} ({e}): the wheel tests need emcc and gcc",
                    step[0]
                )
            });
        assert!(
            out.status.success(),
            "{step:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::read(dir.path().join("m.so")).unwrap()
}

pub fn sha256_b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(data))
}

/// A typical wheel's members: a package with `__init__.py`, one shared
/// object named `so_name`, dist-info METADATA and WHEEL (with `tags`).
/// No RECORD: add it with [`with_record`].
pub fn members(dist: &str, tags: &[&str], so: Option<(&str, Vec<u8>)>) -> Members {
    let mut m: Members = vec![
        ("demo/".into(), vec![]),
        (
            "demo/__init__.py".into(),
            b"from ._fast import add\n".to_vec(),
        ),
    ];
    if let Some((name, bytes)) = so {
        m.push((name.into(), bytes));
    }
    m.push((
        format!("{dist}/METADATA"),
        b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n".to_vec(),
    ));
    let mut wheel =
        String::from("Wheel-Version: 1.0\nGenerator: hand (1.0)\nRoot-Is-Purelib: true\n");
    for t in tags {
        wheel.push_str(&format!("Tag: {t}\n"));
    }
    wheel.push('\n');
    m.push((format!("{dist}/WHEEL"), wheel.into_bytes()));
    m
}

/// `members` plus a correct `{dist}/RECORD` at the end.
pub fn with_record(dist: &str, mut members: Members) -> Members {
    let mut record = String::new();
    for (name, data) in members.iter().filter(|(n, _)| !n.ends_with('/')) {
        record.push_str(&format!(
            "{name},sha256={},{}\n",
            sha256_b64(data),
            data.len()
        ));
    }
    record.push_str(&format!("{dist}/RECORD,,\n"));
    members.push((format!("{dist}/RECORD"), record.into_bytes()));
    members
}

/// Writes `members` as a zip, in order, deflated, with a fixed timestamp and
/// mode 0644 (directories 0755); duplicates are written as given.
pub fn write_zip(path: &Path, members: &[(String, Vec<u8>)]) -> PathBuf {
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let time = zip::DateTime::from_date_and_time(2024, 5, 17, 12, 30, 0).unwrap();
    for (name, data) in members {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(time);
        if name.ends_with('/') {
            zip.add_directory(name.trim_end_matches('/'), opts.unix_permissions(0o755))
                .unwrap();
        } else {
            zip.start_file(name.as_str(), opts.unix_permissions(0o644))
                .unwrap();
            zip.write_all(data).unwrap();
        }
    }
    zip.finish().unwrap();
    path.to_path_buf()
}

/// Reads a zip back as (name, contents), in order.
pub fn read_zip(path: &Path) -> Members {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            let mut data = vec![];
            std::io::Read::read_to_end(&mut f, &mut data).unwrap();
            (f.name().unwrap().to_string(), data)
        })
        .collect()
}

pub const DIST: &str = "demo-1.0.dist-info";

/// The standard good input: `demo-1.0-cp311-cp311-linux_x86_64.whl` with a
/// real side module named with the host suffix.
pub fn native_tagged_wheel(dir: &Path, so: Vec<u8>) -> PathBuf {
    let m = with_record(
        DIST,
        members(
            DIST,
            &["cp311-cp311-linux_x86_64"],
            Some((&format!("demo/_fast{HOST_SUFFIX}"), so)),
        ),
    );
    write_zip(&dir.join("demo-1.0-cp311-cp311-linux_x86_64.whl"), &m)
}

/// Replaces every occurrence of member name `from` with `to` (same length)
/// in a written zip: local headers and central directory alike, CRCs stay
/// valid. Makes names the zip writer would refuse (duplicates, `..`, `/abs`).
pub fn patch_name(path: &Path, from: &str, to: &str) {
    patch_name_bytes(path, from, to.as_bytes());
}

/// [`patch_name`] with any bytes (names that are not UTF-8).
pub fn patch_name_bytes(path: &Path, from: &str, to: &[u8]) {
    assert_eq!(
        from.len(),
        to.len(),
        "patch_name needs names of equal length"
    );
    let mut bytes = std::fs::read(path).unwrap();
    let mut hits = 0;
    let mut i = 0;
    while i + from.len() <= bytes.len() {
        if &bytes[i..i + from.len()] == from.as_bytes() {
            bytes[i..i + from.len()].copy_from_slice(to);
            hits += 1;
            i += from.len();
        } else {
            i += 1;
        }
    }
    assert!(hits >= 2, "{from} found {hits} times in {}", path.display());
    std::fs::write(path, bytes).unwrap();
}

/// Makes member `name` declare `size` as its uncompressed size, in its local
/// header and in the central directory (a wheel that lies about how much a
/// member inflates to).
pub fn patch_declared_size(path: &Path, name: &str, size: u32) {
    let mut bytes = std::fs::read(path).unwrap();
    let mut patched = 0;
    for at in 0..bytes.len().saturating_sub(name.len()) {
        if &bytes[at..at + name.len()] != name.as_bytes() {
            continue;
        }
        // Local header: name at +30, size at +22; central: +46 and +24.
        for (name_at, size_at, magic) in [(30, 22, b"PK\x03\x04"), (46, 24, b"PK\x01\x02")] {
            if at >= name_at && &bytes[at - name_at..at - name_at + 4] == magic {
                let o = at - name_at + size_at;
                bytes[o..o + 4].copy_from_slice(&size.to_le_bytes());
                patched += 1;
            }
        }
    }
    assert_eq!(patched, 2, "{name} headers found: {patched}");
    std::fs::write(path, bytes).unwrap();
}

/// A wheel of the standard layout holding `extra` as one more member (with
/// a correct RECORD): a wheel whose only fault is that member.
pub fn wheel_with_member(dir: &Path, name: &str, data: Vec<u8>) -> PathBuf {
    let mut m = members(
        DIST,
        &["cp311-cp311-linux_x86_64"],
        Some((&format!("demo/_fast{HOST_SUFFIX}"), side_module())),
    );
    m.insert(2, (name.into(), data));
    write_zip(
        &dir.join("demo-1.0-cp311-cp311-linux_x86_64.whl"),
        &with_record(DIST, m),
    )
}

/// The sorted file names in `dir`.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
