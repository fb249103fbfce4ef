//! The target profile: everything the rules need to know about the wasm32
//! platform a build is retargeted to. Stored as JSON (`target.json`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Target {
    /// Program run for C compiles and links.
    pub emcc: String,
    /// Program run for C++ compiles and links.
    pub emxx: String,
    /// Program run instead of `ar`.
    pub emar: String,
    /// Program run instead of `ranlib`.
    pub emranlib: String,
    /// Target Python version, `major.minor`.
    pub python_version: String,
    /// Include dir of the target CPython (replaces the host's `-I`).
    pub python_include: Option<String>,
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
    /// Pyodide distribution (npm package dir with `pyodide.asm.wasm`) the wheels
    /// will be loaded into; `pyrewrite verify` checks them against it. Relative
    /// paths are relative to the profile file.
    pub pyodide_dir: Option<String>,
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
            platform_tag: "emscripten_3_1_32_wasm32".into(),
            ext_suffix: ".cpython-311-wasm32-emscripten.so".into(),
            cflags: vec!["-O2".into(), "-g0".into(), "-fPIC".into()],
            cxxflags: vec![
                "-O2".into(),
                "-g0".into(),
                "-fPIC".into(),
                "-fexceptions".into(),
            ],
            ldflags: vec!["-O2".into(), "-g0".into()],
            pyodide_dir: None,
        }
    }
}

impl Target {
    pub fn from_json(text: &str) -> Result<Target, serde_json::Error> {
        serde_json::from_str(text)
    }
}
