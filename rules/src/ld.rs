//! Raw `ld` calls become `emcc` links.
//!
//! | ld argument | becomes | why |
//! |---|---|---|
//! | inputs, `-o X`, `-L X`, `-l X` | kept (host `-L`/`-l` filtered as for compilers) | same meaning for emcc |
//! | `-shared`, `-Bshareable`, `--shared` | `-shared` (+ `-sSIDE_MODULE=1 -sWASM_BIGINT`, and `-Wl,--no-whole-archive` first: archives searched as native `ld` does, see flags.rs) | a Python extension is a side module |
//! | `-r`, `--relocatable`, `-i` | `-r` | partial link, same meaning |
//! | items in the linker drop table (`-rpath`, `-soname`, `-z`, `--no-undefined`, `-m elf_x86_64`…) | dropped | see `linker` |
//! | host start files and libraries given as paths under `/usr/lib…`, `/lib…` | dropped | x86_64 ELF objects (crt1.o, libgcc.a) |
//! | `-v`, `-V`, `--version` | `--version` | libtool runs `ld -v` to see whether it is GNU ld; emcc's banner ("linker emulating GNU ld") says yes |
//! | `-(` / `-)` | `-Wl,--start-group` / `-Wl,--end-group` | emcc only understands the long form after `-Wl,` |
//! | any other option | `-Wl,OPT` (value options `-u -e -T -y --undefined --entry`: `-Wl,OPT,VALUE`) | emcc would take a raw ld option as a compiler flag |

use crate::expand::{expand, read_response_files, Output};
use crate::flags;
use crate::linker::LinkerFilter;
use crate::prelude::*;
use crate::{Decision, Notes, Target, Tool};

pub(crate) fn decide(
    argv: &[&[u8]],
    target: &Target,
    read_file: &dyn Fn(&[u8]) -> Option<Vec<u8>>,
    notes: &mut Notes,
) -> Decision {
    let files = read_response_files(argv, read_file);
    let ex = expand(argv, &files);
    let host_prefixes = flags::host_python_prefixes(target);
    let mut out = Output::new(argv.len());
    let mut linker = LinkerFilter::default();
    let (mut shared, mut relocatable, mut inputs) = (false, false, 0);
    let mut output: Option<&[u8]> = None;
    let dropped = |notes: &mut Notes, what: &[u8], why: &str| {
        notes.add(|| format!("dropped `{}`: {why}", String::from_utf8_lossy(what)));
    };
    let tokens = &ex.tokens;
    let mut i = 0;
    while let Some(&(slot, arg)) = tokens.get(i) {
        i += 1;
        let next = tokens.get(i).map(|t| t.1);
        match arg {
            b"-o" | b"--output" if next.is_some() => {
                output = next;
                out.push(slot, "-o");
                out.push(slot, next.unwrap_or_default());
                i += 1;
            }
            b"-shared" | b"-Bshareable" | b"--shared" => {
                shared = true;
                out.push(slot, "-shared");
            }
            b"-r" | b"--relocatable" | b"-i" => {
                relocatable = true;
                out.push(slot, "-r");
            }
            b"-v" | b"-V" | b"--version" | b"-version" => {
                // libtool asks `ld -v` whether it is GNU ld; emcc's banner
                // says "linker emulating GNU ld".
                out.push(slot, "--version");
            }
            b"-(" => out.push(slot, "-Wl,--start-group"),
            b"-)" => out.push(slot, "-Wl,--end-group"),
            b"-L" | b"-l" if next.is_some() => {
                let value = next.unwrap_or_default();
                i += 1;
                let mut joined = arg.to_vec();
                joined.extend_from_slice(value);
                push_lib_option(&mut out, slot, &joined, &host_prefixes, notes);
            }
            _ if arg.starts_with(b"-L") || arg.starts_with(b"-l") => {
                push_lib_option(&mut out, slot, arg, &host_prefixes, notes);
            }
            _ if arg.starts_with(b"--output=") => {
                let file = arg.strip_prefix(b"--output=").unwrap_or_default();
                output = Some(file);
                out.push(slot, "-o");
                out.push(slot, file);
            }
            _ if arg.len() > 1 && arg.starts_with(b"-") => {
                if let Err(why) = linker.item(arg) {
                    dropped(notes, arg, why);
                    continue;
                }
                let mut wrapped = b"-Wl,".to_vec();
                wrapped.extend_from_slice(arg);
                // ld options that take the next argument: both kept, wrapped in `-Wl,`.
                if matches!(
                    arg,
                    b"-u" | b"-e" | b"-T" | b"-y" | b"--undefined" | b"--entry"
                ) {
                    if let Some(value) = next {
                        wrapped.push(b',');
                        wrapped.extend_from_slice(value);
                        i += 1;
                    }
                }
                out.push(slot, wrapped);
            }
            _ => {
                // An input, unless the previous item's value was dropped with it.
                if let Err(why) = linker.item(arg) {
                    dropped(notes, arg, why);
                } else if flags::is_host_object(arg) {
                    dropped(notes, arg, flags::HOST_OBJECT);
                } else {
                    inputs += 1;
                    out.push(slot, arg);
                }
            }
        }
    }
    let shared = !relocatable && (shared || output.is_some_and(flags::is_shared_object_name));
    let mut trailing: Vec<Vec<u8>> = Vec::new();
    if inputs > 0 {
        trailing.extend(target.ldflags.iter().map(|f| f.as_bytes().to_vec()));
        if shared {
            trailing.extend(flags::SIDE_MODULE.iter().map(|f| f.as_bytes().to_vec()));
        }
    }
    notes.summary(|| {
        let what = if shared {
            "shared link → wasm side module"
        } else {
            "link"
        };
        format!("ld {what} → {}", target.emcc)
    });
    let leading: &[&str] = if shared && inputs > 0 {
        &[flags::NATIVE_ARCHIVES]
    } else {
        &[]
    };
    let (argv, files) = out.assemble(
        target.emcc.as_bytes(),
        leading,
        argv,
        &ex.file_slots,
        trailing,
    );
    Decision::Rewrite {
        tool: Tool::Ld,
        argv,
        files,
        env: Vec::new(),
    }
}

fn push_lib_option(
    out: &mut Output,
    slot: usize,
    arg: &[u8],
    prefixes: &[&[u8]],
    notes: &mut Notes,
) {
    let why = if let Some(dir) = arg.strip_prefix(b"-L") {
        flags::is_host_lib_dir(dir, prefixes).then_some(flags::HOST_LIBS)
    } else {
        flags::dropped_lib(arg.get(2..).unwrap_or_default())
    };
    match why {
        Some(why) => notes.add(|| format!("dropped `{}`: {why}", String::from_utf8_lossy(arg))),
        None => out.push(slot, arg),
    }
}
