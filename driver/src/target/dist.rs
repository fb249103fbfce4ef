//! Reads what a target profile needs out of a Pyodide distribution, offline:
//! the npm package dir (`node_modules/pyodide`) or a cross-build environment
//! (`xbuildenv/pyodide-root`).

use anyhow::{bail, Context, Result};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The facts read from a distribution.
#[derive(Debug)]
pub struct Dist {
    /// Full CPython version, e.g. `3.11.2`.
    pub python_full_version: String,
    /// Wheel platform tag, e.g. `emscripten_3_1_32_wasm32`.
    pub platform_tag: String,
    /// Text of `_sysconfigdata__emscripten_wasm32-emscripten.py`.
    pub sysconfig_text: String,
    /// Where that text came from (for messages and the generated header).
    pub sysconfig_origin: String,
    /// A real wasm32 include dir shipped by the distribution (xbuildenv only).
    pub shipped_include: Option<PathBuf>,
}

/// Reads `dir` as an npm Pyodide package or an xbuildenv, whichever it is.
pub fn read(dir: &Path) -> Result<Dist> {
    if !dir.is_dir() {
        bail!(
            "{}: not a directory; pass the Pyodide npm package dir (e.g. node_modules/pyodide, \
             `scripts/setup.sh` installs it under .cache/pyodide-npm) or an xbuildenv/pyodide-root",
            dir.display()
        );
    }
    if dir.join("python_stdlib.zip").is_file() {
        return read_npm(dir);
    }
    for root in [dir.to_path_buf(), dir.join("pyodide-root")] {
        if root.join("Makefile.envs").is_file() {
            return read_xbuildenv(&root);
        }
    }
    bail!(
        "{}: neither a Pyodide npm package (no python_stdlib.zip) nor a cross-build environment \
         (no Makefile.envs or pyodide-root/Makefile.envs); run `npm install pyodide@0.23.4` and \
         pass node_modules/pyodide",
        dir.display()
    )
}

fn read_npm(dir: &Path) -> Result<Dist> {
    let zip_path = dir.join("python_stdlib.zip");
    let (name, sysconfig_text) = sysconfig_from_zip(&zip_path)?;
    let info = lock_info(dir)?;
    let platform = match info.platform {
        Some(p) => p,
        None => platform_from_version_table(dir)?,
    };
    let python_full_version = match info.python {
        Some(v) => v,
        None => sysconfig_version(&sysconfig_text)?,
    };
    Ok(Dist {
        python_full_version,
        platform_tag: format!("{platform}_{}", info.arch.as_deref().unwrap_or("wasm32")),
        sysconfig_origin: format!("{}:{name}", zip_path.display()),
        sysconfig_text,
        shipped_include: None,
    })
}

/// Finds `_sysconfigdata_*.py` inside the stdlib zip.
fn sysconfig_from_zip(zip_path: &Path) -> Result<(String, String)> {
    let file = std::fs::File::open(zip_path)
        .with_context(|| format!("{}: cannot open", zip_path.display()))?;
    let mut archive = zip::ZipArchive::new(file).with_context(|| {
        format!(
            "{}: not a readable zip; reinstall the Pyodide package",
            zip_path.display()
        )
    })?;
    let name = archive
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .filter(|n| n.starts_with("_sysconfigdata_") && n.ends_with(".py"))
        .min()
        .with_context(|| {
            format!(
                "{}: no _sysconfigdata_*.py inside; is this a Pyodide python_stdlib.zip?",
                zip_path.display()
            )
        })?;
    let mut text = String::new();
    archive
        .by_name(&name)?
        .read_to_string(&mut text)
        .with_context(|| format!("{}: cannot read {name}", zip_path.display()))?;
    Ok((name, text))
}

#[derive(Default)]
struct LockInfo {
    platform: Option<String>,
    arch: Option<String>,
    python: Option<String>,
}

/// `info` of `pyodide-lock.json` (0.24+) or `repodata.json` (0.23 and older):
/// `{"arch": "wasm32", "platform": "emscripten_3_1_32", "python": "3.11.2"}`.
fn lock_info(dir: &Path) -> Result<LockInfo> {
    for name in ["pyodide-lock.json", "repodata.json"] {
        let path = dir.join(name);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let json: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{}: not valid JSON", path.display()))?;
        let field = |k: &str| json["info"][k].as_str().map(str::to_owned);
        return Ok(LockInfo {
            platform: field("platform"),
            arch: field("arch"),
            python: field("python"),
        });
    }
    Ok(LockInfo::default())
}

/// Emscripten versions of Pyodide releases whose lock file lacks `platform`.
const EMSCRIPTEN_OF_PYODIDE: &[(&str, &str)] = &[
    ("0.22.", "3.1.27"),
    ("0.23.", "3.1.32"),
    ("0.24.", "3.1.45"),
    ("0.25.", "3.1.46"),
    ("0.26.", "3.1.58"),
];

fn platform_from_version_table(dir: &Path) -> Result<String> {
    let path = dir.join("package.json");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{}: cannot read, and no lock file names the platform",
            path.display()
        )
    })?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON", path.display()))?;
    let version = json["version"].as_str().unwrap_or("");
    EMSCRIPTEN_OF_PYODIDE
        .iter()
        .find(|(prefix, _)| version.starts_with(prefix))
        .map(|(_, em)| format!("emscripten_{}", em.replace('.', "_")))
        .with_context(|| {
            format!(
                "{}: Pyodide {version:?} has no lock file naming its platform and is not in the \
                 known-versions table; use Pyodide 0.23.4",
                path.display()
            )
        })
}

fn sysconfig_version(text: &str) -> Result<String> {
    let vars = super::sysconfig::parse_build_time_vars(text).map_err(anyhow::Error::msg)?;
    vars.get("VERSION")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .context("sysconfigdata has no VERSION")
}

/// `pyodide-root`: `Makefile.envs` names the versions, the tree holds the real
/// wasm32 headers and sysconfigdata of the CPython that Pyodide was built from.
fn read_xbuildenv(root: &Path) -> Result<Dist> {
    let envs_path = root.join("Makefile.envs");
    let envs = std::fs::read_to_string(&envs_path)
        .with_context(|| format!("{}: cannot read", envs_path.display()))?;
    let var = |name: &str| {
        makefile_var(&envs, name).with_context(|| {
            format!(
                "{}: no `export {name} ?= ...`; is this a Pyodide cross-build environment?",
                envs_path.display()
            )
        })
    };
    let python_full_version = var("PYVERSION")?;
    let emscripten = var("PYODIDE_EMSCRIPTEN_VERSION")?;
    let sysconfig_path = find_file(root, 8, &|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("_sysconfigdata_") && n.ends_with(".py"))
    })
    .with_context(|| format!("{}: no _sysconfigdata_*.py in the tree", root.display()))?;
    let sysconfig_text = std::fs::read_to_string(&sysconfig_path)
        .with_context(|| format!("{}: cannot read", sysconfig_path.display()))?;
    let python_h = find_file(root, 8, &|p| {
        p.file_name().is_some_and(|n| n == "Python.h") && p.with_file_name("pyconfig.h").is_file()
    })
    .with_context(|| {
        format!(
            "{}: no include dir with Python.h and pyconfig.h",
            root.display()
        )
    })?;
    Ok(Dist {
        python_full_version,
        platform_tag: format!("emscripten_{}_wasm32", emscripten.replace('.', "_")),
        sysconfig_origin: sysconfig_path.display().to_string(),
        sysconfig_text,
        shipped_include: python_h.parent().map(Path::to_path_buf),
    })
}

/// Value of `export NAME ?= VALUE` / `export NAME = VALUE` / `NAME := VALUE`.
fn makefile_var(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let line = line.trim().strip_prefix("export ").unwrap_or(line.trim());
        let rest = line.strip_prefix(name)?.trim_start();
        let value = ["?=", ":=", "="]
            .iter()
            .find_map(|op| rest.strip_prefix(op))?;
        Some(value.trim().to_owned()).filter(|v| !v.is_empty())
    })
}

/// First file (in sorted, depth-first order) under `dir` matching `want`.
fn find_file(dir: &Path, depth: usize, want: &dyn Fn(&Path) -> bool) -> Option<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in &entries {
        if p.is_file() && want(p) {
            return Some(p.clone());
        }
    }
    if depth == 0 {
        return None;
    }
    entries
        .iter()
        .filter(|p| p.is_dir() && !p.is_symlink())
        .find_map(|p| find_file(p, depth - 1, want))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makefile_vars_in_the_forms_pyodide_uses() {
        let t = "export PYVERSION ?= 3.11.2\nexport PYODIDE_EMSCRIPTEN_VERSION ?= 3.1.32\nX := 1\nexport PYMAJOR=$(word 1)\n";
        assert_eq!(makefile_var(t, "PYVERSION").as_deref(), Some("3.11.2"));
        assert_eq!(
            makefile_var(t, "PYODIDE_EMSCRIPTEN_VERSION").as_deref(),
            Some("3.1.32")
        );
        assert_eq!(makefile_var(t, "X").as_deref(), Some("1"));
        assert_eq!(makefile_var(t, "PYV"), None);
    }

    #[test]
    fn xbuildenv_layout_is_read() {
        let tmp = std::env::temp_dir().join(format!("pyrewrite-xbe-{}", std::process::id()));
        let root = tmp.join("xbuildenv/pyodide-root");
        let inc = root.join("cpython/installs/python-3.11.2/include/python3.11");
        let lib = root.join("cpython/installs/python-3.11.2/lib/python3.11");
        std::fs::create_dir_all(&inc).unwrap();
        std::fs::create_dir_all(&lib).unwrap();
        std::fs::write(
            root.join("Makefile.envs"),
            "export PYVERSION ?= 3.11.2\nexport PYODIDE_EMSCRIPTEN_VERSION ?= 3.1.32\n",
        )
        .unwrap();
        std::fs::write(inc.join("Python.h"), "").unwrap();
        std::fs::write(inc.join("pyconfig.h"), "").unwrap();
        std::fs::write(
            lib.join("_sysconfigdata__emscripten_wasm32-emscripten.py"),
            "build_time_vars = {'VERSION': '3.11'}\n",
        )
        .unwrap();
        let d = read(&tmp.join("xbuildenv")).unwrap();
        assert_eq!(d.platform_tag, "emscripten_3_1_32_wasm32");
        assert_eq!(d.python_full_version, "3.11.2");
        assert_eq!(d.shipped_include.as_deref(), Some(inc.as_path()));
        assert!(d.sysconfig_text.contains("VERSION"));
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn a_dir_that_is_neither_is_refused_with_a_next_step() {
        let err = read(&std::env::temp_dir()).unwrap_err().to_string();
        assert!(err.contains("npm install pyodide"), "{err}");
    }
}
