//! The runtime a wheel is checked against: a Pyodide distribution (its main
//! module's wasm exports, the functions its JS glue provides, the shared
//! libraries it ships) and the Emscripten version it was built with.

use super::abi::{self, EmVersion};
use super::loader::{self, LoaderRules};
use super::wasm::{self, Kind, ModuleInfo};
use anyhow::{bail, Context, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Names the Emscripten loader itself supplies to every side module's `env`.
pub const LOADER_PROVIDED: &[&str] = &[
    "memory",
    "__indirect_function_table",
    "__stack_pointer",
    "__memory_base",
    "__table_base",
];

pub struct Runtime {
    /// The Pyodide distribution directory actually read.
    pub dist_dir: PathBuf,
    pub pyodide_version: Option<String>,
    pub emscripten: Option<EmVersion>,
    /// Where `emscripten` came from, for the report.
    pub emscripten_source: String,
    /// Wasm exports of `pyodide.asm.wasm` (functions carry their type).
    pub main_exports: BTreeMap<String, Kind>,
    /// Symbols the JS glue (`pyodide.asm.js`) puts in the import object.
    pub js_symbols: BTreeSet<String>,
    /// Emscripten signature strings (`"iijp"`: result first; i32, j i64, f f32,
    /// d f64, p pointer, v void) the glue declares for JS-provided functions.
    pub js_sigs: BTreeMap<String, String>,
    pub js_symbols_source: String,
    /// JS functions declared void (`.sig="v…"`) whose definition returns a
    /// value: the declaration is wrong about the result (see
    /// `loader::returns_value`), so a result-only difference is no finding.
    pub js_void_returning: BTreeSet<String>,
    /// What the loader creates on demand (`invoke_*`, ...), read from the glue.
    pub loader: LoaderRules,
    /// Shared libraries shipped next to the main module (`*.so` in the dist dir).
    pub shipped_libs: Vec<(String, ModuleInfo)>,
    /// emcc named by the target profile, when RUNTIME was one.
    pub profile_emcc: Option<String>,
}

/// Load RUNTIME: a Pyodide dist dir (or a dir holding `node_modules/pyodide`), or
/// a target profile JSON whose `pyodide_dir` names one (read by the one
/// profile loader, `crate::profile`).
pub fn load(path: &Path) -> Result<Runtime> {
    if path.is_dir() {
        return load_dist(&find_dist(path)?, None, None);
    }
    let profile = crate::profile::load_file(path, "--against")?;
    load_profile(&profile)
}

/// The runtime a loaded target profile names (`pyodide_dir`, relative to
/// the profile file), with the profile's emcc as the modules' likely builder.
pub fn load_profile(profile: &crate::profile::Profile) -> Result<Runtime> {
    let Some(dir) = profile.pyodide_dir() else {
        bail!(
            "target profile {} names no Pyodide distribution: set its \"pyodide_dir\" \
             (the npm package dir holding pyodide.asm.wasm), regenerate it with \
             `pyrewrite target from-pyodide DIR`, or pass that dir to --against",
            profile.path.display()
        );
    };
    let dist = find_dist(&dir)?;
    let target = &profile.target;
    let tag_version = target.platform_tag.parse::<EmVersion>().ok();
    load_dist(&dist, tag_version, Some(target.emcc.clone()))
}

/// The npm package dir at `dir` or at `dir/node_modules/pyodide`.
pub fn find_dist(dir: &Path) -> Result<PathBuf> {
    for candidate in [dir.to_path_buf(), dir.join("node_modules/pyodide")] {
        if candidate.join("pyodide.asm.wasm").is_file() {
            return Ok(candidate);
        }
    }
    bail!(
        "{} is not a Pyodide distribution: no pyodide.asm.wasm in it \
         (install one with `npm install pyodide@0.23.4` and pass node_modules/pyodide)",
        dir.display()
    )
}

fn load_dist(
    dir: &Path,
    profile_version: Option<EmVersion>,
    profile_emcc: Option<String>,
) -> Result<Runtime> {
    let wasm_path = dir.join("pyodide.asm.wasm");
    let bytes = std::fs::read(&wasm_path)
        .with_context(|| format!("cannot read {}", wasm_path.display()))?;
    let main = wasm::read_module(&bytes)
        .with_context(|| format!("cannot parse {}", wasm_path.display()))?;

    let js_path = dir.join("pyodide.asm.js");
    let mut js_sigs = BTreeMap::new();
    let mut js_void_returning = BTreeSet::new();
    let mut loader = LoaderRules::fallback();
    let (js_symbols, js_symbols_source) = match std::fs::read_to_string(&js_path) {
        Ok(js) => match js_import_object(&js) {
            Some(pairs) => {
                loader = LoaderRules::from_glue(&js, &js_path.display().to_string());
                let declared = declared_sigs(&js);
                let mut keys = BTreeSet::new();
                for (key, value) in pairs {
                    if let Some(&(sig, at)) = declared.get(value.as_str()) {
                        // The definition precedes its `.sig=` assignment.
                        let before = &js[..at];
                        if sig.starts_with('v')
                            && loader::returns_value(before, &value) == Some(true)
                        {
                            js_void_returning.insert(key.clone());
                        }
                        js_sigs.insert(key.clone(), sig.to_string());
                    }
                    keys.insert(key);
                }
                (keys, format!("import object in {}", js_path.display()))
            }
            None => bail!(
                "{}: found no `wasmImports`/`asmLibraryArg` object; this Pyodide's JS glue \
                 has a layout verify does not know",
                js_path.display()
            ),
        },
        // Without the JS glue, the main module's own env imports are the best
        // lower bound of what JS provides.
        Err(_) => (
            main.imports
                .iter()
                .filter(|i| i.module == "env" || i.module == "wasi_snapshot_preview1")
                .map(|i| i.name.clone())
                .collect(),
            format!(
                "{} is missing: used the main module's own imports (a lower bound)",
                js_path.display()
            ),
        ),
    };

    let (pyodide_version, platform, info_file) = read_dist_info(dir);
    let (emscripten, emscripten_source) = if let Some(v) = platform {
        (
            Some(v),
            format!("the distribution's {info_file} (info.platform)"),
        )
    } else if let Some(v) = pyodide_version.as_deref().and_then(abi::pyodide_emscripten) {
        (Some(v), "the Pyodide version (verify's table)".into())
    } else if let Some(v) = profile_version {
        (Some(v), "the target profile's platform_tag".into())
    } else {
        (None, "unknown".into())
    };

    let mut shipped_libs = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "so"))
        .collect();
    entries.sort();
    for p in entries {
        let bytes = std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))?;
        if let Ok(info) = wasm::read_module(&bytes) {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            shipped_libs.push((name, info));
        }
    }

    Ok(Runtime {
        dist_dir: dir.to_path_buf(),
        pyodide_version,
        emscripten,
        emscripten_source,
        main_exports: main.exports,
        js_symbols,
        js_sigs,
        js_symbols_source,
        js_void_returning,
        loader,
        shipped_libs,
        profile_emcc,
    })
}

/// `(pyodide version, emscripten from info.platform, the file read)` from
/// `repodata.json` (0.23, 0.24) or `pyodide-lock.json` (0.25+), else
/// `package.json`'s version.
fn read_dist_info(dir: &Path) -> (Option<String>, Option<EmVersion>, &'static str) {
    for name in ["repodata.json", "pyodide-lock.json"] {
        let Ok(text) = std::fs::read_to_string(dir.join(name)) else {
            continue;
        };
        let Ok(doc) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let info = &doc["info"];
        let version = info["version"].as_str().map(String::from);
        let platform = info["platform"].as_str().and_then(|p| p.parse().ok());
        if version.is_some() || platform.is_some() {
            return (version, platform, name);
        }
    }
    let version = std::fs::read_to_string(dir.join("package.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|d| d["version"].as_str().map(String::from));
    (version, None, "package.json")
}

/// `(key, value identifier)` pairs of the object Emscripten's JS glue passes as
/// the `env` imports: `var wasmImports={...}` (3.1.27+) or `var asmLibraryArg={...}`
/// (older). The values are plain identifiers, so the literal has no nested braces.
pub fn js_import_object(js: &str) -> Option<Vec<(String, String)>> {
    let start = [
        "var wasmImports={",
        "var wasmImports = {",
        "var asmLibraryArg={",
        "var asmLibraryArg = {",
    ]
    .iter()
    .find_map(|pat| js.find(pat).map(|i| i + pat.len()))?;
    let body = &js[start..start + js[start..].find('}')?];
    let pairs: Vec<(String, String)> = body
        .split(',')
        .filter_map(|pair| {
            let pair = strip_comments(pair);
            let (key, value) = pair.split_once(':').unwrap_or((&pair, &pair));
            let key = key.trim().trim_matches(|c| c == '"' || c == '\'');
            (!key.is_empty()).then(|| (key.to_string(), value.trim().to_string()))
        })
        .collect();
    (!pairs.is_empty()).then_some(pairs)
}

/// Every `ident.sig="..."` assignment in the glue, by identifier: the
/// signature and the byte offset of the assignment.
fn declared_sigs(js: &str) -> BTreeMap<&str, (&str, usize)> {
    let mut out = BTreeMap::new();
    for (at, pat) in js.match_indices(".sig=\"") {
        let ident_start = js[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
            .map_or(0, |i| i + 1);
        let rest = &js[at + pat.len()..];
        if let Some(end) = rest.find('"') {
            out.insert(&js[ident_start..at], (&rest[..end], ident_start));
        }
    }
    out
}

fn strip_comments(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("/*") {
        out.push_str(&rest[..i]);
        rest = rest[i..].find("*/").map_or("", |j| &rest[i + j + 2..]);
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_import_object_and_sigs() {
        let js = r#"function _fd_write(a,b,c,d){}_fd_write.sig="iippp";x;var wasmImports={"abort":_abort,/** @export */ "fd_write":_fd_write,invoke_ii:invoke_ii};var y={"no":1}"#;
        let pairs = js_import_object(js).unwrap();
        let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["abort", "fd_write", "invoke_ii"]);
        assert_eq!(pairs[1].1, "_fd_write");
        assert_eq!(declared_sigs(js)["_fd_write"].0, "iippp");
        assert!(js_import_object("var other={}").is_none());
    }
}
