//! The target profile of every driver command, found and parsed by the one
//! loader in [`pyrewrite_rules::profile`] (the preload uses the same): a
//! command's `--target FILE`, else `$PYREWRITE_TARGET`, else the user's
//! default profile (`$XDG_CONFIG_HOME/pyrewrite/target.json`, else
//! `~/.config/pyrewrite/target.json`). This module only does the I/O.

use anyhow::Result;
use pyrewrite_rules::profile::{self, Location, ProfileError, ReadError, Source};
use pyrewrite_rules::Target;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// A loaded profile and where it came from.
#[derive(Debug, Clone)]
pub struct Profile {
    pub target: Target,
    /// The file, as found (relative if the flag or variable was).
    pub path: PathBuf,
    pub source: Source,
}

impl Profile {
    /// The Pyodide distribution the profile names (`pyodide_dir`, relative
    /// to the profile's directory), if any.
    pub fn pyodide_dir(&self) -> Option<PathBuf> {
        pyodide_dir_of(&self.target, &self.path)
    }

    /// How it was found, for reports: `--target`, `PYREWRITE_TARGET`, `default`.
    pub fn source_name(&self) -> String {
        match self.source {
            Source::Flag(flag) => flag.to_string(),
            Source::Env => pyrewrite_protocol::env::TARGET.to_string(),
            Source::Default => "the default profile".to_string(),
        }
    }
}

/// `target.pyodide_dir` resolved against the directory of `file`.
pub fn pyodide_dir_of(target: &Target, file: &Path) -> Option<PathBuf> {
    let dir = target.pyodide_dir.as_deref()?;
    let base = file.parent().unwrap_or(Path::new("."));
    Some(base.join(dir))
}

fn var(name: &str) -> Option<Vec<u8>> {
    std::env::var_os(name).map(OsString::into_vec)
}

/// The user's default profile path, if `$XDG_CONFIG_HOME` or `$HOME` tells.
pub fn default_path() -> Option<PathBuf> {
    profile::default_path(var("XDG_CONFIG_HOME").as_deref(), var("HOME").as_deref())
        .map(|p| PathBuf::from(OsString::from_vec(p)))
}

/// Which file `--target` (`explicit`), `$PYREWRITE_TARGET` and the default
/// designate.
pub fn locate(explicit: Option<&Path>, flag: &'static str) -> Result<Location, ProfileError> {
    let (target, xdg, home, fast_path) = (
        var(pyrewrite_protocol::env::TARGET),
        var("XDG_CONFIG_HOME"),
        var("HOME"),
        var(pyrewrite_protocol::env::FAST_PATH),
    );
    let env = profile::Env {
        target: target.as_deref(),
        xdg_config_home: xdg.as_deref(),
        home: home.as_deref(),
        fast_path: fast_path.as_deref(),
    };
    profile::locate(explicit.map(|p| p.as_os_str().as_bytes()), flag, &env)
}

/// Reads and parses the file at `location`.
pub fn read(location: &Location) -> Result<Profile, ProfileError> {
    let path = PathBuf::from(OsString::from_vec(location.path.clone()));
    let contents = std::fs::read(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ReadError::NotFound,
        _ => ReadError::Other(e.to_string()),
    });
    let mut target = location.load(contents)?;
    // Where the preload writes meson cross files and CMake toolchains (the
    // same rule as there, so `explain` names the same files).
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    target.generated_dir = pyrewrite_rules::generated_dir(
        var("XDG_CACHE_HOME").as_deref(),
        var("HOME").as_deref(),
        uid,
    );
    // The fast path's runner, as the preload finds it next to the library
    // (which the driver finds next to itself): `explain` shows the same route.
    target.fast_cc = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("pyrewrite-cc")))
        .filter(|p| p.is_file())
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    Ok(Profile {
        target,
        path,
        source: location.source,
    })
}

/// The profile a command needs: an error (naming the file and how to make
/// one) when there is none.
pub fn load(explicit: Option<&Path>) -> Result<Profile, ProfileError> {
    read(&locate(explicit, "--target")?)
}

/// For commands that can do without a profile (`trace`, `check --pyodide`):
/// `None` when there simply is none (no default profile and nothing named);
/// a file named by `--target` or `$PYREWRITE_TARGET` that is missing, or any
/// file that is unreadable or invalid, is still an error.
pub fn load_optional(explicit: Option<&Path>) -> Result<Option<Profile>, ProfileError> {
    match load(explicit) {
        Ok(p) => Ok(Some(p)),
        Err(e) if e.is_absent() => Ok(None),
        Err(e) => Err(e),
    }
}

/// A profile named by some other option (`verify --against FILE`).
pub fn load_file(path: &Path, flag: &'static str) -> Result<Profile, ProfileError> {
    read(&Location {
        path: path.as_os_str().as_bytes().to_vec(),
        source: Source::Flag(flag),
        fast_path: var(pyrewrite_protocol::env::FAST_PATH).filter(|v| !v.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyodide_dir_is_relative_to_the_profile() {
        let t = Target {
            pyodide_dir: Some("../runtime".into()),
            ..Target::default()
        };
        assert_eq!(
            pyodide_dir_of(&t, Path::new("/a/conf/target.json")),
            Some(PathBuf::from("/a/conf/../runtime"))
        );
        assert_eq!(
            pyodide_dir_of(&t, Path::new("target.json")),
            Some(PathBuf::from("../runtime"))
        );
        let abs = Target {
            pyodide_dir: Some("/p".into()),
            ..Target::default()
        };
        assert_eq!(
            pyodide_dir_of(&abs, Path::new("/a/t.json")),
            Some(PathBuf::from("/p"))
        );
        assert_eq!(
            pyodide_dir_of(&Target::default(), Path::new("t.json")),
            None
        );
    }

    #[test]
    fn a_named_file_is_read_and_its_errors_are_the_shared_ones() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("t.json");
        std::fs::write(&good, r#"{"emcc": "/x/emcc"}"#).unwrap();
        let p = load_file(&good, "--against").unwrap();
        assert_eq!(p.target.emcc, "/x/emcc");
        assert!(!p.target.generated_dir.is_empty());
        let missing = dir.path().join("none.json");
        let e = load_file(&missing, "--against").unwrap_err();
        assert!(!e.is_absent());
        assert!(e.message.contains("(from --against);"), "{e}");
        let e = load(Some(&missing)).unwrap_err();
        assert!(e.message.contains("(from --target)"), "{e}");
        assert!(load_optional(Some(&missing)).is_err());
    }
}
