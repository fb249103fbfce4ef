//! What verify found, as data (serialized for `--json`) and as a human report.
//!
//! The JSON document is versioned by `schema` ("pyrewrite-verify/1"); fields are
//! only ever added. See docs/verify.md for the field list.

use serde::Serialize;
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// What is wrong, in one word tools can switch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A function import nobody provides: loads, fails when first called.
    MissingSymbol,
    /// A data/GOT import nobody provides: fails at load (or reads address 0).
    MissingData,
    /// Import type differs from the provider's export: LinkError at load.
    SignatureMismatch,
    /// Same signature, but a struct it passes changed layout between the
    /// module's Emscripten and the runtime's: loads, misreads silently.
    AbiLayout,
    /// A shared library the module names in `dylink.0` (needed) is nowhere.
    MissingNeeded,
    /// The member is not a wasm module or not a side module.
    NotSideModule,
}

/// The likely reason behind a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    TimeTWidth,
    MissingWasmBigint,
    MissingLibrary,
    DifferentPrototype,
    NotProvided,
    NativeBuild,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub kind: Kind,
    pub cause: Cause,
    /// Import as `module.name`, e.g. `env.time`; empty for whole-module findings.
    pub import_module: String,
    pub symbol: String,
    /// The module's import type (functions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imported: Option<String>,
    /// The provider's export type (functions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provided: Option<String>,
    /// The C library the symbol belongs to, for `missing-library`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub library: Option<String>,
    pub message: String,
    pub next_step: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExtensionReport {
    /// Member path inside the wheel.
    pub member: String,
    /// The module's Emscripten version as verify assumed it, if any.
    pub emscripten: Option<String>,
    pub emscripten_source: String,
    pub time_t_bits: Option<u32>,
    /// How `time_t_bits` was determined (the module's own imports, or its version).
    pub time_t_source: String,
    pub imports: usize,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WheelReport {
    pub path: String,
    pub extensions: Vec<ExtensionReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuntimeSummary {
    pub dist_dir: String,
    pub pyodide_version: Option<String>,
    pub emscripten: Option<String>,
    pub emscripten_source: String,
    pub time_t_bits: Option<u32>,
    pub main_exports: usize,
    pub js_symbols: usize,
    pub js_symbols_source: String,
    /// Names the runtime's loader creates on demand (`invoke_* (generated)`).
    pub on_demand: Vec<String>,
    /// Where `on_demand` was read (`resolveGlobalSymbol in …/pyodide.asm.js`).
    pub on_demand_source: String,
    pub shipped_libs: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub runtime: RuntimeSummary,
    /// Wheels given with `--with`, counted as providers only.
    pub with: Vec<String>,
    pub wheels: Vec<WheelReport>,
    pub summary: Summary,
}

impl Report {
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.wheels
            .iter()
            .flat_map(|w| w.extensions.iter())
            .flat_map(|e| e.findings.iter())
    }

    pub fn recount(&mut self) {
        let count = |s| self.findings().filter(|f| f.severity == s).count();
        self.summary = Summary {
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
        };
    }

    /// 0 when nothing is wrong (warnings allowed unless `strict`), 1 otherwise.
    pub fn exit_code(&self, strict: bool) -> u8 {
        let bad = self.summary.errors > 0 || (strict && self.summary.warnings > 0);
        u8::from(bad)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report serializes")
    }

    pub fn to_human(&self) -> String {
        let mut s = String::new();
        let r = &self.runtime;
        let _ = writeln!(
            s,
            "runtime: {} (Pyodide {}, Emscripten {} from {}; time_t {}; {} wasm exports, {} JS-provided symbols)",
            r.dist_dir,
            r.pyodide_version.as_deref().unwrap_or("?"),
            r.emscripten.as_deref().unwrap_or("?"),
            r.emscripten_source,
            bits(r.time_t_bits),
            r.main_exports,
            r.js_symbols,
        );
        if !r.on_demand.is_empty() {
            let _ = writeln!(
                s,
                "loader: creates on demand {} ({})",
                r.on_demand.join(", "),
                r.on_demand_source
            );
        }
        for w in &self.with {
            let _ = writeln!(s, "with: {w}");
        }
        for wheel in &self.wheels {
            let _ = writeln!(s, "\n{}", wheel.path);
            if wheel.extensions.is_empty() {
                let _ = writeln!(s, "  no extension modules (.so): nothing to check");
            }
            for ext in &wheel.extensions {
                let _ = writeln!(
                    s,
                    "  {}: {} imports; built by Emscripten {} ({}); time_t {}{}",
                    ext.member,
                    ext.imports,
                    ext.emscripten.as_deref().unwrap_or("?"),
                    ext.emscripten_source,
                    bits(ext.time_t_bits),
                    // Say where time_t came from only when not from the version.
                    if ext.time_t_source.starts_with("from Emscripten") {
                        String::new()
                    } else {
                        format!(" ({})", ext.time_t_source)
                    },
                );
                if ext.findings.is_empty() {
                    let _ = writeln!(s, "    ok: every import is provided with a matching type");
                }
                for f in &ext.findings {
                    let sev = match f.severity {
                        Severity::Error => "error",
                        Severity::Warning => "warning",
                    };
                    let _ = writeln!(s, "    {sev}: {}", f.message);
                    let _ = writeln!(s, "      next step: {}", f.next_step);
                }
            }
        }
        let _ = writeln!(
            s,
            "\n{} error(s), {} warning(s)",
            self.summary.errors, self.summary.warnings
        );
        s
    }
}

fn bits(b: Option<u32>) -> String {
    b.map_or("unknown".into(), |b| format!("{b}-bit"))
}
