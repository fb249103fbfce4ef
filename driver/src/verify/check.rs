//! Resolving one side module's imports the way Emscripten's dynamic loader
//! (3.1.x `loadWebAssemblyModule`) does, and explaining what does not resolve.
//!
//! The loader's rules, as read from Pyodide 0.23.4's `pyodide.asm.js`:
//! - `env`/`wasi_snapshot_preview1` imports: `__memory_base`/`__table_base` come
//!   from the loader; any name in the JS import object (`wasmImports`: JS library
//!   functions, `memory`, `__stack_pointer`, `__indirect_function_table`, and the
//!   main module's exports merged in) is passed as is, so a wasm export with a
//!   different type is a LinkError at instantiation; JS functions have no wasm type
//!   and accept anything. Names the loader creates on demand (`invoke_*`,
//!   `__cxa_find_matching_catch_N`: read from the runtime's own
//!   `resolveGlobalSymbol`, see `loader.rs`) resolve too. Any other name becomes
//!   a lazy stub: the module loads and the first call throws.
//! - `GOT.mem`/`GOT.func` entries are filled from exported symbols after
//!   instantiation; a missing non-weak one throws at dlopen (`bad export type`).

use super::abi::{self, EmVersion};
use super::report::{Cause, Finding, Kind as FindingKind, Severity};
use super::runtime::{Runtime, LOADER_PROVIDED};
use super::wasm::{FuncSig, Import, Kind, ModuleInfo};
use wasmparser::ValType;

/// Other shared libraries whose exports count as provided (same wheel, `--with`
/// wheels, libraries shipped with the runtime), with a label for messages.
pub struct Library<'a> {
    pub label: String,
    /// File name, matched against other modules' `dylink.0` needed entries.
    pub file_name: String,
    pub info: &'a ModuleInfo,
}

/// What verify knows or assumed about the module's and the runtime's ABI.
pub struct AbiContext {
    pub module_time_t_bits: Option<u32>,
    pub module_version: Option<EmVersion>,
    /// How `module_time_t_bits` was determined, for messages.
    pub module_source: String,
    pub runtime_time_t_bits: Option<u32>,
    pub runtime_version: Option<EmVersion>,
    pub runtime_label: String,
}

/// Where a symbol came from.
enum Provider<'a> {
    Loader,
    Js,
    /// Created by the loader when first needed (a JS function, untyped).
    OnDemand,
    Wasm {
        kind: &'a Kind,
        from: String,
    },
    Own,
}

pub fn check_module(
    info: &ModuleInfo,
    runtime: &Runtime,
    libs: &[Library<'_>],
    abi: &AbiContext,
) -> Vec<Finding> {
    if !info.has_dylink {
        return vec![not_side_module(
            "it has no dylink.0 section: it was linked as a program or a plain wasm \
             module, not as an Emscripten side module",
        )];
    }
    let mut findings = Vec::new();
    for needed in &info.needed {
        let base = needed.rsplit('/').next().unwrap_or(needed);
        if !libs.iter().any(|l| l.file_name == base) {
            findings.push(missing_needed(needed));
        }
    }
    for import in &info.imports {
        let weak = info.weak_imports.contains(&import.name);
        match import.module.as_str() {
            "env" | "wasi_snapshot_preview1" => {
                check_env(import, weak, info, runtime, libs, abi, &mut findings)
            }
            "GOT.mem" | "GOT.func" => {
                let found = find(&import.name, info, runtime, libs).is_some();
                if !found && !weak {
                    findings.push(missing_got(import, runtime));
                }
            }
            other => findings.push(Finding {
                severity: Severity::Error,
                kind: FindingKind::MissingSymbol,
                cause: Cause::NotProvided,
                import_module: other.into(),
                symbol: import.name.clone(),
                imported: None,
                provided: None,
                library: None,
                message: format!(
                    "`{other}.{}` is imported from module `{other}`, which Emscripten's loader \
                     does not provide: loading fails",
                    import.name
                ),
                next_step: "rebuild with emcc as a side module (-sSIDE_MODULE=1)".into(),
            }),
        }
    }
    findings
}

fn find<'a>(
    name: &str,
    info: &'a ModuleInfo,
    runtime: &'a Runtime,
    libs: &'a [Library<'a>],
) -> Option<Provider<'a>> {
    if LOADER_PROVIDED.contains(&name) {
        return Some(Provider::Loader);
    }
    // JS symbols win over wasm exports: `mergeLibSymbols` never replaces a
    // symbol already in the import object.
    if runtime.js_symbols.contains(name) {
        return Some(Provider::Js);
    }
    if let Some(kind) = runtime.main_exports.get(name) {
        return Some(Provider::Wasm {
            kind,
            from: "the runtime's main module".into(),
        });
    }
    for lib in libs {
        if let Some(kind) = lib.info.exports.get(name) {
            return Some(Provider::Wasm {
                kind,
                from: lib.label.clone(),
            });
        }
    }
    // `resolveGlobalSymbol` looks at the import object (JS, the main module's
    // and global libraries' exports) first, then at its on-demand rules.
    let defined = |n: &str| runtime.js_symbols.contains(n) || runtime.main_exports.contains_key(n);
    if runtime.loader.resolves(name, defined).is_some() {
        return Some(Provider::OnDemand);
    }
    info.exports.contains_key(name).then_some(Provider::Own)
}

fn check_env(
    import: &Import,
    weak: bool,
    info: &ModuleInfo,
    runtime: &Runtime,
    libs: &[Library<'_>],
    abi: &AbiContext,
    findings: &mut Vec<Finding>,
) {
    let provider = find(&import.name, info, runtime, libs);
    let Kind::Func(sig) = &import.kind else {
        if provider.is_none() && !weak {
            findings.push(missing_data(import));
        }
        return;
    };
    match provider {
        None if weak => findings.push(missing_function(
            import,
            Severity::Warning,
            abi.runtime_version,
            &runtime.loader.call_error(&import.name),
        )),
        None => findings.push(missing_function(
            import,
            Severity::Error,
            abi.runtime_version,
            &runtime.loader.call_error(&import.name),
        )),
        Some(Provider::Wasm {
            kind: Kind::Func(provided),
            from,
        }) if provided != sig => {
            findings.push(mismatch(import, sig, provided, &from, info, abi, false));
            return;
        }
        Some(Provider::Js) => {
            let declared = runtime
                .js_sigs
                .get(&import.name)
                .and_then(|s| sig_from_js(s));
            // A declared void result the definition does not honour: the JS
            // returns a value, and the parameters match.
            let void_decl_wrong = |p: &FuncSig| {
                p.params == sig.params
                    && p.results.is_empty()
                    && runtime.js_void_returning.contains(&import.name)
            };
            if let Some(provided) = declared.filter(|p| p != sig && !void_decl_wrong(p)) {
                let from = "the runtime's JS library";
                findings.push(mismatch(import, sig, &provided, from, info, abi, true));
                return;
            }
        }
        Some(Provider::Wasm { kind, from }) if !matches!(kind, Kind::Func(_)) => {
            findings.push(Finding {
                severity: Severity::Error,
                kind: FindingKind::SignatureMismatch,
                cause: Cause::DifferentPrototype,
                import_module: import.module.clone(),
                symbol: import.name.clone(),
                imported: Some(sig.to_string()),
                provided: Some(format!("{kind:?}").to_lowercase()),
                library: None,
                message: format!(
                    "`{}` is imported as a function but {from} exports it as a {}: LinkError at load",
                    import.name,
                    format!("{kind:?}").to_lowercase()
                ),
                next_step: format!("check the declaration of `{}` the extension uses", import.name),
            });
            return;
        }
        Some(_) => {}
    }
    if let Some(w) = layout_warning(import, abi) {
        findings.push(w);
    }
}

/// A time_t-holding struct crosses the boundary and the two sides disagree on
/// its width: nothing in the signature shows it.
fn layout_warning(import: &Import, abi: &AbiContext) -> Option<Finding> {
    let name = import.name.as_str();
    let (Some(m), Some(r)) = (abi.module_time_t_bits, abi.runtime_time_t_bits) else {
        return None;
    };
    if m == r || !(abi::TIME_T_LAYOUT.contains(&name) || abi::TIME_T_BY_VALUE.contains(&name)) {
        return None;
    }
    Some(Finding {
        severity: Severity::Warning,
        kind: FindingKind::AbiLayout,
        cause: Cause::TimeTWidth,
        import_module: import.module.clone(),
        symbol: name.into(),
        imported: None,
        provided: None,
        library: None,
        message: format!(
            "`{name}` passes a time_t or a struct holding one (struct stat, timespec, timeval, tm); \
             time_t is {m}-bit in the module ({}) and {r}-bit in {}: it loads, but the fields \
             are read at the wrong offsets, silently",
            abi.module_source, abi.runtime_label
        ),
        next_step: format!(
            "build with an Emscripten whose time_t is {r}-bit too (>= {} for 64-bit; best: the runtime's {})",
            abi::TIME_T_64_SINCE,
            version_or(abi.runtime_version)
        ),
    })
}

fn mismatch(
    import: &Import,
    imported: &FuncSig,
    provided: &FuncSig,
    from: &str,
    info: &ModuleInfo,
    abi: &AbiContext,
    js: bool,
) -> Finding {
    let name = import.name.as_str();
    let time_fit = differs_only_in_int_width(imported, provided);
    let bigint_fit = legalize(provided) == *imported;
    let time_symbol = abi::TIME_T_BY_VALUE.contains(&name);
    let cause = match (time_fit && time_symbol, bigint_fit) {
        // Both explain it (e.g. `time` returning i32): the module's own
        // legalization helpers tell which one happened.
        (true, true) if info.shows_i64_legalization() => Cause::MissingWasmBigint,
        (true, _) => Cause::TimeTWidth,
        (false, true) => Cause::MissingWasmBigint,
        (false, false) => Cause::DifferentPrototype,
    };
    let head = format!("`{name}` is imported as {imported} but {from} exports {provided}");
    let (why, next_step) = match cause {
        Cause::TimeTWidth => (
            format!(
                "time_t is {} in the module ({}) and {} in {}",
                abi.module_time_t_bits
                    .map_or("32-bit".into(), |b| format!("{b}-bit")),
                abi.module_source,
                abi.runtime_time_t_bits
                    .map_or("64-bit".into(), |b| format!("{b}-bit")),
                abi.runtime_label
            ),
            format!(
                "build with an Emscripten whose time_t matches the runtime's (64-bit from {}; best: the runtime's {})",
                abi::TIME_T_64_SINCE,
                version_or(abi.runtime_version)
            ),
        ),
        Cause::MissingWasmBigint => (
            "the module was linked without -sWASM_BIGINT, so each i64 was split into two i32 \
             (and an i64 result into i32 + getTempRet0)"
                .to_string(),
            "link the extension with -sWASM_BIGINT (pyrewrite's rewrite adds it to every shared \
             link; a link that bypassed it, or a hand-made one, lacks it)"
                .to_string(),
        ),
        _ => (
            format!("the module was compiled against a different declaration of `{name}`"),
            format!(
                "check which header declares `{name}` for the build; it must match the runtime's \
                 libc/CPython ({})",
                abi.runtime_label
            ),
        ),
    };
    // JS functions are not type-checked when the module is instantiated: it
    // loads, and the values arrive in the wrong parameters.
    let (severity, outcome) = if js {
        (
            Severity::Warning,
            "it loads (JS functions are untyped at link time), but the call passes \
             its arguments wrongly",
        )
    } else {
        (Severity::Error, "loading fails with a LinkError")
    };
    Finding {
        severity,
        kind: FindingKind::SignatureMismatch,
        cause,
        import_module: import.module.clone(),
        symbol: name.into(),
        imported: Some(imported.to_string()),
        provided: Some(provided.to_string()),
        library: None,
        message: format!("{head}: {why}; {outcome}"),
        next_step,
    }
}

/// A wasm type from an Emscripten signature string (`"iijp"`: result first;
/// `p` is a pointer, i32 on wasm32). None for letters verify does not know.
fn sig_from_js(s: &str) -> Option<FuncSig> {
    let ty = |c: char| match c {
        'i' | 'p' => Some(ValType::I32),
        'j' => Some(ValType::I64),
        'f' => Some(ValType::F32),
        'd' => Some(ValType::F64),
        _ => None,
    };
    let mut chars = s.chars();
    let results = match chars.next()? {
        'v' => vec![],
        c => vec![ty(c)?],
    };
    let params = chars.map(ty).collect::<Option<Vec<_>>>()?;
    Some(FuncSig { params, results })
}

/// Same arity, and every difference is i32 vs i64 (a changed integer typedef).
fn differs_only_in_int_width(a: &FuncSig, b: &FuncSig) -> bool {
    let same = |x: &[ValType], y: &[ValType]| {
        x.len() == y.len()
            && x.iter().zip(y).all(|(p, q)| {
                p == q
                    || matches!(
                        (p, q),
                        (ValType::I32, ValType::I64) | (ValType::I64, ValType::I32)
                    )
            })
    };
    same(&a.params, &b.params) && same(&a.results, &b.results)
}

/// The type a non-BIGINT module imports for `sig`: i64 params become two i32,
/// an i64 result becomes i32 (the high half goes through getTempRet0).
fn legalize(sig: &FuncSig) -> FuncSig {
    let mut params = Vec::new();
    for p in &sig.params {
        match p {
            ValType::I64 => params.extend([ValType::I32, ValType::I32]),
            other => params.push(*other),
        }
    }
    let results = sig
        .results
        .iter()
        .map(|r| if *r == ValType::I64 { ValType::I32 } else { *r })
        .collect();
    FuncSig { params, results }
}

fn missing_function(
    import: &Import,
    severity: Severity,
    abi_runtime_version: Option<EmVersion>,
    call_error: &str,
) -> Finding {
    let name = &import.name;
    let library = abi::library_of(name);
    let weak_note = if severity == Severity::Warning {
        "; it is a weak import, so this is fine if the code checks its address before \
         calling it (the usual pattern: the address is 0)"
    } else {
        ""
    };
    let (cause, message, next_step) = match library {
        Some(lib) => (
            Cause::MissingLibrary,
            format!(
                "`{name}` belongs to {lib}, which neither the runtime nor any shared library given \
                 provides: the module loads, and the first call to `{name}` fails{weak_note}"
            ),
            if lib == abi::LIBCXX && crate::target_cmd::bridged_by_cxx_compat(name) {
                "regenerate the target profile with `pyrewrite target from-pyodide` (it adds \
                 the libc++ compat object that defines this helper) and rebuild"
                    .to_string()
            } else if lib == abi::LIBCXX {
                format!(
                    "build with the runtime's Emscripten ({}), whose libc++ the runtime exports",
                    version_or(abi_runtime_version)
                )
            } else {
                format!(
                    "build {lib} with emcc and link it statically into the extension, or ship \
                     it as a wasm shared library and pass its wheel with --with"
                )
            },
        ),
        None => (
            Cause::NotProvided,
            format!(
                "`{name}` is not provided by the runtime (wasm exports or JS library) nor by any \
                 shared library given: the module loads, and the first call to `{name}` fails \
                 ({call_error}){weak_note}"
            ),
            "link the library that defines it into the extension, or ship it in the wheel / pass \
             its wheel with --with"
                .to_string(),
        ),
    };
    Finding {
        severity,
        kind: FindingKind::MissingSymbol,
        cause,
        import_module: import.module.clone(),
        symbol: name.clone(),
        imported: match &import.kind {
            Kind::Func(s) => Some(s.to_string()),
            _ => None,
        },
        provided: None,
        library: library.map(String::from),
        message,
        next_step,
    }
}

fn missing_data(import: &Import) -> Finding {
    Finding {
        severity: Severity::Error,
        kind: FindingKind::MissingData,
        cause: Cause::NotProvided,
        import_module: import.module.clone(),
        symbol: import.name.clone(),
        imported: None,
        provided: None,
        library: None,
        message: format!(
            "`{}.{}` ({:?}) is provided by nobody: instantiation fails at load",
            import.module, import.name, import.kind
        ),
        next_step: "rebuild as an Emscripten side module with the runtime's emcc".into(),
    }
}

fn missing_got(import: &Import, runtime: &Runtime) -> Finding {
    let what = if import.module == "GOT.mem" {
        "data symbol"
    } else {
        "function (its address is taken)"
    };
    let library = abi::library_of(&import.name);
    Finding {
        severity: Severity::Error,
        kind: FindingKind::MissingData,
        cause: if library.is_some() {
            Cause::MissingLibrary
        } else {
            Cause::NotProvided
        },
        import_module: import.module.clone(),
        symbol: import.name.clone(),
        imported: None,
        provided: None,
        library: library.map(String::from),
        message: format!(
            "{what} `{}` ({}) is exported by nobody ({} nor any shared library given): \
             dlopen fails at load (\"bad export type for `{}`: undefined\"), or, loaded as a \
             package dependency, the address stays 0",
            import.name,
            import.module,
            runtime.dist_dir.display(),
            import.name
        ),
        next_step: match library {
            Some(lib) => format!("link {lib} into the extension, or pass its wheel with --with"),
            None => {
                "link the library that defines it into the extension, or pass its wheel with --with"
                    .into()
            }
        },
    }
}

fn missing_needed(needed: &str) -> Finding {
    Finding {
        severity: Severity::Error,
        kind: FindingKind::MissingNeeded,
        cause: Cause::MissingLibrary,
        import_module: String::new(),
        symbol: needed.into(),
        imported: None,
        provided: None,
        library: Some(needed.into()),
        message: format!(
            "the module needs shared library `{needed}` (dylink.0), which is neither in the \
             wheel, nor in a --with wheel, nor shipped with the runtime: loading fails"
        ),
        next_step: format!(
            "ship `{needed}` in the wheel, or pass the wheel that has it with --with"
        ),
    }
}

fn not_side_module(why: &str) -> Finding {
    Finding {
        severity: Severity::Error,
        kind: FindingKind::NotSideModule,
        cause: Cause::NativeBuild,
        import_module: String::new(),
        symbol: String::new(),
        imported: None,
        provided: None,
        library: None,
        message: format!("not loadable as an extension: {why}"),
        next_step: "rebuild with `pyrewrite run -- pip wheel .` (emcc -sSIDE_MODULE=1)".into(),
    }
}

/// A member that could not be parsed as wasm at all.
pub fn unreadable(why: &str) -> Finding {
    not_side_module(why)
}

fn version_or(v: Option<EmVersion>) -> String {
    v.map_or("version".into(), |v| v.to_string())
}

/// The time_t width a module's own imports reveal: `time`/`mktime`/`timegm`
/// return time_t, `difftime` takes two. Ambiguous if i64 was legalized.
pub fn time_t_bits_from_imports(info: &ModuleInfo) -> Option<(u32, &'static str)> {
    if info.shows_i64_legalization() {
        return None;
    }
    for import in &info.imports {
        let Kind::Func(sig) = &import.kind else {
            continue;
        };
        let ty = match import.name.as_str() {
            "time" => sig.results.first(),
            "mktime" => sig.results.first(),
            "timegm" => sig.results.first(),
            "difftime" => sig.params.first(),
            _ => continue,
        };
        let name: &'static str = abi::TIME_T_BY_VALUE
            .iter()
            .find(|n| **n == import.name)
            .copied()
            .unwrap_or("time");
        match ty {
            Some(ValType::I32) => return Some((32, name)),
            Some(ValType::I64) => return Some((64, name)),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(p: &[ValType], r: &[ValType]) -> FuncSig {
        FuncSig {
            params: p.to_vec(),
            results: r.to_vec(),
        }
    }

    #[test]
    fn legalization_splits_i64() {
        use ValType::*;
        let lseek = sig(&[I32, I64, I32], &[I64]);
        assert_eq!(legalize(&lseek), sig(&[I32, I32, I32, I32], &[I32]));
        assert!(!differs_only_in_int_width(&legalize(&lseek), &lseek));
        assert!(differs_only_in_int_width(
            &sig(&[I32], &[I32]),
            &sig(&[I32], &[I64])
        ));
    }

    #[test]
    fn emscripten_sig_strings() {
        use ValType::*;
        assert_eq!(sig_from_js("iijp"), Some(sig(&[I32, I64, I32], &[I32])));
        assert_eq!(sig_from_js("v"), Some(sig(&[], &[])));
        assert_eq!(sig_from_js("dfd"), Some(sig(&[F32, F64], &[F64])));
        assert_eq!(sig_from_js("x"), None);
    }
}
