//! RECORD: check the input's against its contents, and write a new one.
//!
//! Format (wheel spec / PEP 376): CSV rows `path,hash,size`, hash as
//! `ALGO=urlsafe-base64-without-padding`, the RECORD's own row `path,,`.

use anyhow::{bail, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256, Sha384, Sha512};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRow {
    pub path: String,
    pub hash: String,
    pub size: String,
}

/// `sha256=<urlsafe b64, no padding>` of `data`.
pub fn sha256_entry(data: &[u8]) -> String {
    format!("sha256={}", URL_SAFE_NO_PAD.encode(Sha256::digest(data)))
}

/// Parses RECORD text. Quoted fields (paths with commas) follow Python's csv.
pub fn parse(text: &str) -> Result<Vec<RecordRow>> {
    let mut rows = Vec::new();
    for (i, line) in csv_lines(text)?.into_iter().enumerate() {
        if line.iter().all(|f| f.is_empty()) {
            continue;
        }
        match <[String; 3]>::try_from(line) {
            Ok([path, hash, size]) => rows.push(RecordRow { path, hash, size }),
            Err(line) => bail!(
                "RECORD row {} has {} fields, expected 3 (path,hash,size)",
                i + 1,
                line.len()
            ),
        }
    }
    Ok(rows)
}

/// Splits CSV text into rows of fields (RFC 4180 quoting, `\n` or `\r\n`).
fn csv_lines(text: &str) -> Result<Vec<Vec<String>>> {
    let mut rows = vec![];
    let mut row = vec![];
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        bail!("RECORD ends inside a quoted field");
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    Ok(rows)
}

/// Files a RECORD does not hash: itself and its signatures.
pub fn is_unhashed(path: &str, record_path: &str) -> bool {
    let dir = record_path.strip_suffix("RECORD").unwrap_or("");
    path == record_path || path == format!("{dir}RECORD.jws") || path == format!("{dir}RECORD.p7s")
}

/// Checks that `rows` describe exactly the files in `files` (name, bytes).
/// Returns warnings for tolerated gaps (a file listed without a hash);
/// errors on any mismatch, naming every offending member.
pub fn check(
    rows: &[RecordRow],
    files: &[(&str, &[u8])],
    record_path: &str,
) -> Result<Vec<String>> {
    let mut problems = vec![];
    let mut warnings = vec![];
    let mut by_path: BTreeMap<&str, &RecordRow> = BTreeMap::new();
    for row in rows {
        if by_path.insert(row.path.as_str(), row).is_some() {
            problems.push(format!("{} is listed twice", row.path));
        }
    }
    let present: BTreeSet<&str> = files.iter().map(|(n, _)| *n).collect();
    for (name, data) in files {
        if is_unhashed(name, record_path) {
            continue;
        }
        let Some(row) = by_path.get(name) else {
            problems.push(format!("member {name} is not listed"));
            continue;
        };
        if row.hash.is_empty() {
            warnings.push(format!(
                "RECORD lists {name} without a hash; it was not verified"
            ));
        } else {
            match hash_with(&row.hash, data) {
                Ok(actual) if actual == row.hash => {}
                Ok(actual) => problems.push(format!(
                    "member {name}: RECORD says {} but the contents hash to {actual}",
                    row.hash
                )),
                Err(e) => problems.push(format!("member {name}: {e}")),
            }
        }
        if !row.size.is_empty() && row.size != data.len().to_string() {
            problems.push(format!(
                "member {name}: RECORD says {} bytes but it has {}",
                row.size,
                data.len()
            ));
        }
    }
    for row in rows {
        if !present.contains(row.path.as_str()) && !is_unhashed(&row.path, record_path) {
            problems.push(format!(
                "RECORD lists {} but the wheel has no such member",
                row.path
            ));
        }
    }
    if !problems.is_empty() {
        bail!(
            "{record_path} does not match the wheel's contents: {}",
            problems.join("; ")
        );
    }
    Ok(warnings)
}

/// Hashes `data` with the algorithm named in `expected` (`sha256=...`).
fn hash_with(expected: &str, data: &[u8]) -> Result<String> {
    let (algo, _) = expected.split_once('=').unwrap_or((expected, ""));
    let digest: Vec<u8> = match algo {
        "sha256" => Sha256::digest(data).to_vec(),
        "sha384" => Sha384::digest(data).to_vec(),
        "sha512" => Sha512::digest(data).to_vec(),
        _ => bail!(
            "RECORD hash {expected:?} uses {algo:?}; only sha256, sha384, sha512 are accepted"
        ),
    };
    Ok(format!("{algo}={}", URL_SAFE_NO_PAD.encode(digest)))
}

/// A new RECORD for `files` in the given order, then the RECORD's own `,,` row.
pub fn write(files: &[(&str, &[u8])], record_path: &str) -> Vec<u8> {
    let mut out = String::new();
    for (name, data) in files {
        out.push_str(&csv_field(name));
        out.push(',');
        out.push_str(&sha256_entry(data));
        out.push(',');
        out.push_str(&data.len().to_string());
        out.push('\n');
    }
    out.push_str(&csv_field(record_path));
    out.push_str(",,\n");
    out.into_bytes()
}

/// Quotes a field the way Python's csv module does (only when needed).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_urlsafe_base64_without_padding() {
        // sha256 of "hello", as Python's wheel writes it.
        assert_eq!(
            sha256_entry(b"hello"),
            "sha256=LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ"
        );
    }

    #[test]
    fn write_then_parse_round_trips_and_check_accepts() {
        let files: Vec<(&str, &[u8])> = vec![("a,b.py", b"x"), ("p/q.py", b"yy")];
        let text = write(&files, "p-1.dist-info/RECORD");
        let text = String::from_utf8(text).unwrap();
        assert!(text.starts_with("\"a,b.py\",sha256="));
        assert!(text.ends_with("p-1.dist-info/RECORD,,\n"));
        let rows = parse(&text).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].path, "a,b.py");
        assert_eq!(rows[1].size, "2");
        let mut with_record = files.clone();
        with_record.push(("p-1.dist-info/RECORD", text.as_bytes()));
        assert!(check(&rows, &with_record, "p-1.dist-info/RECORD")
            .unwrap()
            .is_empty());
    }

    #[test]
    fn check_names_each_mismatch() {
        let rows = parse(
            &String::from_utf8(write(&[("a.py", b"x"), ("gone.py", b"")], "d/RECORD")).unwrap(),
        )
        .unwrap();
        let err = check(&rows, &[("a.py", b"changed"), ("new.py", b"")], "d/RECORD")
            .unwrap_err()
            .to_string();
        assert!(err.contains("member a.py: RECORD says sha256="), "{err}");
        assert!(err.contains("RECORD says 1 bytes but it has 7"), "{err}");
        assert!(err.contains("member new.py is not listed"), "{err}");
        assert!(
            err.contains("RECORD lists gone.py but the wheel has no such member"),
            "{err}"
        );
    }

    #[test]
    fn weak_hashes_and_bad_rows_are_refused() {
        let rows = parse("a.py,md5=abc,1\n").unwrap();
        let err = check(&rows, &[("a.py", b"x")], "d/RECORD").unwrap_err();
        assert!(err.to_string().contains("only sha256"), "{err}");
        assert!(parse("a.py,sha256=x\n").is_err());
        assert!(parse("\"a.py,sha256=x,1\n").is_err());
    }
}
