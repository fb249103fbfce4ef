//! Linker options (`-Wl,a,b`, `-Xlinker a`, raw `ld` arguments) that wasm-ld
//! rejects or that make no sense for a Pyodide side module.
//!
//! Measured with emcc 3.1.6 / wasm-ld 14: the ones marked "rejected" fail the
//! link with `unknown argument`; the others are accepted but wrong here.
//!
//! | item | why it goes |
//! |---|---|
//! | `-rpath X`, `-rpath=X`, `-rpath-link X`, `-R X`, `-RX` | ELF run-time search path: rejected (`-R`) or ignored with a warning; Pyodide loads side modules itself |
//! | `-soname X`, `-h X` | ELF `DT_SONAME`: ignored with a warning |
//! | `--enable-new-dtags`, `--disable-new-dtags`, `--hash-style=*`, `--build-id*`, `--eh-frame-hdr`, `-z X`, `-zX` | ELF dynamic-section details: rejected |
//! | `--as-needed`, `--no-as-needed`, `-Bstatic`, `-Bdynamic`, `--copy-dt-needed-entries`, `--push-state`, `--pop-state` | ELF library-linking modes: rejected |
//! | `-Bsymbolic-functions` | ELF symbol binding (Debian's python3 adds it): rejected |
//! | `--version-script X`, `--dynamic-list X`, `--exclude-libs X` | ELF symbol versioning/visibility: ignored with a warning or rejected |
//! | `--no-undefined`, `-z defs`, `--no-allow-shlib-undefined`, `--allow-shlib-undefined` | a side module's undefined symbols are resolved when Pyodide loads it; forbidding them is wrong (and rejected) |
//! | `--strip-all`, `-s` | strips the wasm `target_features` section; stripping gains nothing for a side module |
//! | `-O1` (any `-ON`) | GNU ld's own optimisation level; emcc's `-O` is what counts |
//! | `--sort-common*`, `--sort-section=*`, `--warn-common`, `--icf=*`, `--gdb-index`, `--compress-debug-sections=*` | GNU ld layout options: rejected |
//! | `--sysroot=*`, `-dynamic-linker X`, `--no-dynamic-linker`, `-pie`, `-m EMULATION` | host executable layout and host system root |
//! | `-plugin X`, `-plugin-opt=*` | the host GCC's LTO plugin |
//! | `-Map X` | ignored with a warning and then fails the link |
//!
//! Everything else is kept: wasm-ld accepts `--start-group`, `--whole-archive`,
//! `--export-dynamic`, `--gc-sections`, `-Bsymbolic`, `-E`, `--fatal-warnings`,
//! and an unknown option fails loudly rather than silently.

use crate::prelude::*;
/// What happens to one linker item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkItem {
    Keep,
    /// Drop this item.
    Drop(&'static str),
    /// Drop this item and the one after it (its value).
    DropWithValue(&'static str),
}

const ELF_PATH: &str = "ELF run-time search path; Pyodide loads side modules itself";
const ELF_NAME: &str = "ELF soname; wasm side modules have none";
const ELF_DYNAMIC: &str = "ELF dynamic-section option; wasm-ld rejects it";
const ELF_LIBMODE: &str = "ELF library-linking mode; wasm-ld rejects it";
const ELF_SYMBOLS: &str = "ELF symbol binding/versioning; wasm-ld rejects or ignores it";
const UNDEFINED: &str =
    "a side module's undefined symbols are resolved when Pyodide loads it; they must be allowed";
const STRIP: &str = "stripping would remove the wasm target_features section; nothing to gain";
const LD_OPT: &str = "GNU ld optimisation level; emcc's own -O applies";
const GNU_LAYOUT: &str = "GNU ld layout option; wasm-ld rejects it";
const HOST_LAYOUT: &str = "host executable layout or system root";
const PLUGIN: &str = "the host GCC's LTO plugin";
const MAP: &str = "link map; wasm-ld does not support -Map";

// Matches and `if` chains rather than tables of string slices: see flags.rs
// (no pointers for the loader to relocate in every process).

/// Items that take the next item as their value and go with it.
fn with_value(item: &[u8]) -> Option<&'static str> {
    Some(match item {
        b"-rpath" | b"--rpath" | b"-rpath-link" | b"--rpath-link" | b"-R" => ELF_PATH,
        b"-soname" | b"--soname" | b"-h" => ELF_NAME,
        b"-z" => ELF_DYNAMIC,
        b"--version-script" | b"--dynamic-list" | b"--exclude-libs" => ELF_SYMBOLS,
        b"-dynamic-linker" | b"--dynamic-linker" | b"-m" | b"--sysroot" => HOST_LAYOUT,
        b"-plugin" | b"--plugin" | b"-plugin-opt" => PLUGIN,
        b"-Map" => MAP,
        b"-undefined" => UNDEFINED,
        _ => return None,
    })
}

/// Items dropped when equal to a pattern.
fn exact(item: &[u8]) -> Option<&'static str> {
    Some(match item {
        b"-Bsymbolic-functions" => ELF_SYMBOLS,
        b"-Bstatic"
        | b"-Bdynamic"
        | b"-dn"
        | b"-dy"
        | b"-call_shared"
        | b"-non_shared"
        | b"--as-needed"
        | b"--no-as-needed"
        | b"--copy-dt-needed-entries"
        | b"--no-copy-dt-needed-entries"
        | b"--push-state"
        | b"--pop-state" => ELF_LIBMODE,
        b"--enable-new-dtags" | b"--disable-new-dtags" | b"--eh-frame-hdr" => ELF_DYNAMIC,
        b"--no-undefined" | b"--allow-shlib-undefined" | b"--no-allow-shlib-undefined" => UNDEFINED,
        b"--strip-all" | b"-s" => STRIP,
        b"--warn-common" | b"--gdb-index" => GNU_LAYOUT,
        b"--no-dynamic-linker" | b"-pie" | b"--pie" | b"-no-pie" => HOST_LAYOUT,
        _ => return None,
    })
}

/// Items dropped when they start with a pattern (first match wins, in this order).
fn prefix(item: &[u8]) -> Option<&'static str> {
    let p = |prefix: &[u8]| item.starts_with(prefix);
    Some(if p(b"--hash-style") || p(b"--build-id") || p(b"-z") {
        ELF_DYNAMIC
    } else if p(b"-rpath=")
        || p(b"--rpath=")
        || p(b"-rpath-link=")
        || p(b"--rpath-link=")
        || p(b"-R")
    {
        ELF_PATH
    } else if p(b"-soname=") || p(b"--soname=") {
        ELF_NAME
    } else if p(b"--version-script=") || p(b"--dynamic-list=") || p(b"--exclude-libs=") {
        ELF_SYMBOLS
    } else if p(b"--sort-common")
        || p(b"--sort-section=")
        || p(b"--icf=")
        || p(b"--compress-debug-sections=")
    {
        GNU_LAYOUT
    } else if p(b"--sysroot=") || p(b"--dynamic-linker=") {
        HOST_LAYOUT
    } else if p(b"-plugin-opt=") || p(b"--plugin-opt=") {
        PLUGIN
    } else if p(b"-Map=") {
        MAP
    } else {
        return None;
    })
}

/// The fate of one linker item (`-Wl,` already split on commas).
pub(crate) fn linker_item(item: &[u8]) -> LinkItem {
    // Values and file names are decided by the option before them.
    if item.first() != Some(&b'-') {
        return LinkItem::Keep;
    }
    if let Some(why) = with_value(item) {
        return LinkItem::DropWithValue(why);
    }
    if let Some(why) = exact(item) {
        return LinkItem::Drop(why);
    }
    if is_ld_opt_level(item) {
        return LinkItem::Drop(LD_OPT);
    }
    if let Some(why) = prefix(item) {
        return LinkItem::Drop(why);
    }
    LinkItem::Keep
}

/// `-O0`, `-O1`, `-O2`… as GNU ld spells its own optimisation level.
fn is_ld_opt_level(item: &[u8]) -> bool {
    item.strip_prefix(b"-O")
        .is_some_and(|level| !level.is_empty() && level.iter().all(u8::is_ascii_digit))
}

/// Filters linker items, carrying a pending "drop the next value" across
/// arguments (`-Wl,-rpath -Wl,/x`, `-Xlinker -z -Xlinker defs`).
#[derive(Default)]
pub(crate) struct LinkerFilter {
    drop_next: Option<&'static str>,
}

impl LinkerFilter {
    /// Keep or drop one item; `Err(why)` when it goes.
    pub(crate) fn item(&mut self, item: &[u8]) -> Result<(), &'static str> {
        if let Some(why) = self.drop_next.take() {
            return Err(why);
        }
        match linker_item(item) {
            LinkItem::Keep => Ok(()),
            LinkItem::Drop(why) => Err(why),
            LinkItem::DropWithValue(why) => {
                self.drop_next = Some(why);
                Err(why)
            }
        }
    }

    /// Filter a `-Wl,a,b,c` argument: the kept items re-joined, or `None`
    /// when nothing is left. Dropped items are reported to `dropped`.
    pub(crate) fn wl_arg(
        &mut self,
        arg: &[u8],
        dropped: &mut dyn FnMut(&[u8], &'static str),
    ) -> Option<Vec<u8>> {
        let items = arg.strip_prefix(b"-Wl,").unwrap_or_default();
        let mut kept: Vec<&[u8]> = Vec::new();
        for item in items.split(|&b| b == b',') {
            match self.item(item) {
                Ok(()) => kept.push(item),
                Err(why) => dropped(item, why),
            }
        }
        if kept.is_empty() {
            return None;
        }
        if kept.len() == items.split(|&b| b == b',').count() {
            return Some(arg.to_vec());
        }
        let mut out = b"-Wl,".to_vec();
        out.extend_from_slice(&kept.join(&b","[..]));
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wl(args: &[&str]) -> Vec<String> {
        let mut f = LinkerFilter::default();
        args.iter()
            .filter_map(|a| f.wl_arg(a.as_bytes(), &mut |_, _| {}))
            .map(|a| String::from_utf8(a).unwrap())
            .collect()
    }

    #[test]
    fn drops_elf_items_and_keeps_the_rest() {
        assert_eq!(
            wl(&["-Wl,-O1", "-Wl,-Bsymbolic-functions"]),
            Vec::<String>::new()
        );
        assert_eq!(
            wl(&["-Wl,-rpath,/x,--export-dynamic"]),
            ["-Wl,--export-dynamic"]
        );
        assert_eq!(wl(&["-Wl,-rpath", "-Wl,/x", "-Wl,-E"]), ["-Wl,-E"]);
        assert_eq!(
            wl(&["-Wl,-z,defs", "-Wl,-zrelro,-znow"]),
            Vec::<String>::new()
        );
        assert_eq!(
            wl(&[
                "-Wl,--start-group",
                "-Wl,--whole-archive",
                "-Wl,-soname,libx.so.1"
            ]),
            ["-Wl,--start-group", "-Wl,--whole-archive"]
        );
        assert_eq!(
            wl(&["-Wl,--strip-all", "-Wl,--gc-sections"]),
            ["-Wl,--gc-sections"]
        );
        assert_eq!(wl(&["-Wl,-R/opt/lib", "-Wl,--Map=x"]), ["-Wl,--Map=x"]);
        assert_eq!(wl(&["-Wl,-Os"]), ["-Wl,-Os"]);
    }
}
