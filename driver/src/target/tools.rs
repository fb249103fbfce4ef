//! Finds the Emscripten programs a target profile names, as absolute paths:
//! rewritten commands run under a build's own `PATH`, which may not hold them.

use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

/// Absolute paths of emcc and its siblings.
#[derive(Debug, PartialEq, Eq)]
pub struct Tools {
    pub emcc: PathBuf,
    pub emxx: PathBuf,
    pub emar: PathBuf,
    pub emranlib: PathBuf,
}

/// `explicit` (`--emcc`) if given, else `emcc` on `PATH`, else
/// `$EMSDK/upstream/emscripten/emcc`. The other tools are its siblings.
///
/// Paths are made absolute but not canonicalized: Debian's `/usr/bin/emcc`
/// is a symlink to a wrapper that dispatches on the name it was called by.
pub fn resolve(
    explicit: Option<&Path>,
    path_var: Option<&str>,
    emsdk: Option<&str>,
) -> Result<Tools> {
    let emcc = match explicit {
        Some(p) => {
            let p = std::path::absolute(p)?;
            if !p.is_file() {
                bail!("--emcc {}: no such file", p.display());
            }
            p
        }
        None => find_emcc(path_var, emsdk).ok_or_else(|| {
            anyhow::anyhow!(
                "emcc not found on PATH nor under $EMSDK/upstream/emscripten; install it \
                 (apt-get install emscripten, or activate an emsdk) or pass --emcc PATH"
            )
        })?,
    };
    let dir = emcc.parent().unwrap_or(Path::new("/")).to_path_buf();
    let sibling = |name: &str| -> Result<PathBuf> {
        let p = dir.join(name);
        if p.is_file() {
            Ok(p)
        } else {
            bail!(
                "{}: missing, expected next to {}; is this a complete Emscripten install?",
                p.display(),
                emcc.display()
            )
        }
    };
    Ok(Tools {
        emxx: sibling("em++")?,
        emar: sibling("emar")?,
        emranlib: sibling("emranlib")?,
        emcc,
    })
}

fn find_emcc(path_var: Option<&str>, emsdk: Option<&str>) -> Option<PathBuf> {
    find("emcc", path_var, emsdk)
}

/// `name` looked up as the preload looks up rewritten programs
/// (`pyrewrite_rules::resolve_program`: PATH, then `$EMSDK`), files only.
pub fn find(name: &str, path_var: Option<&str>, emsdk: Option<&str>) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let is_file = |p: &[u8]| Path::new(std::ffi::OsStr::from_bytes(p)).is_file();
    let found = pyrewrite_rules::resolve_program(
        name.as_bytes(),
        path_var.map(str::as_bytes),
        emsdk.map(str::as_bytes),
        &is_file,
    )?;
    std::path::absolute(std::ffi::OsStr::from_bytes(&found)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_emsdk(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("pyrewrite-tools-{name}-{}", std::process::id()));
        let bin = dir.join("upstream/emscripten");
        std::fs::create_dir_all(&bin).unwrap();
        for t in ["emcc", "em++", "emar", "emranlib"] {
            std::fs::write(bin.join(t), "").unwrap();
        }
        dir
    }

    #[test]
    fn path_first_then_emsdk() {
        let emsdk = fake_emsdk("order");
        let bin = emsdk.join("upstream/emscripten");
        let t = resolve(None, Some("/nonexistent"), emsdk.to_str()).unwrap();
        assert_eq!(t.emcc, bin.join("emcc"));
        assert_eq!(t.emranlib, bin.join("emranlib"));
        let on_path = format!("{}:/usr/bin", bin.display());
        assert_eq!(
            resolve(None, Some(&on_path), None).unwrap().emxx,
            bin.join("em++")
        );
        std::fs::remove_dir_all(&emsdk).unwrap();
    }

    #[test]
    fn missing_emcc_says_what_to_do() {
        let err = resolve(None, Some("/nonexistent"), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--emcc"), "{err}");
    }
}
