//! Where the target profile is, and how its bytes become a [`Target`]: the
//! one loader of the preload and of every driver command (`run`, `trace`,
//! `explain`, `retag`, `verify`, `check`), so all of them find the same file
//! and say the same thing when it is missing or broken.
//!
//! Lookup order ([`locate`]):
//!
//! 1. the command's own flag (`--target FILE`; the preload has none);
//! 2. `$PYREWRITE_TARGET` (an empty value counts as unset);
//! 3. the user's default profile, [`default_path`]:
//!    `$XDG_CONFIG_HOME/pyrewrite/target.json`, else
//!    `$HOME/.config/pyrewrite/target.json` (relative values do not count,
//!    as the XDG spec says), which `pyrewrite target from-pyodide DIR`
//!    writes when given no `-o`.
//!
//! `$PYREWRITE_FAST_PATH` (`off`, `on`, `verify`), when set, overrides the
//! profile's `fast_path`; any other value is an error like a broken profile.
//!
//! There is no built-in profile: without a file every compiler call is
//! refused with a [`ProfileError`] that names the file it looked for and
//! the command that makes one. Pure: the caller passes the environment's
//! values and the file's contents (or why they could not be read), so the
//! `no_std` preload and the driver share this code and keep their own I/O.

use crate::fast_path::Mode;
use crate::prelude::*;
use crate::target::Target;
use core::fmt;
use pyrewrite_protocol::env;

/// Where the default profile lives under the config directory.
pub const DEFAULT_SUBPATH: &str = "pyrewrite/target.json";

/// Placeholder for the Pyodide directory in the commands the messages suggest.
const DIR_HINT: &str = "PYODIDE_DIR";

/// What the suggested commands mean by `PYODIDE_DIR`.
const DIR_EXPLAINED: &str = "PYODIDE_DIR is the Pyodide npm package the wheels will be \
     loaded into, e.g. node_modules/pyodide after `npm install pyodide@0.23.4`";

/// How the profile's path was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A command-line option, e.g. `--target` (its name).
    Flag(&'static str),
    /// `$PYREWRITE_TARGET`.
    Env,
    /// The user's default profile ([`default_path`]).
    Default,
}

/// The values of the environment variables the lookup depends on
/// (`None`: unset).
#[derive(Debug, Clone, Copy, Default)]
pub struct Env<'a> {
    /// `$PYREWRITE_TARGET`.
    pub target: Option<&'a [u8]>,
    /// `$XDG_CONFIG_HOME`.
    pub xdg_config_home: Option<&'a [u8]>,
    /// `$HOME`.
    pub home: Option<&'a [u8]>,
    /// `$PYREWRITE_FAST_PATH` (`off`, `on`, `verify`; empty counts as unset).
    pub fast_path: Option<&'a [u8]>,
}

/// The profile file to read and why that one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// As given (a relative flag or variable value stays relative).
    pub path: Vec<u8>,
    pub source: Source,
    /// `$PYREWRITE_FAST_PATH`, which overrides the profile's `fast_path`.
    pub fast_path: Option<Vec<u8>>,
}

/// Why the profile file could not be read (the caller's I/O result).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// ENOENT: there is no such file.
    NotFound,
    /// Anything else, described (e.g. "Permission denied (os error 13)").
    Other(String),
}

/// What went wrong, for callers that branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No flag, no `$PYREWRITE_TARGET`, and neither `$XDG_CONFIG_HOME` nor
    /// `$HOME` to find the default profile under.
    NoLocation,
    /// The chosen file does not exist.
    Missing,
    /// It exists but cannot be read (permissions, a directory, not UTF-8).
    Unreadable,
    /// It is not a valid profile.
    Invalid,
}

/// A profile that cannot be used. The message names the file, the reason
/// and the next step; it has no `pyrewrite:` prefix (each caller adds its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileError {
    pub kind: ErrorKind,
    /// The file concerned (`None` only for [`ErrorKind::NoLocation`]).
    pub path: Option<Vec<u8>>,
    pub source: Option<Source>,
    pub message: String,
}

impl ProfileError {
    /// Whether the profile simply does not exist (no location, or the
    /// default file is missing): commands for which a profile is optional
    /// go on without one. A file named by a flag or `$PYREWRITE_TARGET` that
    /// is missing is a mistake, not an absence.
    pub fn is_absent(&self) -> bool {
        match self.kind {
            ErrorKind::NoLocation => true,
            ErrorKind::Missing => self.source == Some(Source::Default),
            ErrorKind::Unreadable | ErrorKind::Invalid => false,
        }
    }
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl core::error::Error for ProfileError {}

/// A value that counts: set and non-empty.
fn set(v: Option<&[u8]>) -> Option<&[u8]> {
    v.filter(|v| !v.is_empty())
}

/// An absolute directory value (the XDG spec ignores relative ones).
fn absolute_dir(v: Option<&[u8]>) -> Option<&[u8]> {
    v.filter(|v| v.starts_with(b"/"))
}

/// The user's default profile: `$XDG_CONFIG_HOME/pyrewrite/target.json`,
/// else `$HOME/.config/pyrewrite/target.json`; `None` when neither variable
/// holds an absolute path.
pub fn default_path(xdg_config_home: Option<&[u8]>, home: Option<&[u8]>) -> Option<Vec<u8>> {
    let join = |dir: &[u8], sub: &str| {
        let mut p = dir.to_vec();
        while p.len() > 1 && p.ends_with(b"/") {
            p.pop();
        }
        if !p.ends_with(b"/") {
            p.push(b'/');
        }
        p.extend_from_slice(sub.as_bytes());
        p
    };
    if let Some(config) = absolute_dir(xdg_config_home) {
        Some(join(config, DEFAULT_SUBPATH))
    } else {
        absolute_dir(home).map(|home| join(home, &format!(".config/{DEFAULT_SUBPATH}")))
    }
}

/// Which file to read: `explicit` (a flag, named `flag`), else
/// `$PYREWRITE_TARGET`, else the default profile.
pub fn locate(
    explicit: Option<&[u8]>,
    flag: &'static str,
    env: &Env<'_>,
) -> Result<Location, ProfileError> {
    if let Some(p) = set(explicit) {
        return Ok(Location {
            path: p.to_vec(),
            source: Source::Flag(flag),
            fast_path: set(env.fast_path).map(<[u8]>::to_vec),
        });
    }
    if let Some(p) = set(env.target) {
        return Ok(Location {
            path: p.to_vec(),
            source: Source::Env,
            fast_path: set(env.fast_path).map(<[u8]>::to_vec),
        });
    }
    match default_path(env.xdg_config_home, env.home) {
        Some(path) => Ok(Location {
            path,
            source: Source::Default,
            fast_path: set(env.fast_path).map(<[u8]>::to_vec),
        }),
        None => Err(ProfileError {
            kind: ErrorKind::NoLocation,
            path: None,
            source: None,
            message: format!(
                "no target profile: {} is not set, and neither XDG_CONFIG_HOME nor HOME is \
                 (absolute), so there is no default profile; make one with `pyrewrite target \
                 from-pyodide {DIR_HINT} -o FILE` and set {}=FILE ({DIR_EXPLAINED})",
                env::TARGET,
                env::TARGET
            ),
        }),
    }
}

impl Location {
    /// The path for messages (lossy UTF-8).
    pub fn shown(&self) -> String {
        String::from_utf8_lossy(&self.path).into_owned()
    }

    /// Where the path came from, for messages: `(from --target)`,
    /// `(from PYREWRITE_TARGET)`, `(the default profile: ...)`.
    fn origin(&self) -> String {
        match self.source {
            Source::Flag(flag) => format!("(from {flag})"),
            Source::Env => format!("(from {})", env::TARGET),
            Source::Default => format!(
                "(the default profile; neither --target nor {} names another)",
                env::TARGET
            ),
        }
    }

    /// The command that (re)creates this file.
    fn make_command(&self) -> String {
        match self.source {
            // Without -o, from-pyodide writes exactly this file.
            Source::Default => format!("pyrewrite target from-pyodide {DIR_HINT}"),
            _ => format!(
                "pyrewrite target from-pyodide {DIR_HINT} -o {}",
                shell_word(&self.shown())
            ),
        }
    }

    fn error(&self, kind: ErrorKind, message: String) -> ProfileError {
        ProfileError {
            kind,
            path: Some(self.path.clone()),
            source: Some(self.source),
            message,
        }
    }

    /// The profile, from the result of reading [`Location::path`].
    pub fn load(&self, contents: Result<Vec<u8>, ReadError>) -> Result<Target, ProfileError> {
        let (shown, origin, make) = (self.shown(), self.origin(), self.make_command());
        let bytes = match contents {
            Ok(bytes) => bytes,
            Err(ReadError::NotFound) => {
                let other = match self.source {
                    Source::Default => String::new(),
                    Source::Flag(flag) => format!(", or pass another file to {flag}"),
                    Source::Env => format!(", or fix or unset {}", env::TARGET),
                };
                return Err(self.error(
                    ErrorKind::Missing,
                    format!(
                        "no target profile: {shown} does not exist {origin}; make it with \
                         `{make}`{other} ({DIR_EXPLAINED})"
                    ),
                ));
            }
            Err(ReadError::Other(reason)) => {
                return Err(self.error(
                    ErrorKind::Unreadable,
                    format!(
                        "cannot read target profile {shown} {origin}: {reason}; fix its path or \
                         permissions, or regenerate it with `{make}`"
                    ),
                ))
            }
        };
        let text = String::from_utf8(bytes).map_err(|_| {
            self.error(
                ErrorKind::Unreadable,
                format!(
                    "cannot read target profile {shown} {origin}: not UTF-8 text; regenerate it \
                     with `{make}`"
                ),
            )
        })?;
        let mut target = Target::from_json(&text).map_err(|e| {
            self.error(
                ErrorKind::Invalid,
                format!(
                    "target profile {shown} {origin} is not valid: {e}; fix it or regenerate it \
                     with `{make}`"
                ),
            )
        })?;
        if let Some(word) = &self.fast_path {
            target.fast_path = Mode::parse(word).ok_or_else(|| {
                self.error(
                    ErrorKind::Invalid,
                    format!(
                        "{}={} is not a fast path mode; use off, on or verify, or unset it",
                        env::FAST_PATH,
                        String::from_utf8_lossy(word)
                    ),
                )
            })?;
        }
        Ok(target)
    }
}

/// A path as one shell word (quoted when needed), for suggested commands.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_=/.,:+@%^".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(target: Option<&'a str>, xdg: Option<&'a str>, home: Option<&'a str>) -> Env<'a> {
        Env {
            target: target.map(str::as_bytes),
            xdg_config_home: xdg.map(str::as_bytes),
            home: home.map(str::as_bytes),
            fast_path: None,
        }
    }

    #[test]
    fn pyrewrite_fast_path_overrides_the_profile_or_is_refused() {
        let mut e = env(Some("/p.json"), None, None);
        let json = || Ok(br#"{"fast_path": "off"}"#.to_vec());
        let l = locate(None, "--target", &e).unwrap();
        assert_eq!(l.load(json()).unwrap().fast_path, Mode::Off);
        e.fast_path = Some(b"verify");
        let l = locate(None, "--target", &e).unwrap();
        assert_eq!(l.load(json()).unwrap().fast_path, Mode::Verify);
        e.fast_path = Some(b"");
        let l = locate(None, "--target", &e).unwrap();
        assert_eq!(l.load(json()).unwrap().fast_path, Mode::Off);
        e.fast_path = Some(b"fast");
        let err = locate(None, "--target", &e)
            .unwrap()
            .load(json())
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Invalid);
        assert!(
            err.to_string()
                .contains("PYREWRITE_FAST_PATH=fast is not a fast path mode"),
            "{err}"
        );
    }

    fn path_of(r: Result<Location, ProfileError>) -> (String, Source) {
        let l = r.unwrap();
        (l.shown(), l.source)
    }

    #[test]
    fn flag_then_variable_then_xdg_then_home() {
        let full = env(Some("/e/t.json"), Some("/xdg"), Some("/home/u"));
        assert_eq!(
            path_of(locate(Some(b"f.json"), "--target", &full)),
            ("f.json".into(), Source::Flag("--target"))
        );
        assert_eq!(
            path_of(locate(None, "--target", &full)),
            ("/e/t.json".into(), Source::Env)
        );
        let no_var = env(Some(""), Some("/xdg/"), Some("/home/u"));
        assert_eq!(
            path_of(locate(Some(b""), "--target", &no_var)),
            ("/xdg/pyrewrite/target.json".into(), Source::Default)
        );
        let home_only = env(None, Some("relative/cfg"), Some("/home/u/"));
        assert_eq!(
            path_of(locate(None, "--target", &home_only)),
            (
                "/home/u/.config/pyrewrite/target.json".into(),
                Source::Default
            )
        );
        assert_eq!(
            default_path(None, Some(b"/")).as_deref(),
            Some(&b"/.config/pyrewrite/target.json"[..])
        );
    }

    #[test]
    fn nowhere_to_look_names_the_variable_and_the_command() {
        let e = locate(None, "--target", &env(None, None, Some("rel"))).unwrap_err();
        assert_eq!(e.kind, ErrorKind::NoLocation);
        assert!(e.is_absent());
        assert!(e.message.contains("PYREWRITE_TARGET"), "{e}");
        assert!(e.message.contains("pyrewrite target from-pyodide"), "{e}");
    }

    #[test]
    fn missing_default_says_which_file_and_the_exact_command() {
        let loc = locate(None, "--target", &env(None, Some("/cfg"), None)).unwrap();
        let e = loc.load(Err(ReadError::NotFound)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Missing);
        assert!(e.is_absent());
        let m = e.to_string();
        assert!(
            m.starts_with("no target profile: /cfg/pyrewrite/target.json does not exist"),
            "{m}"
        );
        assert!(
            m.contains("make it with `pyrewrite target from-pyodide PYODIDE_DIR`"),
            "{m}"
        );
        assert!(m.contains("npm install pyodide@0.23.4"), "{m}");
    }

    #[test]
    fn missing_named_file_is_a_mistake_with_its_own_command() {
        let loc = locate(None, "--target", &env(Some("my profile.json"), None, None)).unwrap();
        let e = loc.load(Err(ReadError::NotFound)).unwrap_err();
        assert!(!e.is_absent());
        let m = e.to_string();
        assert!(m.contains("(from PYREWRITE_TARGET)"), "{m}");
        assert!(
            m.contains("`pyrewrite target from-pyodide PYODIDE_DIR -o 'my profile.json'`"),
            "{m}"
        );
        let loc = locate(Some(b"t.json"), "--against", &Env::default()).unwrap();
        let m = loc.load(Err(ReadError::NotFound)).unwrap_err().to_string();
        assert!(m.contains("(from --against)"), "{m}");
        assert!(m.contains("pass another file to --against"), "{m}");
    }

    #[test]
    fn unreadable_and_invalid_name_file_reason_and_next_step() {
        let loc = locate(Some(b"/p/t.json"), "--target", &Env::default()).unwrap();
        let e = loc
            .load(Err(ReadError::Other(
                "Permission denied (os error 13)".into(),
            )))
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Unreadable);
        assert!(e.message.contains("/p/t.json"), "{e}");
        assert!(e.message.contains("Permission denied"), "{e}");
        let e = loc.load(Ok(b"{\"cflag\": []}".to_vec())).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert!(!e.is_absent());
        assert!(e.message.contains("unknown field `cflag`"), "{e}");
        assert!(e.message.contains("-o /p/t.json"), "{e}");
        let e = loc.load(Ok(vec![0xff, 0xfe])).unwrap_err();
        assert!(e.message.contains("not UTF-8"), "{e}");
        let t = loc.load(Ok(b"{\"emcc\": \"/e/emcc\"}".to_vec())).unwrap();
        assert_eq!(t.emcc, "/e/emcc");
    }
}
