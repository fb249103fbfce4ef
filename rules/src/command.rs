//! What a compiler or binutil command does for the build — compile which
//! sources into which objects, link what, archive what — read by the same
//! code that decides its rewrite.
//!
//! The driver's session (progress, summary, `compile_commands.json`, the
//! completeness check) asks this instead of keeping flag tables of its own:
//! a flag the rules learn (`-MJ FILE`, `--param X`, `.CC`) is learnt for
//! both, and a compile whose flags sit in an `@file` is seen by both.
//!
//! | tool | step | read how |
//! |---|---|---|
//! | `cc`, `c++` | compile: `-c` with translation units (not with `-E`/`-M`) | `compiler::scan`, the rewrite's own reader, on argv with response files expanded |
//! | `cc`, `c++` | link: inputs (an `@file` left unread is none) and none of `-c -S -fsyntax-only -E -M -MM` | same |
//! | `cc`, `c++` | anything else (`-E`, `-S`, `--version`, a wasm clang call) | same |
//! | `ld` | link when it has inputs or an output (`-o X`, `-oX`, `--output[=]X`) | response files expanded |
//! | `ar` | archive: the operand after the operation (and after its position member for `a`/`b`/`i`, its count for `N`) | `--plugin X` skipped |
//! | `ranlib` | archive: the first operand | options skipped |
//!
//! A compiler cache launching a compiler (`ccache gcc -c x.c`) is read as
//! the compiler it launches, and [`Command::args`] leaves the cache out:
//! tools reading the compilation database want the compiler first.

use crate::compiler::scan;
use crate::expand::{expand, read_response_files};
use crate::prelude::*;
use crate::tool::{basename, is_launcher};
use crate::Tool;

/// One command read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// argv[0] and every argument as the program reads them: readable
    /// response files expanded in place (an unreadable `@file` stays).
    pub args: Vec<Vec<u8>>,
    pub step: Step,
}

/// The build step one exec performs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Translation units compiled to objects: `(source, object)` pairs. The
    /// object is `-o` for a single source, else `STEM.o` in the working
    /// directory, as gcc and clang name it.
    Compile { units: Vec<(Vec<u8>, Vec<u8>)> },
    /// An executable, shared object or partial link.
    Link { output: Option<Vec<u8>> },
    /// A static archive written or indexed (`ar`, `ranlib`).
    Archive { output: Option<Vec<u8>> },
    /// Nothing the build keeps: preprocessing, a query, an unknown tool.
    Other,
}

/// Read `argv` of a `tool` exec. `read_file` gives a response file's
/// contents (relative names are the exec's working directory's business);
/// `None` leaves the `@file` as it is.
pub fn read_command(
    tool: Tool,
    argv: &[&[u8]],
    read_file: &dyn Fn(&[u8]) -> Option<Vec<u8>>,
) -> Command {
    let argv = match argv.first() {
        Some(&first) if tool.is_compiler() && is_launcher(first, Some(first)) => {
            argv.get(1..).unwrap_or_default()
        }
        _ => argv,
    };
    let files = read_response_files(argv, read_file);
    let ex = expand(argv, &files);
    // argv[1..], response files expanded.
    let tokens: Vec<&[u8]> = ex.tokens.iter().map(|&(_, t)| t).collect();
    let step = match tool {
        Tool::Cc | Tool::Cxx => compiler_step(tool, &ex.tokens),
        Tool::Ld => ld_step(&tokens),
        Tool::Ar => Step::Archive {
            output: ar_archive(&tokens).map(<[u8]>::to_vec),
        },
        Tool::Ranlib => Step::Archive {
            output: operands(&tokens).next().map(<[u8]>::to_vec),
        },
        Tool::Cpp | Tool::Strip | Tool::Meson | Tool::Cmake | Tool::Backend => Step::Other,
    };
    let mut args = Vec::with_capacity(tokens.len() + 1);
    args.extend(argv.first().map(|a| a.to_vec()));
    args.extend(tokens.iter().map(|t| t.to_vec()));
    Command { args, step }
}

fn compiler_step(tool: Tool, tokens: &[(usize, &[u8])]) -> Step {
    let s = scan(tool, tokens);
    if s.wasm_already.is_some() {
        return Step::Other;
    }
    if s.objects && !s.preprocess_only && !s.source_names.is_empty() {
        let single = s.source_names.len() == 1;
        let units = s
            .source_names
            .iter()
            .map(|src| {
                let object = match s.output {
                    Some(o) if single => o.to_vec(),
                    _ => object_name(src),
                };
                (src.to_vec(), object)
            })
            .collect();
        return Step::Compile { units };
    }
    // An `@file` left unread (gone by the time a log is read back) is no
    // evidence of a link: what it held is unknown.
    let unread = tokens
        .iter()
        .filter(|(_, t)| t.len() > 1 && t.starts_with(b"@"))
        .count();
    if s.inputs > unread && !s.compile_only && !s.preprocess_only {
        return Step::Link {
            output: s.output.map(<[u8]>::to_vec),
        };
    }
    Step::Other
}

/// `cc -c dir/a.c` writes `a.o` in the working directory.
pub fn object_name(source: &[u8]) -> Vec<u8> {
    let base = basename(source);
    let stem = match base.iter().rposition(|&b| b == b'.') {
        Some(dot) if dot > 0 => base.get(..dot).unwrap_or(base),
        _ => base,
    };
    let mut out = stem.to_vec();
    out.extend_from_slice(b".o");
    out
}

fn ld_step(tokens: &[&[u8]]) -> Step {
    let mut output = None;
    let mut inputs = false;
    let mut it = tokens.iter();
    while let Some(&arg) = it.next() {
        if arg == b"-o" || arg == b"--output" {
            output = it.next().copied();
        } else if let Some(o) = arg.strip_prefix(b"--output=") {
            output = Some(o);
        } else if let Some(o) = arg.strip_prefix(b"-o").filter(|o| !o.is_empty()) {
            output = Some(o);
        } else if !arg.starts_with(b"-") {
            inputs = true;
        }
    }
    if inputs || output.is_some() {
        Step::Link {
            output: output.map(<[u8]>::to_vec),
        }
    } else {
        Step::Other
    }
}

/// The operands of `ar`/`ranlib` among `tokens` (argv[1..]; options left out, the GCC LTO
/// plugin's `--plugin X` skipped with its value).
fn operands<'a>(tokens: &'a [&'a [u8]]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut skip_value = false;
    tokens.iter().copied().filter(move |&arg| {
        if core::mem::take(&mut skip_value) {
            return false;
        }
        if arg == b"--plugin" {
            skip_value = true;
            return false;
        }
        !arg.starts_with(b"-") || arg.len() == 1
    })
}

/// `ar [-]OPERATION[MODIFIERS] [RELPOS] [COUNT] ARCHIVE MEMBER…`.
fn ar_archive<'a>(tokens: &'a [&'a [u8]]) -> Option<&'a [u8]> {
    let mut args = tokens.iter().copied().filter(|a| {
        // Long options (`--plugin X` is handled below, `--target=…`).
        !(a.starts_with(b"--") && *a != b"--plugin")
    });
    let mut op = args.next()?;
    while op == b"--plugin" {
        args.next();
        op = args.next()?;
    }
    let letters = op.strip_prefix(b"-").unwrap_or(op);
    let relpos = letters.iter().any(|b| matches!(b, b'a' | b'b' | b'i'));
    let count = letters.contains(&b'N');
    let skip = usize::from(relpos) + usize::from(count);
    args.nth(skip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<&[u8]> {
        s.split_whitespace().map(str::as_bytes).collect()
    }

    fn step(tool: Tool, s: &str) -> Step {
        read_command(tool, &words(s), &|_| None).step
    }

    fn compile(pairs: &[(&str, &str)]) -> Step {
        Step::Compile {
            units: pairs
                .iter()
                .map(|(s, o)| (s.as_bytes().to_vec(), o.as_bytes().to_vec()))
                .collect(),
        }
    }

    fn out(s: &str) -> Option<Vec<u8>> {
        Some(s.as_bytes().to_vec())
    }

    #[test]
    fn compiles_name_their_sources_and_objects() {
        assert_eq!(
            step(Tool::Cc, "gcc -O2 -Iinc -c src/a.c -o build/a.o"),
            compile(&[("src/a.c", "build/a.o")])
        );
        assert_eq!(
            step(Tool::Cxx, "g++ -c x.cpp dir/y.CC -DX=1 -o ignored.o"),
            compile(&[("x.cpp", "x.o"), ("dir/y.CC", "y.o")])
        );
        assert_eq!(
            step(Tool::Cc, "cc -c a.c -oout/a.o"),
            compile(&[("a.c", "out/a.o")])
        );
        assert_eq!(
            step(Tool::Cc, "cc -x c -c conftest.txt"),
            compile(&[("conftest.txt", "conftest.o")])
        );
    }

    #[test]
    fn option_values_are_never_sources() {
        // Each of these takes the next argument; only the rules knew some of
        // them (`-B`, `-mllvm`, `--param`, `-specs`), only the driver `-MJ`.
        for opt in [
            "-include", "-MF", "-MJ", "-B", "-mllvm", "--param", "-specs", "-Xclang",
        ] {
            assert_eq!(
                step(Tool::Cc, &format!("cc -c {opt} v.c real.c")),
                compile(&[("real.c", "real.o")]),
                "{opt}"
            );
        }
    }

    #[test]
    fn not_compiles() {
        for s in [
            "cc -E a.c",
            "cc -c -E a.c",
            "cc -S a.c",
            "cc -fsyntax-only a.c",
            "cc -c a.o",
            "cc -c -",
            "cc --version",
            "cc -M a.c",
            "clang -cc1 -c a.c",
            "clang -target wasm32-unknown-emscripten -c a.c",
        ] {
            assert_eq!(step(Tool::Cc, s), Step::Other, "{s}");
        }
    }

    #[test]
    fn links() {
        assert_eq!(
            step(Tool::Cxx, "g++ -shared a.o b.o -o m.so"),
            Step::Link {
                output: out("m.so")
            }
        );
        assert_eq!(step(Tool::Cc, "cc a.c"), Step::Link { output: None });
        assert_eq!(
            step(Tool::Ld, "ld -shared --output=x.so a.o"),
            Step::Link {
                output: out("x.so")
            }
        );
        assert_eq!(step(Tool::Ld, "ld -v"), Step::Other);
        // What an unreadable response file held is unknown.
        assert_eq!(step(Tool::Cc, "cc -O2 @gone.rsp"), Step::Other);
        assert_eq!(
            step(Tool::Cc, "cc a.o @gone.rsp"),
            Step::Link { output: None }
        );
    }

    #[test]
    fn archives() {
        assert_eq!(
            step(Tool::Ar, "ar rcs libx.a a.o"),
            Step::Archive {
                output: out("libx.a")
            }
        );
        assert_eq!(
            step(Tool::Ar, "ar -rcs libx.a a.o"),
            Step::Archive {
                output: out("libx.a")
            }
        );
        assert_eq!(
            step(Tool::Ar, "ar --plugin /usr/lib/lto.so rcs libx.a a.o"),
            Step::Archive {
                output: out("libx.a")
            }
        );
        assert_eq!(
            step(Tool::Ar, "ar rb pos.o libx.a a.o"),
            Step::Archive {
                output: out("libx.a")
            }
        );
        assert_eq!(
            step(Tool::Ranlib, "ranlib -D libx.a"),
            Step::Archive {
                output: out("libx.a")
            }
        );
    }

    #[test]
    fn response_files_are_read_like_the_rewrite_reads_them() {
        let read = |name: &[u8]| (name == b"args.rsp").then(|| b"-c 'src/a b.c' -o a.o".to_vec());
        let argv = words("gcc -O2 @args.rsp @missing.rsp");
        let cmd = read_command(Tool::Cc, &argv, &read);
        assert_eq!(cmd.step, compile(&[("src/a b.c", "a.o")]));
        let args: Vec<&[u8]> = cmd.args.iter().map(Vec::as_slice).collect();
        assert_eq!(
            args,
            words("gcc -O2 -c SRC -o a.o @missing.rsp")
                .into_iter()
                .map(|a| if a == b"SRC" { &b"src/a b.c"[..] } else { a })
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_launcher_is_read_as_its_compiler() {
        let cmd = read_command(Tool::Cc, &words("ccache gcc -c a.c"), &|_| None);
        assert_eq!(cmd.step, compile(&[("a.c", "a.o")]));
        assert_eq!(cmd.args.first().map(Vec::as_slice), Some(&b"gcc"[..]));
    }

    #[test]
    fn tool_names_round_trip() {
        for t in Tool::ALL {
            assert_eq!(Tool::from_name(t.as_str()), Some(t));
        }
        assert_eq!(Tool::from_name("python"), None);
    }
}
