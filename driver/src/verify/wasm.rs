//! Reading what a wasm module imports and exports, with function types, plus the
//! custom sections that say how it was built (`dylink.0`, `producers`).

use anyhow::{bail, Context, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use wasmparser::{ExternalKind, KnownCustom, Parser, Payload, TypeRef, ValType};

/// A function type in wasm value types, e.g. `(i32, i64) -> i32`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuncSig {
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
}

impl fmt::Display for FuncSig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |v: &[ValType]| {
            v.iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        write!(f, "({}) -> ", list(&self.params))?;
        match self.results.len() {
            0 => write!(f, "()"),
            1 => write!(f, "{}", self.results[0]),
            _ => write!(f, "({})", list(&self.results)),
        }
    }
}

/// What kind of thing an import or export is; functions carry their type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Func(FuncSig),
    Global,
    Memory,
    Table,
    Tag,
}

#[derive(Debug, Clone)]
pub struct Import {
    pub module: String,
    pub name: String,
    pub kind: Kind,
}

/// Everything verify needs from one wasm module.
#[derive(Debug, Clone, Default)]
pub struct ModuleInfo {
    pub imports: Vec<Import>,
    pub exports: BTreeMap<String, Kind>,
    /// Present only in dynamic-linking modules (side modules, and main modules
    /// built with MAIN_MODULE): the `dylink.0` custom section.
    pub has_dylink: bool,
    /// Names the `dylink.0` section marks weak. By name only, as the loader does
    /// (`getDylinkMetadata` collects field names; GOT entries of any module
    /// with such a name are optional).
    pub weak_imports: BTreeSet<String>,
    /// Shared libraries the module asks the loader to load first (`dylink.0` needed).
    pub needed: Vec<String>,
    /// `producers` section as `field: name version` strings (often stripped by emcc -O2).
    pub producers: Vec<String>,
}

/// Whether `bytes` starts like a wasm module (magic `\0asm`).
pub fn is_wasm(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\0asm")
}

/// Parse a module's imports, exports and custom sections; the code is not read.
pub fn read_module(bytes: &[u8]) -> Result<ModuleInfo> {
    if !is_wasm(bytes) {
        if bytes.starts_with(b"\x7fELF") {
            bail!("it is a native ELF shared object, not WebAssembly");
        }
        bail!("it is not a WebAssembly module (no \\0asm magic)");
    }
    let mut info = ModuleInfo::default();
    let mut types: Vec<Option<FuncSig>> = Vec::new();
    // Function index space: imported functions first, then defined ones.
    let mut func_types: Vec<u32> = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.context("malformed wasm")? {
            Payload::TypeSection(reader) => {
                for group in reader {
                    for sub in group?.into_types() {
                        types.push(match &sub.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => Some(FuncSig {
                                params: f.params().to_vec(),
                                results: f.results().to_vec(),
                            }),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import?;
                    let kind = match import.ty {
                        TypeRef::Func(t) | TypeRef::FuncExact(t) => {
                            func_types.push(t);
                            Kind::Func(sig_at(&types, t)?)
                        }
                        TypeRef::Global(_) => Kind::Global,
                        TypeRef::Memory(_) => Kind::Memory,
                        TypeRef::Table(_) => Kind::Table,
                        TypeRef::Tag(_) => Kind::Tag,
                    };
                    info.imports.push(Import {
                        module: import.module.to_string(),
                        name: import.name.to_string(),
                        kind,
                    });
                }
            }
            Payload::FunctionSection(reader) => {
                for t in reader {
                    func_types.push(t?);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    let kind = match export.kind {
                        ExternalKind::Func | ExternalKind::FuncExact => {
                            let t = *func_types
                                .get(export.index as usize)
                                .context("export of an unknown function index")?;
                            Kind::Func(sig_at(&types, t)?)
                        }
                        ExternalKind::Global => Kind::Global,
                        ExternalKind::Memory => Kind::Memory,
                        ExternalKind::Table => Kind::Table,
                        ExternalKind::Tag => Kind::Tag,
                    };
                    info.exports.insert(export.name.to_string(), kind);
                }
            }
            Payload::CustomSection(reader) => match reader.as_known() {
                KnownCustom::Dylink0(sub) => {
                    info.has_dylink = true;
                    // The one reader of dylink.0, shared with retag's check.
                    let d = crate::wheel::wasm::read_dylink0(sub)?;
                    info.weak_imports.extend(d.weak_imports);
                    info.needed.extend(d.needed);
                }
                KnownCustom::Producers(fields) => {
                    for field in fields {
                        let field = field?;
                        for v in field.values {
                            let v = v?;
                            info.producers
                                .push(format!("{}: {} {}", field.name, v.name, v.version));
                        }
                    }
                }
                _ => {
                    // emcc before 3.1.? wrote the older `dylink` section name.
                    if reader.name() == "dylink" {
                        info.has_dylink = true;
                    }
                }
            },
            _ => {}
        }
    }
    Ok(info)
}

fn sig_at(types: &[Option<FuncSig>], index: u32) -> Result<FuncSig> {
    types
        .get(index as usize)
        .cloned()
        .flatten()
        .with_context(|| format!("type index {index} is not a function type"))
}

impl ModuleInfo {
    /// Whether the module was linked without WASM_BIGINT: emscripten then splits i64
    /// at the boundary and passes the high half through getTempRet0/setTempRet0
    /// (renamed `_emscripten_tempret_*` later), and keeps `orig$` exports.
    pub fn shows_i64_legalization(&self) -> bool {
        const TEMPRET: [&str; 4] = [
            "getTempRet0",
            "setTempRet0",
            "_emscripten_tempret_get",
            "_emscripten_tempret_set",
        ];
        self.imports
            .iter()
            .any(|i| TEMPRET.contains(&i.name.as_str()))
            || self.exports.keys().any(|k| k.starts_with("orig$"))
    }
}
