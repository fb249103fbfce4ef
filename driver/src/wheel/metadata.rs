//! The `.dist-info/WHEEL` file: its `Tag:` lines and `Root-Is-Purelib`.

use anyhow::{bail, Result};

/// Rewrites WHEEL text for `platform`: every `Tag: py-abi-plat` gets the new
/// platform (duplicates that creates are dropped, first one kept),
/// `Root-Is-Purelib` becomes `false` (added if missing), every other line and
/// the line endings stay as they were. `fallback_tags` (from the new file
/// name) are added when the file has no `Tag:` line at all.
pub fn retag_wheel_file(text: &str, platform: &str, fallback_tags: &[String]) -> Result<String> {
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut out: Vec<String> = vec![];
    let mut seen_tags: Vec<String> = vec![];
    let mut saw_purelib = false;
    for line in text.lines() {
        let (key, value) = match line.split_once(':') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => ("", ""),
        };
        if key.eq_ignore_ascii_case("Tag") {
            let parts: Vec<&str> = value.split('-').collect();
            let [py, abi, _plat] = parts.as_slice() else {
                bail!("WHEEL line {line:?} is not `Tag: PYTHON-ABI-PLATFORM`");
            };
            let tag = format!("{py}-{abi}-{platform}");
            if !seen_tags.contains(&tag) {
                out.push(format!("Tag: {tag}"));
                seen_tags.push(tag);
            }
        } else if key.eq_ignore_ascii_case("Root-Is-Purelib") {
            saw_purelib = true;
            out.push("Root-Is-Purelib: false".into());
        } else {
            out.push(line.to_string());
        }
    }
    // Headers end at the first blank line; additions go before it.
    let end = out.iter().position(|l| l.is_empty()).unwrap_or(out.len());
    let mut additions = vec![];
    if !saw_purelib {
        additions.push("Root-Is-Purelib: false".to_string());
    }
    if seen_tags.is_empty() {
        additions.extend(fallback_tags.iter().map(|t| format!("Tag: {t}")));
    }
    out.splice(end..end, additions);
    let mut s = out.join(newline);
    if text.ends_with('\n') || text.is_empty() {
        s.push_str(newline);
    }
    Ok(s)
}

/// Every `py-abi-plat` tag a wheel name's (possibly compressed) fields expand to.
pub fn expand_tags(python: &str, abi: &str, platform: &str) -> Vec<String> {
    let mut tags = vec![];
    for py in python.split('.') {
        for a in abi.split('.') {
            for p in platform.split('.') {
                tags.push(format!("{py}-{a}-{p}"));
            }
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_purelib_change_everything_else_stays() {
        let input = "Wheel-Version: 1.0\nGenerator: setuptools (69.0)\nRoot-Is-Purelib: true\n\
                     Tag: cp311-cp311-manylinux_2_17_x86_64\nTag: cp311-cp311-manylinux2014_x86_64\n\n";
        let out = retag_wheel_file(input, "emscripten_3_1_32_wasm32", &[]).unwrap();
        assert_eq!(
            out,
            "Wheel-Version: 1.0\nGenerator: setuptools (69.0)\nRoot-Is-Purelib: false\n\
             Tag: cp311-cp311-emscripten_3_1_32_wasm32\n\n"
        );
    }

    #[test]
    fn crlf_kept_and_missing_lines_added() {
        let out = retag_wheel_file(
            "Wheel-Version: 1.0\r\n",
            "p_wasm32",
            &["cp38-abi3-p_wasm32".into()],
        )
        .unwrap();
        assert_eq!(
            out,
            "Wheel-Version: 1.0\r\nRoot-Is-Purelib: false\r\nTag: cp38-abi3-p_wasm32\r\n"
        );
    }

    #[test]
    fn malformed_tag_is_an_error() {
        assert!(retag_wheel_file("Tag: cp311\n", "x", &[]).is_err());
    }

    #[test]
    fn expands_compressed_sets() {
        assert_eq!(expand_tags("py2.py3", "none", "a.b").len(), 4);
    }
}
