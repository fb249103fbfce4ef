//! Is a shared object a wasm side module? Pyodide's loader needs the wasm
//! magic ("need to see wasm magic number") and the `dylink.0` custom section
//! as the very first section ("need the dylink section to be first").
//!
//! This only decides "side module or not" for retagging. `pyrewrite verify`
//! reads the whole module (driver/src/verify/wasm.rs: imports, exports),
//! and both read the `dylink.0` section with [`read_dylink0`], the one
//! reader of it.

use std::collections::BTreeSet;
use wasmparser::{
    BinaryReaderError, Dylink0SectionReader, Dylink0Subsection, KnownCustom, Parser, Payload,
    SymbolFlags,
};

/// What a `dylink.0` section says, as far as retag and verify need it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dylink0 {
    pub memory_size: u32,
    pub table_size: u32,
    /// Shared libraries the module asks the loader to load first.
    pub needed: Vec<String>,
    /// Names the section marks weak (`import-info` with `BINDING_WEAK`). By
    /// name only, as Pyodide's loader does (`getDylinkMetadata` collects
    /// field names; GOT entries of any module with such a name are optional).
    pub weak_imports: BTreeSet<String>,
}

/// Reads a `dylink.0` section: the one reader of it (retag's side-module
/// check and verify's module reader).
pub fn read_dylink0(reader: Dylink0SectionReader<'_>) -> Result<Dylink0, BinaryReaderError> {
    let mut d = Dylink0::default();
    for sub in reader {
        match sub? {
            Dylink0Subsection::MemInfo(m) => {
                d.memory_size = m.memory_size;
                d.table_size = m.table_size;
            }
            Dylink0Subsection::Needed(n) => d.needed.extend(n.iter().map(|s| s.to_string())),
            Dylink0Subsection::ImportInfo(list) => {
                for i in list {
                    if i.flags.contains(SymbolFlags::BINDING_WEAK) {
                        d.weak_imports.insert(i.field.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    Ok(d)
}

/// What a `.so` member turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A side module: wasm whose first section is `dylink.0` (or the legacy
    /// `dylink` section of Emscripten before 2.0.24, which Pyodide's loader
    /// still reads).
    SideModule(SideModule),
    /// `\x7fELF`: the native link ran unchanged.
    NativeElf,
    /// Wasm with a `linking` section and no dylink: an object file, what
    /// `emcc -shared` emits without `-sSIDE_MODULE=1`.
    RelocatableObject,
    /// Wasm without dylink that is not an object either (a main module or a
    /// standalone wasm file).
    WasmWithoutDylink { first_section: String },
    /// Starts with the wasm magic but does not parse.
    BrokenWasm { error: String },
    /// Neither wasm nor ELF.
    Unknown { magic: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SideModule {
    /// `true` for the legacy `dylink` section.
    pub legacy_dylink: bool,
    pub memory_size: u32,
    pub table_size: u32,
    /// Shared libraries the module asks the loader to load first.
    pub needed: Vec<String>,
}

pub const WASM_MAGIC: &[u8] = b"\0asm";
pub const ELF_MAGIC: &[u8] = b"\x7fELF";

/// Looks at the magic and the first section only; nothing else is parsed.
pub fn inspect(bytes: &[u8]) -> Verdict {
    if bytes.starts_with(ELF_MAGIC) {
        return Verdict::NativeElf;
    }
    if !bytes.starts_with(WASM_MAGIC) {
        let magic = bytes.iter().take(4).map(|b| format!("{b:02x}")).collect();
        return Verdict::Unknown { magic };
    }
    let mut first_section = None;
    let mut saw_linking = false;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = match payload {
            Ok(p) => p,
            Err(e) => {
                return Verdict::BrokenWasm {
                    error: e.to_string(),
                }
            }
        };
        match payload {
            Payload::Version { .. } => continue,
            Payload::CustomSection(c) if first_section.is_none() => match c.name() {
                "dylink.0" => return side_module_from_dylink0(&c),
                "dylink" => {
                    return Verdict::SideModule(SideModule {
                        legacy_dylink: true,
                        ..Default::default()
                    })
                }
                name => first_section = Some(format!("custom section {name:?}")),
            },
            Payload::CustomSection(c) if c.name() == "linking" => saw_linking = true,
            Payload::End(_) => break,
            other if first_section.is_none() => first_section = Some(section_name(&other)),
            _ => {}
        }
    }
    if saw_linking {
        Verdict::RelocatableObject
    } else {
        Verdict::WasmWithoutDylink {
            first_section: first_section.unwrap_or_else(|| "none (empty module)".into()),
        }
    }
}

fn side_module_from_dylink0(c: &wasmparser::CustomSectionReader<'_>) -> Verdict {
    let KnownCustom::Dylink0(reader) = c.as_known() else {
        return Verdict::SideModule(SideModule::default());
    };
    match read_dylink0(reader) {
        Ok(d) => Verdict::SideModule(SideModule {
            legacy_dylink: false,
            memory_size: d.memory_size,
            table_size: d.table_size,
            needed: d.needed,
        }),
        Err(e) => Verdict::BrokenWasm {
            error: format!("dylink.0 section: {e}"),
        },
    }
}

fn section_name(p: &Payload<'_>) -> String {
    let name = match p {
        Payload::TypeSection(_) => "type",
        Payload::ImportSection(_) => "import",
        Payload::FunctionSection(_) => "function",
        Payload::TableSection(_) => "table",
        Payload::MemorySection(_) => "memory",
        Payload::GlobalSection(_) => "global",
        Payload::ExportSection(_) => "export",
        Payload::StartSection { .. } => "start",
        Payload::ElementSection(_) => "element",
        Payload::DataCountSection { .. } => "data count",
        Payload::DataSection(_) => "data",
        Payload::CodeSectionStart { .. } => "code",
        _ => "another",
    };
    format!("the {name} section")
}

impl Verdict {
    /// `None` for a side module, else why the member cannot load and what
    /// probably caused it.
    pub fn problem(&self, member: &str) -> Option<String> {
        Some(match self {
            Verdict::SideModule(_) => return None,
            Verdict::NativeElf => format!(
                "member {member} is a native ELF shared object: the link was not rewritten \
                 (was libpyrewrite.so preloaded? did the build call a linker pyrewrite does not \
                 recognise?)"
            ),
            Verdict::RelocatableObject => format!(
                "member {member} is a wasm relocatable object, not a side module: it was linked \
                 without -sSIDE_MODULE=1 (plain `emcc -shared` emits an object file)"
            ),
            Verdict::WasmWithoutDylink { first_section } => format!(
                "member {member} is wasm but not a side module: its first section is \
                 {first_section}, not dylink.0 (linked without -sSIDE_MODULE=1?)"
            ),
            Verdict::BrokenWasm { error } => format!(
                "member {member} starts like wasm but does not parse ({error}); the file is \
                 truncated or damaged"
            ),
            Verdict::Unknown { magic } if magic.is_empty() => format!(
                "member {member} is an empty file: the link wrote nothing there \
                 (a build step that only pretended to link, or a failed link whose error was ignored)"
            ),
            Verdict::Unknown { magic } => format!(
                "member {member} is neither wasm nor ELF (first bytes {magic}); \
                 a side module starts with \\0asm"
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `\0asm` version 1 followed by `sections`.
    fn module(sections: &[u8]) -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        m.extend_from_slice(sections);
        m
    }

    /// A custom section (id 0) named `name` with `payload`.
    fn custom(name: &str, payload: &[u8]) -> Vec<u8> {
        let mut body = vec![name.len() as u8];
        body.extend_from_slice(name.as_bytes());
        body.extend_from_slice(payload);
        let mut s = vec![0, body.len() as u8];
        s.extend(body);
        s
    }

    #[test]
    fn emcc_side_module_reads_its_dylink0_metadata() {
        let Verdict::SideModule(m) = inspect(&super::super::fixtures::side_module()) else {
            panic!("emcc -sSIDE_MODULE=1 output not recognised");
        };
        assert!(!m.legacy_dylink);
        assert!(m.needed.is_empty());
    }

    #[test]
    fn dylink0_with_needed_libraries() {
        // subsection 2 (WASM_DYLINK_NEEDED): one entry "libz.so".
        let mut payload = vec![2, 9, 1, 7];
        payload.extend_from_slice(b"libz.so");
        let v = inspect(&module(&custom("dylink.0", &payload)));
        let Verdict::SideModule(m) = v else {
            panic!("{v:?}")
        };
        assert_eq!(m.needed, ["libz.so"]);
    }

    #[test]
    fn retag_and_verify_read_dylink0_with_one_reader() {
        // mem-info (1): memory 16, align 2, table 3, align 0; needed (2):
        // "libz.so"; import-info (4): env.weak_fn weak, env.strong_fn not.
        let mut payload = vec![1, 4, 16, 2, 3, 0, 2, 9, 1, 7];
        payload.extend_from_slice(b"libz.so");
        let mut info = vec![2];
        for (field, flags) in [("weak_fn", 1u8), ("strong_fn", 0)] {
            info.push(3);
            info.extend_from_slice(b"env");
            info.push(field.len() as u8);
            info.extend_from_slice(field.as_bytes());
            info.push(flags);
        }
        payload.push(4);
        payload.push(info.len() as u8);
        payload.extend_from_slice(&info);
        let bytes = module(&custom("dylink.0", &payload));
        let Verdict::SideModule(m) = inspect(&bytes) else {
            panic!("not a side module")
        };
        assert_eq!((m.memory_size, m.table_size), (16, 3));
        assert_eq!(m.needed, ["libz.so"]);
        let v = crate::verify::wasm::read_module(&bytes).unwrap();
        assert!(v.has_dylink);
        assert_eq!(v.needed, ["libz.so"]);
        assert_eq!(v.weak_imports.into_iter().collect::<Vec<_>>(), ["weak_fn"]);
    }

    #[test]
    fn legacy_dylink_is_accepted_as_pyodide_does() {
        let v = inspect(&module(&custom("dylink", &[0, 0, 0, 0, 0])));
        assert_eq!(
            v,
            Verdict::SideModule(SideModule {
                legacy_dylink: true,
                ..Default::default()
            })
        );
        assert_eq!(v.problem("m.so"), None);
    }

    #[test]
    fn dylink_must_be_the_first_section() {
        // A type section (one `() -> ()` type), then dylink.0.
        let mut bytes = module(&[1, 4, 1, 0x60, 0, 0]);
        bytes.extend(custom("dylink.0", &[]));
        let v = inspect(&bytes);
        assert_eq!(
            v,
            Verdict::WasmWithoutDylink {
                first_section: "the type section".into()
            }
        );
        assert!(v
            .problem("m.so")
            .unwrap()
            .contains("first section is the type section"));
    }

    #[test]
    fn objects_elf_and_garbage_are_told_apart() {
        let obj = inspect(&super::super::fixtures::relocatable_object());
        assert_eq!(obj, Verdict::RelocatableObject);
        assert_eq!(
            inspect(&super::super::fixtures::elf_shared_object()),
            Verdict::NativeElf
        );
        assert!(matches!(inspect(b"MZ\x90\0"), Verdict::Unknown { .. }));
        assert!(inspect(b"")
            .problem("e.so")
            .unwrap()
            .contains("e.so is an empty file"));
        assert!(matches!(
            inspect(b"\0asm\x01\0\0\0\x00\x7f"),
            Verdict::BrokenWasm { .. }
        ));
    }
}
