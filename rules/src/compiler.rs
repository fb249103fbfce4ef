//! C/C++ compiler drivers and `cpp`: read the command, then rewrite it for
//! emcc/em++.
//!
//! | step | why |
//! |---|---|
//! | `-cc1`/`-cc1as`, or a `wasm…` `-target`/`--target=`/`-triple`: pass through | emcc runs `clang-14 -target wasm32-unknown-emscripten …` itself |
//! | `-fopenmp[=…]` anywhere (also after `-Xpreprocessor`): refuse, exit 1 | no threads in Pyodide; failing lets configure probes conclude "no OpenMP" |
//! | `-print-multiarch` / `-dumpmachine`: answer | build systems ask where to look for host libraries; the honest answer is the wasm one (and emcc cannot answer `-print-multiarch`) |
//! | C++ when the tool is C++, an input is `.cpp .cc .cxx .C .c++ .cp .ii`, `-x c++…` is given, or a link has `-lstdc++`/`-lc++` | em++ links libc++ and the profile's C++ flags apply |
//! | `cpp IN OUT` → `emcc -E IN -o OUT`, no input → `-` | cpp's second operand is its output; emcc would take it as an input |
//! | inject compile flags when something is compiled, link flags when something is linked | see `flags` and `target` |
//! | nothing injected for `-E`, `-M`, or a query without inputs (`--version`, `-v`) | preprocessing and probes must see the build's flags only |

use crate::expand::{expand, read_response_files, Output};
use crate::flags::{self, takes_value};
use crate::linker::LinkerFilter;
use crate::prelude::*;
use crate::{Decision, Notes, Target, Tool};

/// What the command asks for, read before rewriting. Also what the driver's
/// session reads (`crate::command`), so the two never disagree on a flag.
#[derive(Default)]
pub(crate) struct Scan<'a> {
    pub(crate) wasm_already: Option<&'static str>,
    openmp: Option<&'a [u8]>,
    answer: Option<&'a [u8]>,
    pub(crate) compile_only: bool,
    /// `-c` itself: objects are written (`-S` and `-fsyntax-only` write none).
    pub(crate) objects: bool,
    pub(crate) preprocess_only: bool,
    pub(crate) inputs: usize,
    sources: usize,
    /// The translation units by name (not `-`, nor an `@file` left unread).
    pub(crate) source_names: Vec<&'a [u8]>,
    cxx: bool,
    /// A `.h` input with no `-x` in force (gcc reads it as a C header).
    c_header: bool,
    cxx_link: bool,
    shared: bool,
    relocatable: bool,
    pub(crate) output: Option<&'a [u8]>,
    present: Vec<&'a [u8]>,
}

pub(crate) fn scan<'a>(tool: Tool, tokens: &[(usize, &'a [u8])]) -> Scan<'a> {
    let mut s = Scan {
        cxx: tool == Tool::Cxx,
        preprocess_only: tool == Tool::Cpp,
        ..Scan::default()
    };
    let mut lang_forced = false;
    let mut i = 0;
    while let Some(&(_, arg)) = tokens.get(i) {
        if arg == b"-fopenmp" || arg.starts_with(b"-fopenmp=") {
            s.openmp.get_or_insert(arg);
        }
        if let Some(&(_, value)) = tokens.get(i + 1).filter(|_| takes_value(arg)) {
            match arg {
                b"-o" => s.output = Some(value),
                b"-x" => set_lang(&mut s, &mut lang_forced, value),
                b"-target" | b"--target" | b"-triple" if value.starts_with(b"wasm") => {
                    s.wasm_already = Some("already targets wasm (emcc's own clang call)")
                }
                b"-l" if is_cxx_lib(value) => s.cxx_link = true,
                _ => {}
            }
            if value == b"-fopenmp" || value.starts_with(b"-fopenmp=") {
                s.openmp.get_or_insert(value);
            }
            i += 2;
            continue;
        }
        i += 1;
        if arg.len() <= 1 || !arg.starts_with(b"-") {
            // An input (`-` is stdin).
            s.inputs += 1;
            if lang_forced || arg == b"-" || flags::is_source(arg) {
                s.sources += 1;
                if arg != b"-" && !arg.starts_with(b"@") {
                    s.source_names.push(arg);
                }
            }
            s.cxx |= flags::is_cxx_source(arg);
            s.c_header |= !lang_forced && flags::is_c_header(arg);
            continue;
        }
        match arg {
            b"-c" => {
                s.compile_only = true;
                s.objects = true;
            }
            b"-S" | b"-fsyntax-only" => s.compile_only = true,
            b"-E" | b"-M" | b"-MM" => s.preprocess_only = true,
            b"-shared" => s.shared = true,
            b"-r" => s.relocatable = true,
            b"-cc1" | b"-cc1as" => s.wasm_already = Some("a clang frontend call, not a driver"),
            b"-print-multiarch" | b"--print-multiarch" | b"-dumpmachine" => {
                s.answer.get_or_insert(arg);
            }
            _ => {
                if let Some(out) = arg.strip_prefix(b"-o") {
                    s.output = Some(out);
                } else if let Some(lang) = arg.strip_prefix(b"-x") {
                    set_lang(&mut s, &mut lang_forced, lang);
                } else if arg.starts_with(b"--target=wasm") {
                    s.wasm_already = Some("already targets wasm");
                } else if arg.strip_prefix(b"-l").is_some_and(is_cxx_lib) {
                    s.cxx_link = true;
                }
                s.present.push(arg);
            }
        }
    }
    s
}

fn set_lang(s: &mut Scan, lang_forced: &mut bool, lang: &[u8]) {
    *lang_forced = lang != b"none";
    if lang.starts_with(b"c++") {
        s.cxx = true;
    }
}

fn is_cxx_lib(name: &[u8]) -> bool {
    name == b"stdc++" || name == b"c++"
}

const OPENMP: &str = "OpenMP is not supported for wasm32: Pyodide has no threads. \
Build without OpenMP (most packages have an option to turn it off); -fopenmp-simd is fine.";

/// The decision for a C/C++ compiler driver or `cpp`.
pub(crate) fn decide(
    tool: Tool,
    argv: &[&[u8]],
    target: &Target,
    read_file: &dyn Fn(&[u8]) -> Option<Vec<u8>>,
    notes: &mut Notes,
) -> Decision {
    let files = read_response_files(argv, read_file);
    let ex = expand(argv, &files);
    let s = scan(tool, &ex.tokens);

    if let Some(why) = s.wasm_already {
        notes.summary(|| format!("passthrough: {why}"));
        return Decision::Passthrough;
    }
    if let Some(flag) = s.openmp {
        let flag = String::from_utf8_lossy(flag);
        return Decision::Refuse {
            tool,
            message: format!("pyrewrite: refusing `{flag}`: {OPENMP}"),
            exit_code: 1,
        };
    }
    if let Some(query) = s.answer {
        let (stdout, reason) = if query == b"-dumpmachine" {
            (
                "wasm32-unknown-emscripten\n",
                "-dumpmachine: the target triple is wasm32-unknown-emscripten",
            )
        } else {
            (
                "wasm32-emscripten\n",
                "-print-multiarch: the target is wasm32-emscripten (not the host's multiarch dir)",
            )
        };
        return Decision::Answer {
            tool,
            stdout: stdout.as_bytes().to_vec(),
            exit_code: 0,
            reason: reason.to_string(),
        };
    }

    let cxx = s.cxx || s.cxx_link;
    let compiles = s.sources > 0 && !s.preprocess_only;
    let links = s.inputs > 0 && !s.compile_only && !s.preprocess_only;
    let shared =
        links && !s.relocatable && (s.shared || s.output.is_some_and(flags::is_shared_object_name));
    let runnable = links && !shared && !s.relocatable && flags::is_program_name(s.output);

    let mut out = Output::new(argv.len());
    filter(tool, &ex.tokens, target, &mut out, notes);

    let mut trailing: Vec<&str> = Vec::new();
    if tool == Tool::Cpp && s.inputs == 0 {
        trailing.push("-");
    }
    let present = |flag: &str| s.present.contains(&flag.as_bytes());
    if compiles {
        trailing.extend(flags::WERROR.iter().copied().filter(|f| !present(f)));
        let extra = if cxx {
            &target.cxxflags
        } else {
            &target.cflags
        };
        trailing.extend(extra.iter().map(String::as_str));
        if !present("-fPIC") && !extra.iter().any(|f| f == "-fPIC") {
            trailing.push("-fPIC");
        }
    }
    if links {
        trailing.extend(target.ldflags.iter().map(String::as_str));
        if cxx {
            trailing.extend(target.cxx_ldflags.iter().map(String::as_str));
        }
        let has = |p: &str| s.present.iter().any(|a| a.starts_with(p.as_bytes()));
        let setting = |f: &&str| !has(f.split('=').next().unwrap_or(f));
        if shared {
            trailing.extend(flags::SIDE_MODULE.iter().copied().filter(setting));
            if cxx {
                trailing.extend(target.cxx_compat_object.as_deref());
            }
        } else if runnable {
            trailing.extend(flags::RUNNABLE_PROGRAM.iter().copied().filter(setting));
        }
    }
    let trailing = dedup(trailing);

    let program = if tool != Tool::Cpp && cxx {
        &target.emxx
    } else {
        &target.emcc
    };
    let mut leading: Vec<&str> = match (tool, shared) {
        (Tool::Cpp, _) => vec!["-E"],
        (_, true) => vec![flags::NATIVE_ARCHIVES],
        _ => Vec::new(),
    };
    // emcc 3.1.6 reads a `.h` input as C++ (`__cplusplus` defined); gcc and
    // cpp read it as C. Only when headers are the only inputs: `-x` would
    // also apply to a `.c` after it.
    if s.c_header && !cxx && s.sources == 0 {
        leading.extend(flags::C_HEADER);
        notes.add(|| {
            format!(
                "added first: {} (emcc would read the .h as C++)",
                flags::C_HEADER.join(" ")
            )
        });
    }
    if shared {
        notes.add(|| {
            format!(
                "added first: {} (archives linked as native ld links them)",
                flags::NATIVE_ARCHIVES
            )
        });
    }
    notes.summary(|| {
        let what = match (tool, compiles, links, shared) {
            (Tool::Cpp, ..) => "preprocess".to_string(),
            (_, _, true, true) => "shared link → wasm side module".to_string(),
            (_, true, true, false) if runnable => {
                "compile and link a program (runs under node)".to_string()
            }
            (_, false, true, false) if runnable => "link a program (runs under node)".to_string(),
            (_, true, true, false) => "compile and link".to_string(),
            (_, false, true, false) => "link".to_string(),
            (_, true, false, _) => "compile".to_string(),
            _ if s.preprocess_only => "preprocess".to_string(),
            _ => "query (no inputs): nothing added".to_string(),
        };
        let lang = if cxx { "C++" } else { "C" };
        format!("{lang} {what} → {program}")
    });
    if !trailing.is_empty() {
        notes.add(|| format!("added: {}", trailing.join(" ")));
    }
    let (argv, files) = out.assemble(
        program.as_bytes(),
        &leading,
        argv,
        &ex.file_slots,
        trailing.iter().map(|s| s.as_bytes().to_vec()).collect(),
    );
    // emcc's "autoconf mode" (3.1.6) is what adds the `#!node` line and the
    // execute bit, so that `./conftest` runs like a native program.
    let mut env = if runnable {
        vec![(
            flags::AUTOCONF_MODE.0.to_string(),
            flags::AUTOCONF_MODE.1.to_string(),
        )]
    } else {
        Vec::new()
    };
    if runnable {
        notes.add(|| {
            format!(
                "program link: runnable under node like a native program (`{}={}`: `#!` line, execute bit)",
                flags::AUTOCONF_MODE.0,
                flags::AUTOCONF_MODE.1
            )
        });
    }
    // Compiles only: a link stays with emcc (it runs wasm-ld, and more).
    let argv = if compiles && s.objects && tool != Tool::Cpp {
        crate::fast_path::route(target, argv, !files.is_empty(), &mut env, notes)
    } else {
        argv
    };
    Decision::Rewrite {
        tool,
        argv,
        files,
        env,
    }
}

/// Drop later duplicates (`-O2 -g0` from both cflags and ldflags).
fn dedup(flags: Vec<&str>) -> Vec<&str> {
    let mut seen = Vec::with_capacity(flags.len());
    for f in flags {
        if !seen.contains(&f) {
            seen.push(f);
        }
    }
    seen
}

/// Rewrite every token into `out`, dropping and replacing per the tables.
fn filter(
    tool: Tool,
    tokens: &[(usize, &[u8])],
    target: &Target,
    out: &mut Output,
    notes: &mut Notes,
) {
    let host_prefixes = flags::host_python_prefixes(target);
    let mut linker = LinkerFilter::default();
    let mut python_include_done = false;
    let mut cpp_operands = 0;
    let note_drop = |notes: &mut Notes, args: &[&[u8]], why: &str| {
        notes.add(|| {
            let shown: Vec<_> = args.iter().map(|a| String::from_utf8_lossy(a)).collect();
            format!("dropped `{}`: {why}", shown.join(" "))
        });
    };

    let mut i = 0;
    while let Some(&(slot, arg)) = tokens.get(i) {
        // Split options: `-I /x`, `-Xlinker -z`, `-mllvm -x`…
        if let Some(&(_, value)) = tokens.get(i + 1).filter(|_| takes_value(arg)) {
            i += 2;
            let keep = match arg {
                b"-I" | b"-isystem" | b"-idirafter" | b"-iquote" => {
                    match include(value, target, &mut python_include_done, notes) {
                        Include::Keep => true,
                        Include::Drop(why) => {
                            note_drop(notes, &[arg, value], why);
                            false
                        }
                        Include::Replace(dir) => {
                            out.push(slot, arg);
                            out.push(slot, dir);
                            false
                        }
                    }
                }
                b"-L" if flags::is_host_lib_dir(value, &host_prefixes) => {
                    note_drop(notes, &[arg, value], flags::HOST_LIBS);
                    false
                }
                b"-l" => match flags::dropped_lib(value) {
                    Some(why) => {
                        note_drop(notes, &[arg, value], why);
                        false
                    }
                    None => true,
                },
                b"-B" if is_compiler_compat(value) => {
                    note_drop(notes, &[arg, value], flags::COMPILER_COMPAT);
                    false
                }
                b"-z" => {
                    note_drop(
                        notes,
                        &[arg, value],
                        "ELF linker keyword; wasm-ld rejects it",
                    );
                    false
                }
                b"--sysroot" | b"-isysroot" | b"-specs" | b"--specs" => {
                    note_drop(notes, &[arg, value], flags::HOST_FILES);
                    false
                }
                b"-Xlinker" => match linker.item(value) {
                    Ok(()) => true,
                    Err(why) => {
                        note_drop(notes, &[arg, value], why);
                        false
                    }
                },
                _ => true,
            };
            if keep {
                out.push(slot, arg);
                out.push(slot, value);
            }
            continue;
        }
        i += 1;

        if arg.len() <= 1 || !arg.starts_with(b"-") {
            if flags::is_host_object(arg) {
                note_drop(notes, &[arg], flags::HOST_OBJECT);
                continue;
            }
            // cpp's second operand is its output file.
            if tool == Tool::Cpp && arg != b"-" {
                cpp_operands += 1;
                if cpp_operands == 2 {
                    out.push(slot, "-o");
                }
            }
            out.push(slot, arg);
            continue;
        }
        if arg.starts_with(b"-Wl,") {
            let rewritten = linker.wl_arg(arg, &mut |item, why| {
                notes.add(|| {
                    let item = String::from_utf8_lossy(item);
                    format!("dropped linker item `{item}` of `-Wl,`: {why}")
                })
            });
            if let Some(a) = rewritten {
                out.push(slot, a);
            }
            continue;
        }
        let joined_include = [&b"-I"[..], b"-isystem", b"-idirafter", b"-iquote"]
            .into_iter()
            .find_map(|p| arg.strip_prefix(p).map(|dir| (p, dir)));
        if let Some((opt, dir)) = joined_include.filter(|(_, d)| !d.is_empty()) {
            match include(dir, target, &mut python_include_done, notes) {
                Include::Keep => out.push(slot, arg),
                Include::Drop(why) => note_drop(notes, &[arg], why),
                Include::Replace(new) => {
                    let mut a = opt.to_vec();
                    a.extend_from_slice(&new);
                    out.push(slot, a);
                }
            }
            continue;
        }
        if let Some(dir) = arg.strip_prefix(b"-L") {
            if flags::is_host_lib_dir(dir, &host_prefixes) {
                note_drop(notes, &[arg], flags::HOST_LIBS);
            } else {
                out.push(slot, arg);
            }
            continue;
        }
        if let Some(why) = arg.strip_prefix(b"-l").and_then(flags::dropped_lib) {
            note_drop(notes, &[arg], why);
            continue;
        }
        if arg.strip_prefix(b"-B").is_some_and(is_compiler_compat) {
            note_drop(notes, &[arg], flags::COMPILER_COMPAT);
            continue;
        }
        if arg.starts_with(b"-m") && !flags::is_wasm_machine_flag(arg) {
            note_drop(notes, &[arg], flags::HOST_CPU);
            continue;
        }
        if let Some(why) = flags::dropped_flag(arg) {
            note_drop(notes, &[arg], why);
            continue;
        }
        if arg == b"-Ofast" {
            notes.add(|| {
                format!(
                    "replaced `-Ofast` with `{}`: {}",
                    flags::OFAST.join(" "),
                    flags::OFAST_WHY
                )
            });
            for a in flags::OFAST {
                out.push(slot, *a);
            }
            continue;
        }
        out.push(slot, arg);
    }
}

fn is_compiler_compat(dir: &[u8]) -> bool {
    dir.windows(b"compiler_compat".len())
        .any(|w| w == b"compiler_compat")
}

enum Include {
    Keep,
    Drop(&'static str),
    Replace(Vec<u8>),
}

/// The fate of an include dir: the host Python's becomes the target's (once),
/// host system dirs go, the rest stays.
fn include(dir: &[u8], target: &Target, done: &mut bool, notes: &mut Notes) -> Include {
    let target_include = target.python_include.as_deref().map(str::as_bytes);
    if target_include.is_some_and(|t| flags::same_dir(t, dir)) {
        return Include::Keep;
    }
    let host_python = target
        .host_python_includes
        .iter()
        .any(|h| flags::same_dir(h.as_bytes(), dir))
        || flags::looks_like_python_include(dir);
    if host_python {
        return match target_include {
            Some(t) if !*done => {
                *done = true;
                notes.add(|| {
                    format!(
                        "replaced host Python include `{}` with the target's `{}`",
                        String::from_utf8_lossy(dir),
                        String::from_utf8_lossy(t)
                    )
                });
                Include::Replace(t.to_vec())
            }
            Some(_) => Include::Drop("host Python include (the target's is already given)"),
            None => Include::Drop(
                "host Python include: its pyconfig.h describes x86_64; \
                 set python_include in the target profile",
            ),
        };
    }
    if flags::is_host_include(dir) {
        return Include::Drop(flags::HOST_HEADERS);
    }
    Include::Keep
}
