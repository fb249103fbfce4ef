//! The target profile: everything the rules need to know about the wasm32
//! platform a build is retargeted to. Stored as JSON (`target.json`, found and read by
//! [`crate::profile`]); every field is optional and falls back to the default
//! below.
//!
//! | field | default | why |
//! |---|---|---|
//! | `emcc` | `emcc` | program run for C compiles, links, `cpp` and `ld` |
//! | `emxx` (alias `em++`) | `em++` | program run for C++ compiles and links |
//! | `emar` | `emar` | program run instead of `ar` |
//! | `emranlib` | `emranlib` | program run instead of `ranlib` |
//! | `python_version` | `3.11` | target CPython `major.minor`; the wheel retagging reads it |
//! | `python_include` | none | target CPython include dir; replaces the host's in `-I`/`-isystem` (without it the host's is dropped, never used: its `pyconfig.h` describes x86_64) |
//! | `host_python_includes` | `[]` | host include dirs to replace, besides any `…/include/pythonX.Y[abi]` dir, which is always recognised |
//! | `platform_tag` | `emscripten_3_1_32_wasm32` | wheel platform tag (retagging) |
//! | `ext_suffix` | `.cpython-311-wasm32-emscripten.so` | extension file suffix (retagging) |
//! | `cflags` | `-O2 -g0 -fPIC` | appended after the build's own flags on C compiles (Pyodide's defaults; later flags win) |
//! | `cxxflags` | `-O2 -g0 -fPIC -fexceptions` | same for C++ compiles; `-fexceptions` because em++ 3.1.6 defaults to `-fignore-exceptions` and a C++ `throw` then aborts the whole runtime |
//! | `ldflags` | `-O2 -g0` | appended on every link |
//! | `cxx_ldflags` | `-fexceptions` | appended on C++ links (em++, or `-lstdc++`): exception catching must be on at link too |
//! | `pyodide_dir` | none | Pyodide distribution the wheels will be loaded into (npm package dir with `pyodide.asm.wasm`; relative to the profile file); `pyrewrite verify` checks wheels against it |
//! | `node` | `node` | the JavaScript engine that runs the wasm programs a build compiles and runs (meson's `exe_wrapper`, CMake's `CMAKE_CROSSCOMPILING_EMULATOR`) and `pyrewrite check`'s Pyodide |
//! | `fast_path` | `on` | `on`: compiles run emcc's own clang directly, with the arguments emcc gave it for the first compile of the same shape (learned and proven byte-identical on that compile); `verify`: every compile runs both and compares the objects; `off`: always emcc. `$PYREWRITE_FAST_PATH` overrides it (docs/fast-path.md) |
//! | `launcher` | `[]` | program (and arguments) put before each rewritten compile, e.g. `["ccache"]`: with the fast path it launches the plain clang command |
//! | `env` | `{}` | variables set in the environment of every **rewritten** command only (the emcc the preload runs), never in the build's other processes; a name ending in `PATH` is a `:` list: the profile's value comes first, the caller's value is kept after it (see [`Target::env_value`]) |
//!
//! Program names without a `/` are looked up when a rewritten command runs
//! (the preload calls [`resolve_program`]: PATH, then `$EMSDK`).

use crate::prelude::*;
use alloc::collections::BTreeMap;
use core::fmt;
use serde::{Deserialize, Serialize};

/// A wasm32 target profile. See the module table for every field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Target {
    /// Program run for C compiles and links (and `cpp`, `ld`).
    pub emcc: String,
    /// Program run for C++ compiles and links.
    #[serde(alias = "em++")]
    pub emxx: String,
    /// Program run instead of `ar`.
    pub emar: String,
    /// Program run instead of `ranlib`.
    pub emranlib: String,
    /// Target Python version, `major.minor`.
    pub python_version: String,
    /// Include dir of the target CPython (replaces the host's `-I`).
    pub python_include: Option<String>,
    /// Host Python include dirs to replace, in addition to any directory that
    /// looks like `<prefix>/include/pythonX.Y[abiflags]`.
    pub host_python_includes: Vec<String>,
    /// Wheel platform tag, e.g. `emscripten_3_1_32_wasm32`.
    pub platform_tag: String,
    /// Extension module suffix, e.g. `.cpython-311-wasm32-emscripten.so`.
    pub ext_suffix: String,
    /// Appended after the build's own flags on every C compile.
    pub cflags: Vec<String>,
    /// Appended after the build's own flags on every C++ compile.
    pub cxxflags: Vec<String>,
    /// Appended after the build's own flags on every link.
    pub ldflags: Vec<String>,
    /// Appended after `ldflags` on C++ links.
    pub cxx_ldflags: Vec<String>,
    /// Pyodide distribution (npm package dir with `pyodide.asm.wasm`) the wheels
    /// will be loaded into; `pyrewrite verify` checks them against it. Relative
    /// paths are relative to the profile file.
    pub pyodide_dir: Option<String>,
    /// Absolute dir of pkg-config files for the C libraries the runtime itself
    /// carries (Pyodide's main module exports zlib): headers only, no `Libs`,
    /// since the runtime resolves those symbols when it loads a side module.
    /// The generated meson cross file points pkg-config here and nowhere
    /// else. Written by `pyrewrite target from-pyodide` (docs/target.md).
    pub pkg_config_libdir: Option<String>,
    /// Absolute path of an object added to every C++ shared link: the libc++
    /// helpers the profile's emcc declares out of line and the runtime's
    /// newer libc++ no longer exports (weak definitions). Written by
    /// `pyrewrite target from-pyodide` when the runtime lacks them.
    pub cxx_compat_object: Option<String>,
    /// How compiles run: emcc's own clang directly (`on`), both and compared
    /// (`verify`), or always emcc (`off`). See [`crate::fast_path`].
    pub fast_path: crate::fast_path::Mode,
    /// Put before each rewritten compile (a compiler cache such as
    /// `["ccache"]`); with the fast path it launches the clang command.
    pub launcher: Vec<String>,
    /// Environment of the rewritten commands only (e.g. `NODE_PATH` for the
    /// node that emcc runs when it links a program). Build processes that run
    /// unchanged never see it. Values are composed by [`Target::env_value`].
    pub env: BTreeMap<String, String>,
    /// Node.js, which runs the wasm programs a build compiles and runs
    /// (meson's `exe_wrapper`, CMake's `CMAKE_CROSSCOMPILING_EMULATOR`).
    pub node: String,
    /// Where generated build-system files go (meson cross files, CMake
    /// toolchains). Not a profile field: whoever loads the profile sets it,
    /// with [`generated_dir`]; empty means `/tmp/pyrewrite`.
    #[serde(skip)]
    pub generated_dir: String,
    /// Absolute path of `pyrewrite-cc`, the fast path's runner. Not a profile
    /// field: whoever loads the profile sets it (the file next to
    /// libpyrewrite.so, or next to the driver); empty: no fast path.
    #[serde(skip)]
    pub fast_cc: String,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

impl Default for Target {
    fn default() -> Self {
        Target {
            emcc: "emcc".into(),
            emxx: "em++".into(),
            emar: "emar".into(),
            emranlib: "emranlib".into(),
            python_version: "3.11".into(),
            python_include: None,
            host_python_includes: Vec::new(),
            platform_tag: "emscripten_3_1_32_wasm32".into(),
            ext_suffix: ".cpython-311-wasm32-emscripten.so".into(),
            cflags: strings(&["-O2", "-g0", "-fPIC"]),
            cxxflags: strings(&["-O2", "-g0", "-fPIC", "-fexceptions"]),
            ldflags: strings(&["-O2", "-g0"]),
            cxx_ldflags: strings(&["-fexceptions"]),
            pyodide_dir: None,
            pkg_config_libdir: None,
            cxx_compat_object: None,
            fast_path: crate::fast_path::Mode::On,
            launcher: Vec::new(),
            env: BTreeMap::new(),
            node: "node".into(),
            generated_dir: String::new(),
            fast_cc: String::new(),
        }
    }
}

impl Target {
    /// [`Target::generated_dir`], or `/tmp/pyrewrite` when none was set.
    pub fn generated_dir_or_default(&self) -> &str {
        if self.generated_dir.is_empty() {
            "/tmp/pyrewrite"
        } else {
            &self.generated_dir
        }
    }
}

/// The directory for generated build-system files: `$XDG_CACHE_HOME/pyrewrite`,
/// else `$HOME/.cache/pyrewrite`, else `/tmp/pyrewrite-<uid>` (relative
/// values do not count, as the XDG spec says). One rule for the preload and
/// `pyrewrite explain`, so both name the same files.
pub fn generated_dir(xdg_cache_home: Option<&[u8]>, home: Option<&[u8]>, uid: u32) -> String {
    fn absolute(v: Option<&[u8]>) -> Option<alloc::borrow::Cow<'_, str>> {
        v.filter(|v| v.starts_with(b"/"))
            .map(String::from_utf8_lossy)
    }
    if let Some(cache) = absolute(xdg_cache_home) {
        format!("{}/pyrewrite", cache.trim_end_matches('/'))
    } else if let Some(home) = absolute(home) {
        format!("{}/.cache/pyrewrite", home.trim_end_matches('/'))
    } else {
        format!("/tmp/pyrewrite-{uid}")
    }
}

/// A profile that could not be read, naming the offending field when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetError {
    /// The JSON field at fault, if the error is about one field.
    pub field: Option<String>,
    /// What is wrong, in serde's words (with line and column).
    pub message: String,
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "field `{field}`: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl core::error::Error for TargetError {}

impl Target {
    /// Parse a profile. Missing fields take their defaults; an unknown field
    /// or a value of the wrong type is an error that names the field.
    pub fn from_json(text: &str) -> Result<Target, TargetError> {
        let err = match serde_json::from_str::<Target>(text) {
            Ok(target) => return target.check_env().map(|()| target),
            Err(err) => err,
        };
        // Find the field at fault by trying each one alone.
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(text) {
            for (key, value) in map {
                let mut alone = serde_json::Map::new();
                alone.insert(key.clone(), value);
                if let Err(field_err) = serde_json::from_value::<Target>(alone.into()) {
                    return Err(TargetError {
                        field: Some(key),
                        message: field_err.to_string(),
                    });
                }
            }
        }
        Err(TargetError {
            field: None,
            message: err.to_string(),
        })
    }

    /// `env` names must be usable as environment variables, and `LD_PRELOAD`
    /// is the session's own (the rewritten command runs without the library).
    fn check_env(&self) -> Result<(), TargetError> {
        for (name, value) in &self.env {
            let problem = if name.is_empty() || name.contains(['=', '\0']) {
                "a variable name must be non-empty, without `=` or NUL"
            } else if name == "LD_PRELOAD" {
                "LD_PRELOAD cannot be set: the session manages it"
            } else if value.contains('\0') {
                "a value cannot contain NUL"
            } else {
                continue;
            };
            return Err(TargetError {
                field: Some("env".into()),
                message: format!("{name:?}: {problem}"),
            });
        }
        Ok(())
    }
}

/// `true` for variables holding a `:`-separated search list (`NODE_PATH`,
/// `PYTHONPATH`, `LD_LIBRARY_PATH`, `PATH`): their profile value is prepended to
/// the caller's instead of replacing it.
pub fn is_path_list(name: &[u8]) -> bool {
    name.ends_with(b"PATH")
}

impl Target {
    /// The value a rewritten command gets for the profile's variable `name`
    /// (`profile` is its value in [`Target::env`]), given the value in the
    /// environment the build passed to the exec (`caller`).
    ///
    /// Other variables: the profile's value replaces the caller's. A search
    /// list ([`is_path_list`]): `profile:caller`, so the profile's entry is
    /// searched first and whatever the build set still works; an empty side
    /// is left out (no empty entry, which would mean the current directory).
    pub fn env_value(name: &[u8], profile: &[u8], caller: Option<&[u8]>) -> Vec<u8> {
        let mut value = profile.to_vec();
        if let Some(caller) = caller.filter(|c| !c.is_empty() && is_path_list(name)) {
            if !value.is_empty() {
                value.push(b':');
            }
            value.extend_from_slice(caller);
        }
        value
    }
}

/// Find `name` (no `/`) in the `:`-separated `path_var`, then under `emsdk`.
/// A name with a `/` is returned unchanged; `None` when found nowhere.
pub fn resolve_program(
    name: &[u8],
    path_var: Option<&[u8]>,
    emsdk: Option<&[u8]>,
    is_executable: &dyn Fn(&[u8]) -> bool,
) -> Option<Vec<u8>> {
    if name.contains(&b'/') {
        return Some(name.to_vec());
    }
    let join = |dir: &[u8], sub: &[u8]| {
        let mut p = dir.to_vec();
        if !p.ends_with(b"/") {
            p.push(b'/');
        }
        p.extend_from_slice(sub);
        p.push(b'/');
        p.extend_from_slice(name);
        p
    };
    let from_path = path_var
        .into_iter()
        .flat_map(|p| p.split(|&b| b == b':'))
        .filter(|dir| !dir.is_empty())
        .map(|dir| {
            let mut p = dir.to_vec();
            p.push(b'/');
            p.extend_from_slice(name);
            p
        });
    let from_emsdk = emsdk
        .filter(|e| !e.is_empty())
        .into_iter()
        .flat_map(|e| [join(e, b"upstream/emscripten"), join(e, b"emscripten")]);
    from_path.chain(from_emsdk).find(|p| is_executable(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_json_takes_defaults() {
        let t = Target::from_json(r#"{"python_include": "/py/include/python3.11"}"#).unwrap();
        assert_eq!(t.python_include.as_deref(), Some("/py/include/python3.11"));
        assert_eq!(t.emcc, "emcc");
        assert!(t.cxxflags.contains(&"-fexceptions".to_string()));
        assert_eq!(Target::from_json("{}").unwrap(), Target::default());
        let t = Target::from_json(r#"{"em++": "/e/em++"}"#).unwrap();
        assert_eq!(t.emxx, "/e/em++");
    }

    #[test]
    fn errors_name_the_field() {
        let e = Target::from_json(r#"{"emcc": "x", "cflag": []}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("cflag"));
        assert!(e.to_string().contains("unknown field `cflag`"), "{e}");
        let e = Target::from_json(r#"{"cflags": "-O2"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("cflags"));
        assert!(e.to_string().contains("expected a sequence"), "{e}");
        let e = Target::from_json("{not json").unwrap_err();
        assert_eq!(e.field, None);
        assert!(e.to_string().contains("line 1"), "{e}");
    }

    #[test]
    fn env_is_read_and_defaults_to_empty() {
        assert!(Target::default().env.is_empty());
        let t = Target::from_json(r#"{"env": {"NODE_PATH": "/usr/share/nodejs", "EM_X": "1"}}"#)
            .unwrap();
        assert_eq!(
            t.env.get("NODE_PATH").map(String::as_str),
            Some("/usr/share/nodejs")
        );
        assert_eq!(t.env.len(), 2);
        let back = Target::from_json(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
        let e = Target::from_json(r#"{"env": {"NODE_PATH": 1}}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("env"));
        let e = Target::from_json(r#"{"env": ["NODE_PATH=/x"]}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("env"));
        for bad in [
            r#"{"A=B": "1"}"#,
            r#"{"": "1"}"#,
            r#"{"LD_PRELOAD": "x.so"}"#,
        ] {
            let e = Target::from_json(&format!(r#"{{"env": {bad}}}"#)).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("env"), "{bad}");
        }
    }

    #[test]
    fn path_lists_prepend_other_variables_replace() {
        let v = |n: &str, p: &str, c: Option<&str>| {
            String::from_utf8(Target::env_value(
                n.as_bytes(),
                p.as_bytes(),
                c.map(str::as_bytes),
            ))
            .unwrap()
        };
        assert_eq!(
            v("NODE_PATH", "/usr/share/nodejs", None),
            "/usr/share/nodejs"
        );
        assert_eq!(
            v("NODE_PATH", "/usr/share/nodejs", Some("")),
            "/usr/share/nodejs"
        );
        assert_eq!(
            v("NODE_PATH", "/usr/share/nodejs", Some("/home/u/lib")),
            "/usr/share/nodejs:/home/u/lib"
        );
        assert_eq!(v("NODE_PATH", "", Some("/home/u/lib")), "/home/u/lib");
        assert_eq!(v("EM_CACHE", "/c", Some("/old")), "/c");
        assert_eq!(v("EM_CACHE", "/c", None), "/c");
    }

    #[test]
    fn resolves_path_then_emsdk() {
        let exists = |p: &[u8]| p == b"/b/emcc" || p == b"/sdk/upstream/emscripten/emar";
        let r = |n: &[u8]| resolve_program(n, Some(b"/a::/b"), Some(b"/sdk"), &exists);
        assert_eq!(r(b"emcc"), Some(b"/b/emcc".to_vec()));
        assert_eq!(r(b"emar"), Some(b"/sdk/upstream/emscripten/emar".to_vec()));
        assert_eq!(r(b"emranlib"), None);
        assert_eq!(r(b"./emcc"), Some(b"./emcc".to_vec()));
    }
}
