//! Which members are shared objects, and what extension modules are called
//! on the target.
//!
//! CPython's importer (dynload_shlib) accepts, in order, `.{SOABI}.so`,
//! `.abi3.so` and `.so`. Measured in Pyodide 0.23.4:
//! `importlib.machinery.EXTENSION_SUFFIXES ==
//! ['.cpython-311-wasm32-emscripten.so', '.abi3.so', '.so']`.
//! So only a host SOABI suffix (`.cpython-311-x86_64-linux-gnu.so`) makes a
//! module unfindable and is renamed; `.abi3.so` and plain `.so` load as they
//! are and keep their names (an abi3 wheel stays recognisably abi3, and a
//! plain `.so` may be a library other code opens by that exact name).

/// How a member's name marks it as a shared object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharedObject {
    /// Already the target's `EXT_SUFFIX`.
    Target,
    /// A CPython SOABI suffix of another platform, e.g.
    /// `.cpython-311-x86_64-linux-gnu.so`; `version` is `311`.
    HostCpython { suffix: String, version: String },
    /// `.abi3.so`: the stable ABI; the target accepts it.
    Abi3,
    /// A suffix of another interpreter (`.pypy39-pp73-x86_64-linux-gnu.so`).
    OtherInterpreter { suffix: String },
    /// Plain `.so` or a versioned library (`libfoo.so.1`).
    Plain,
}

/// Classifies `name` if it is a shared object (`*.so` or `*.so.N[.M...]`).
pub fn classify(name: &str, target_ext_suffix: &str) -> Option<SharedObject> {
    if name.ends_with('/') {
        return None;
    }
    let base = name.rsplit('/').next().unwrap_or(name);
    if !base.ends_with(".so") {
        let (head, tail) = base.rsplit_once(".so.")?;
        let versioned = !head.is_empty()
            && tail
                .split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        return versioned.then_some(SharedObject::Plain);
    }
    if base == ".so" {
        return None;
    }
    if base.ends_with(target_ext_suffix) {
        return Some(SharedObject::Target);
    }
    if base.ends_with(".abi3.so") {
        return Some(SharedObject::Abi3);
    }
    // `stem.TAG.so`: the tag is the second-to-last dot component.
    let without = &base[..base.len() - 3];
    let Some((stem, tag)) = without.rsplit_once('.') else {
        return Some(SharedObject::Plain);
    };
    if stem.is_empty() {
        return Some(SharedObject::Plain);
    }
    if let Some(rest) = tag.strip_prefix("cpython-") {
        let version: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        if !version.is_empty() {
            return Some(SharedObject::HostCpython {
                suffix: format!(".{tag}.so"),
                version,
            });
        }
    }
    if tag.starts_with("pypy") || tag.starts_with("graalpy") {
        return Some(SharedObject::OtherInterpreter {
            suffix: format!(".{tag}.so"),
        });
    }
    Some(SharedObject::Plain)
}

/// The member's name on the target, if it must change.
pub fn target_name(name: &str, kind: &SharedObject, target_ext_suffix: &str) -> Option<String> {
    match kind {
        SharedObject::HostCpython { suffix, .. } => Some(format!(
            "{}{target_ext_suffix}",
            name.strip_suffix(suffix.as_str())?
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const T: &str = ".cpython-311-wasm32-emscripten.so";

    fn renamed(name: &str) -> Option<String> {
        let k = classify(name, T)?;
        target_name(name, &k, T)
    }

    #[test]
    fn host_soabi_suffix_is_renamed() {
        assert_eq!(
            renamed("pkg/_fast.cpython-311-x86_64-linux-gnu.so").as_deref(),
            Some("pkg/_fast.cpython-311-wasm32-emscripten.so")
        );
        assert_eq!(
            renamed("m.cpython-311-aarch64-linux-gnu.so").as_deref(),
            Some("m.cpython-311-wasm32-emscripten.so")
        );
    }

    #[test]
    fn accepted_suffixes_keep_their_names() {
        for name in [
            "pkg/_fast.abi3.so",
            "pkg/_plain.so",
            "pkg.libs/libz.so.1.2.13",
            "pkg/_fast.cpython-311-wasm32-emscripten.so",
        ] {
            assert!(classify(name, T).is_some(), "{name} not a shared object");
            assert_eq!(renamed(name), None, "{name}");
        }
    }

    #[test]
    fn non_shared_objects_are_ignored() {
        for name in [
            "pkg/so.py",
            "pkg/x.so.txt",
            "pkg/.so",
            "pkg/a.so/",
            "a.so.1a",
        ] {
            assert_eq!(classify(name, T), None, "{name}");
        }
    }

    #[test]
    fn classifies_versions_and_other_interpreters() {
        assert_eq!(
            classify("m.cpython-312-x86_64-linux-gnu.so", T),
            Some(SharedObject::HostCpython {
                suffix: ".cpython-312-x86_64-linux-gnu.so".into(),
                version: "312".into()
            })
        );
        assert!(matches!(
            classify("m.pypy39-pp73-x86_64-linux-gnu.so", T),
            Some(SharedObject::OtherInterpreter { .. })
        ));
    }
}
