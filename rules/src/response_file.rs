//! Response files (`@file`): how their contents are read and how the
//! rewritten copy is written and named.
//!
//! | rule | why |
//! |---|---|
//! | read with GCC's rules (whitespace separates; `'…'`, `"…"` quote; `\` escapes the next byte, also inside quotes) | the file was written for gcc/clang by the build (meson, ninja, cmake) |
//! | write one argument per line, bare when it only has safe bytes, else `'…'` with `'` as `'\''` | emcc reads response files with Python's `shlex.split` (POSIX), where `\` inside `'…'` is literal |
//! | copy at `<original>.pyrewrite-<16 hex digits>.rsp` | next to the original (same relative meaning from the same cwd), never overwriting it; the digits are the FNV-1a 64 hash of the new contents, so the same rewrite always lands on the same name and different rewrites never collide |
//! | unreadable `@file` stays as it is | the compiler reports the missing file itself, with its own words |
//! | `@file` inside a response file is not followed | meson, ninja and cmake never nest them; emcc still expands it itself |

use crate::prelude::*;
/// Split response-file text into arguments, the way GCC (libiberty `buildargv`) does.
pub fn parse(text: &[u8]) -> Vec<Vec<u8>> {
    let mut args = Vec::new();
    let mut current = Vec::new();
    let mut in_arg = false;
    let (mut single, mut double, mut escaped) = (false, false, false);
    for &b in text {
        if escaped {
            current.push(b);
            escaped = false;
            in_arg = true;
        } else if b == b'\\' {
            escaped = true;
            in_arg = true;
        } else if single {
            if b == b'\'' {
                single = false;
            } else {
                current.push(b);
            }
        } else if double {
            if b == b'"' {
                double = false;
            } else {
                current.push(b);
            }
        } else if b.is_ascii_whitespace() {
            if in_arg {
                args.push(core::mem::take(&mut current));
                in_arg = false;
            }
        } else if b == b'\'' {
            single = true;
            in_arg = true;
        } else if b == b'"' {
            double = true;
            in_arg = true;
        } else {
            current.push(b);
            in_arg = true;
        }
    }
    if in_arg {
        args.push(current);
    }
    args
}

/// Write arguments so that both emcc (`shlex.split`) and GCC read them back unchanged,
/// as long as they contain no backslash inside quotes (see the module table).
pub fn serialize(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for arg in args {
        quote_word(arg, &mut out);
        out.push(b'\n');
    }
    out
}

/// Appends `arg` as a POSIX shell (and `shlex.split`) reads it back as one
/// word: bare when it only has safe bytes, else `'…'` with `'` as `'\''`.
/// The one quoting of the project: response files, `pyrewrite explain`,
/// commands shown in the driver's messages.
pub fn quote_word(arg: &[u8], out: &mut Vec<u8>) {
    let safe = !arg.is_empty()
        && arg
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"-_=/.,:+@%^".contains(&b));
    if safe {
        out.extend_from_slice(arg);
        return;
    }
    out.push(b'\'');
    for &b in arg {
        if b == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
}

/// Where the rewritten copy of `original` with `contents` goes.
pub fn copy_path(original: &[u8], contents: &[u8]) -> Vec<u8> {
    let mut path = original.to_vec();
    path.extend_from_slice(format!(".pyrewrite-{:016x}.rsp", fnv1a64(contents)).as_bytes());
    path
}

/// FNV-1a, 64 bit: tiny, stable across versions and platforms, good enough to
/// tell two rewrites of one file apart.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: &[Vec<u8>]) -> Vec<String> {
        v.iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect()
    }

    #[test]
    fn parses_gcc_quoting() {
        let got = parse(b"-c  'a b.c'\n\"-DX=\\\"y\\\"\" back\\ slash -I/x\r\n''");
        assert_eq!(
            strs(&got),
            ["-c", "a b.c", "-DX=\"y\"", "back slash", "-I/x", ""]
        );
        assert!(parse(b"").is_empty());
        assert!(parse(b" \n\t ").is_empty());
    }

    #[test]
    fn serialize_round_trips() {
        let args: Vec<Vec<u8>> = ["-c", "a b.c", "it's", "-DX=\"y\"", "", "plain-1.o"]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
        let text = serialize(&args);
        assert_eq!(parse(&text), args);
        assert!(String::from_utf8_lossy(&text).starts_with("-c\n'a b.c'\n'it'\\''s'\n"));
    }

    #[test]
    fn copy_path_is_deterministic_and_content_addressed() {
        let a = copy_path(b"obj/x.rsp", b"one");
        assert_eq!(a, copy_path(b"obj/x.rsp", b"one"));
        assert_ne!(a, copy_path(b"obj/x.rsp", b"two"));
        let s = String::from_utf8(a).unwrap();
        assert!(s.starts_with("obj/x.rsp.pyrewrite-") && s.ends_with(".rsp"));
        assert_eq!(s.len(), "obj/x.rsp.pyrewrite-".len() + 16 + 4);
    }
}
