//! What the runtime's dynamic loader resolves *beyond* its import object,
//! read from the runtime's own JS glue (`pyodide.asm.js`).
//!
//! Emscripten's loader creates some symbols on demand when a side module asks
//! for them: `invoke_<sig>` trampolines (C++ exceptions and longjmp) and, from
//! 3.1.4x, `__cxa_find_matching_catch_<N>` for any N; 3.1.32 instead renames
//! every `__cxa_find_matching_catch_<N>` to `__cxa_find_matching_catch`. Which
//! names, and how, changes between Emscripten versions, so a table per version
//! would be wrong for the next release. Every version does it in one function,
//! `resolveGlobalSymbol`, as `symName.startsWith("PREFIX")` branches: this reads
//! those branches, so verify models exactly the loader that will run.
//!
//! Also read from the glue: what the lazy stub of an unresolved function throws
//! on its first call (it differs between versions), for the report's messages.

/// One `startsWith` branch of `resolveGlobalSymbol`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnDemand {
    /// `if(symName.startsWith(P)){sym=wasmImports[symName]=…}`: any name with
    /// this prefix is created by the loader (a JS function, untyped).
    Generated { prefix: String },
    /// `if(symName.startsWith(P)){symName="T"}`: the name is looked up as `T`.
    Alias { prefix: String, target: String },
}

impl std::fmt::Display for OnDemand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OnDemand::Generated { prefix } => write!(f, "{prefix}* (generated)"),
            OnDemand::Alias { prefix, target } => write!(f, "{prefix}* (as {target})"),
        }
    }
}

/// The loader's on-demand rules and where they came from.
#[derive(Debug, Clone)]
pub struct LoaderRules {
    pub on_demand: Vec<OnDemand>,
    /// Where `on_demand` came from, for the report.
    pub source: String,
    /// What the first call of a function nobody provides throws in this runtime.
    pub unresolved_call_error: String,
}

/// The stub of Emscripten 3.1.32 calls `resolved.apply` on `undefined`.
const TYPE_ERROR: &str = "TypeError: Cannot read properties of undefined (reading 'apply')";
/// From about 3.1.40 the stub says what it could not resolve.
const DYNAMIC_LINKING_ERROR: &str = "Dynamic linking error: cannot resolve symbol";

impl LoaderRules {
    /// Rules read from the JS glue `js`, or the fallback when `js` has no
    /// `resolveGlobalSymbol` this parser understands.
    pub fn from_glue(js: &str, file: &str) -> LoaderRules {
        let unresolved_call_error = if js.contains(DYNAMIC_LINKING_ERROR) {
            format!("Error: {DYNAMIC_LINKING_ERROR} NAME")
        } else {
            TYPE_ERROR.to_string()
        };
        match parse_resolve_global_symbol(js) {
            Some(on_demand) if !on_demand.is_empty() => LoaderRules {
                on_demand,
                source: format!("resolveGlobalSymbol in {file}"),
                unresolved_call_error,
            },
            _ => LoaderRules {
                source: format!(
                    "assumed (no resolveGlobalSymbol with startsWith branches in {file})"
                ),
                unresolved_call_error,
                ..Self::fallback()
            },
        }
    }

    /// Without the glue: every Emscripten 3.x dynamic loader generates
    /// `invoke_*`; nothing else is assumed.
    pub fn fallback() -> LoaderRules {
        LoaderRules {
            on_demand: vec![OnDemand::Generated {
                prefix: "invoke_".into(),
            }],
            source: "assumed (no JS glue): invoke_* only".into(),
            unresolved_call_error: TYPE_ERROR.into(),
        }
    }

    /// The rule that makes `name` resolve, if any; `defined` says whether a
    /// name is in the runtime's import object (an alias needs its target).
    pub fn resolves(&self, name: &str, defined: impl Fn(&str) -> bool) -> Option<&OnDemand> {
        self.on_demand.iter().find(|rule| match rule {
            OnDemand::Generated { prefix } => name.starts_with(prefix.as_str()),
            OnDemand::Alias { prefix, target } => {
                name.starts_with(prefix.as_str()) && defined(target)
            }
        })
    }

    /// The error text for a call of `name` that nothing resolves.
    pub fn call_error(&self, name: &str) -> String {
        self.unresolved_call_error.replace("NAME", name)
    }
}

/// The `startsWith` branches of `resolveGlobalSymbol`'s body, in order.
fn parse_resolve_global_symbol(js: &str) -> Option<Vec<OnDemand>> {
    let start = [
        "function resolveGlobalSymbol(",
        "var resolveGlobalSymbol=(",
        "var resolveGlobalSymbol = (",
    ]
    .iter()
    .find_map(|pat| js.find(pat))?;
    let body = braced(&js[start..])?;
    let mut rules = Vec::new();
    let pat = ".startsWith(\"";
    let mut rest = body;
    while let Some(at) = rest.find(pat) {
        rest = &rest[at + pat.len()..];
        let Some(end) = rest.find('"') else { break };
        let prefix = rest[..end].to_string();
        rest = &rest[end..];
        let Some(block) = braced(rest) else { break };
        let inner = block[1..block.len() - 1].trim_start();
        let alias = ["symName=\"", "symName = \""]
            .iter()
            .find_map(|p| inner.strip_prefix(p))
            .and_then(|t| t.split('"').next());
        if let Some(target) = alias {
            rules.push(OnDemand::Alias {
                prefix,
                target: target.to_string(),
            });
        } else if inner.contains("wasmImports[symName]=")
            || inner.contains("wasmImports[symName] =")
        {
            rules.push(OnDemand::Generated { prefix });
        }
        rest = &rest[block.len()..];
    }
    Some(rules)
}

/// The first `{…}` block in `s` (braces counted; the loader's code has no
/// braces inside strings), including both braces; the slice starts at `{`.
fn braced(s: &str) -> Option<&str> {
    let open = s.find('{')?;
    let mut depth = 0usize;
    for (i, c) in s[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&s[open..open + i + 1]);
                }
            }
            _ => {}
        }
    }
    None
}

/// How far before its `.sig=` assignment a function's definition is looked
/// for: Emscripten emits the assignment right after the definition (and its
/// `Module[...]` export); the longest library functions are a few KiB.
const DEFINITION_WINDOW: usize = 64 * 1024;

/// Whether the JS function `ident`, defined last in `js` (the glue up to the
/// function's `.sig=` assignment, which follows its definition), returns a
/// value: an arrow function with an expression body, or a body with
/// `return <expr>`. Emscripten's declared `.sig` strings are occasionally
/// wrong about the result (3.1.46 declares `llvm_eh_typeid_for` as `"vp"`
/// while defining it as `type=>type`); the definition is what runs. `None`
/// when no definition is found near the end. Heuristic: a nested function's
/// `return` counts too.
pub fn returns_value(js: &str, ident: &str) -> Option<bool> {
    let mut start = js.len().saturating_sub(DEFINITION_WINDOW);
    while !js.is_char_boundary(start) {
        start -= 1;
    }
    let window = &js[start..];
    let whole = |at: usize| {
        let prev = window[..at].chars().next_back();
        !prev.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    };
    let var = format!("var {ident}=");
    let func = format!("function {ident}(");
    // The nearest whole-identifier definition of either form.
    let (at, def) = [&var, &func]
        .into_iter()
        .filter_map(|def| {
            window
                .rmatch_indices(def.as_str())
                .find(|(at, _)| whole(*at))
                .map(|(at, _)| (at, def))
        })
        .max_by_key(|(at, _)| *at)?;
    let rest = &window[at + def.len()..];
    if def == &func {
        return Some(has_value_return(braced(rest)?));
    }
    // `var f=(a,b)=>…` or `var f=a=>…`; anything else is not a function literal.
    let arrow = rest.find("=>")?;
    let head = &rest[..arrow];
    if head.contains(';') || head.contains('{') {
        return None;
    }
    let after = rest[arrow + 2..].trim_start();
    if !after.starts_with('{') {
        return Some(true);
    }
    Some(has_value_return(braced(after)?))
}

fn has_value_return(body: &str) -> bool {
    body.match_indices("return").any(|(i, _)| {
        let next = body[i + "return".len()..].chars().next();
        matches!(next, Some(c) if c != ';' && c != '}')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pyodide 0.23.4 (Emscripten 3.1.32), verbatim.
    const GLUE_3_1_32: &str = r#"function resolveGlobalSymbol(symName,direct=false){var sym;if(symName.startsWith("__cxa_find_matching_catch_")){symName="__cxa_find_matching_catch"}if(isSymbolDefined(symName)){sym=wasmImports[symName]}else if(symName.startsWith("invoke_")){sym=wasmImports[symName]=createInvokeFunction(symName.split("_")[1])}return{sym:sym,name:symName}}Module["resolveGlobalSymbol"]=resolveGlobalSymbol;"#;
    /// Pyodide 0.25.1 (Emscripten 3.1.46), verbatim.
    const GLUE_3_1_46: &str = r#"var resolveGlobalSymbol=(symName,direct=false)=>{var sym;if(isSymbolDefined(symName)){sym=wasmImports[symName]}else if(symName.startsWith("invoke_")){sym=wasmImports[symName]=Module.createInvoke(symName.split("_")[1])}else if(symName.startsWith("__cxa_find_matching_catch_")){sym=wasmImports[symName]=function(){var args=Array.from(arguments);var rtn=findMatchingCatch(args);return rtn}}return{sym:sym,name:symName}};stubs[prop]=function(){if(!resolved)resolved=resolveSymbol(prop);if(!resolved){throw new Error(`Dynamic linking error: cannot resolve symbol ${prop}`)}"#;

    #[test]
    fn reads_3_1_32_alias_and_invoke() {
        let r = LoaderRules::from_glue(GLUE_3_1_32, "pyodide.asm.js");
        assert_eq!(
            r.on_demand,
            [
                OnDemand::Alias {
                    prefix: "__cxa_find_matching_catch_".into(),
                    target: "__cxa_find_matching_catch".into()
                },
                OnDemand::Generated {
                    prefix: "invoke_".into()
                }
            ]
        );
        let defined = |n: &str| n == "__cxa_find_matching_catch";
        assert!(r.resolves("__cxa_find_matching_catch_7", defined).is_some());
        assert!(r
            .resolves("__cxa_find_matching_catch_7", |_| false)
            .is_none());
        assert!(r.resolves("invoke_viii", |_| false).is_some());
        assert!(r.resolves("_ZNSt3__24cout", |_| true).is_none());
        assert!(r.call_error("x").starts_with("TypeError"));
    }

    #[test]
    fn reads_3_1_46_generated_catch() {
        let r = LoaderRules::from_glue(GLUE_3_1_46, "pyodide.asm.js");
        assert_eq!(r.on_demand.len(), 2);
        assert!(r
            .resolves("__cxa_find_matching_catch_6", |_| false)
            .is_some());
        assert!(r.resolves("invoke_iii", |_| false).is_some());
        assert_eq!(
            r.call_error("foo"),
            "Error: Dynamic linking error: cannot resolve symbol foo"
        );
        assert!(r.source.starts_with("resolveGlobalSymbol"));
    }

    #[test]
    fn unknown_glue_falls_back_to_invoke_only_and_says_so() {
        let r = LoaderRules::from_glue("var x=1;", "g.js");
        assert!(r.source.starts_with("assumed"), "{}", r.source);
        assert!(r.resolves("invoke_v", |_| false).is_some());
        assert!(r
            .resolves("__cxa_find_matching_catch_3", |_| true)
            .is_none());
    }

    #[test]
    fn definitions_that_return_a_value() {
        let js = "var _a=type=>type;var _b=(x,y)=>{abort(\"no\")};\
                  function _c(p){if(p)return 3;return}var _d=()=>{return;};var _aa=1;";
        assert_eq!(returns_value(js, "_a"), Some(true));
        assert_eq!(returns_value(js, "_b"), Some(false));
        assert_eq!(returns_value(js, "_c"), Some(true));
        assert_eq!(returns_value(js, "_d"), Some(false));
        assert_eq!(returns_value(js, "_aa"), None);
        assert_eq!(returns_value(js, "_zz"), None);
        // Pyodide 0.25.1, verbatim: the glue up to the `.sig=` assignment.
        let glue = "var _llvm_eh_typeid_for=type=>type;\
                    Module[\"_llvm_eh_typeid_for\"]=_llvm_eh_typeid_for;";
        assert_eq!(returns_value(glue, "_llvm_eh_typeid_for"), Some(true));
        // Far before the assignment: not looked for.
        let far = format!("var _f=x=>x;{}", " ".repeat(DEFINITION_WINDOW));
        assert_eq!(returns_value(&far, "_f"), None);
    }
}
