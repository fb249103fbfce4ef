//! What a recognised exec did for the build: a compile, a link, an archive.
//!
//! Pure functions over an argv, shared by the progress display, the session
//! summary and `compile_commands.json`, so all three count the same things.

/// The build step one compiler/binutil exec performs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `cc -c a.c b.c`: the sources compiled (one object each).
    Compile { sources: Vec<String> },
    /// A compiler driver or `ld` producing an executable or shared object.
    Link { output: Option<String> },
    /// `ar`/`ranlib`: an archive written or indexed.
    Archive { output: Option<String> },
    /// Anything else (`cc -E`, `cc --version`, `strip`, an unrecognised exec).
    Other,
}

/// Options of a C compiler driver whose value is the NEXT argument, so that
/// value is never mistaken for an input file.
const OPTIONS_WITH_VALUE: &[&str] = &[
    "-o",
    "-MF",
    "-MT",
    "-MQ",
    "-MJ",
    "-I",
    "-D",
    "-U",
    "-L",
    "-l",
    "-include",
    "-imacros",
    "-isystem",
    "-iquote",
    "-idirafter",
    "-iprefix",
    "-iwithprefix",
    "-iwithprefixbefore",
    "-isysroot",
    "--sysroot",
    "-x",
    "-arch",
    "-target",
    "--target",
    "-aux-info",
    "-T",
    "-u",
    "-z",
    "-e",
    "-Xlinker",
    "-Xpreprocessor",
    "-Xassembler",
    "-Xclang",
];

/// File extensions of translation units (C, C++, Objective-C, preprocessed
/// assembly). `.s` is included: clang tools accept it and builds compile it.
const SOURCE_EXTENSIONS: &[&str] = &[
    "c", "i", "cc", "cp", "cpp", "cxx", "c++", "C", "CC", "CPP", "ii", "m", "mm", "M", "S", "s",
    "sx",
];

/// Whether `arg` names a translation unit by its extension.
pub fn is_source_file(arg: &str) -> bool {
    match arg.rsplit_once('.') {
        Some((stem, ext)) => !stem.is_empty() && SOURCE_EXTENSIONS.contains(&ext),
        None => false,
    }
}

/// The positional (non-option) arguments of a compiler driver command line,
/// skipping argv[0] and the values of options like `-o FILE`.
pub fn positional_args(argv: &[String]) -> Vec<&str> {
    let mut out = Vec::new();
    let mut args = argv.iter().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--" {
            out.extend(args.by_ref().map(String::as_str));
            break;
        }
        if OPTIONS_WITH_VALUE.contains(&arg.as_str()) {
            args.next();
        } else if !arg.starts_with('-') && !arg.starts_with('@') {
            out.push(arg);
        }
    }
    out
}

/// The value of `-o`, in either `-o FILE` or `-oFILE` form.
pub fn output_arg(argv: &[String]) -> Option<String> {
    let mut args = argv.iter().skip(1);
    while let Some(arg) = args.next() {
        if arg == "-o" {
            return args.next().cloned();
        }
        if let Some(v) = arg.strip_prefix("-o") {
            if !v.is_empty() {
                return Some(v.to_string());
            }
        } else if OPTIONS_WITH_VALUE.contains(&arg.as_str()) {
            args.next();
        }
    }
    None
}

fn has_flag(argv: &[String], flag: &str) -> bool {
    argv.iter().skip(1).any(|a| a == flag)
}

/// The sources a compiler driver command compiles to objects, if it is a
/// compile: it has `-c` and at least one translation unit among its inputs.
/// With `-x LANG` every positional input is a translation unit whatever its
/// name. `-E`, `-S`, `-M`/`-MM` alone and `-fsyntax-only` are not compiles.
pub fn compiled_sources(argv: &[String]) -> Vec<String> {
    if !has_flag(argv, "-c") {
        return Vec::new();
    }
    let forced_language = argv
        .iter()
        .skip(1)
        .any(|a| a == "-x" || (a.starts_with("-x") && a.len() > 2));
    positional_args(argv)
        .into_iter()
        .filter(|a| *a != "-" && (forced_language || is_source_file(a)))
        .map(str::to_string)
        .collect()
}

/// What an exec does, from the tool the rules recognised and its argv.
pub fn classify_step(tool: Option<&str>, argv: &[String]) -> Step {
    match tool {
        Some("cc") | Some("c++") => {
            let sources = compiled_sources(argv);
            if !sources.is_empty() {
                return Step::Compile { sources };
            }
            let only_preprocess_or_query = ["-c", "-E", "-S", "-M", "-MM", "-fsyntax-only"]
                .iter()
                .any(|f| has_flag(argv, f))
                || argv.iter().skip(1).any(|a| {
                    a.starts_with("--version")
                        || a.starts_with("-print-")
                        || a.starts_with("--print-")
                        || a == "-v"
                        || a == "-dumpversion"
                        || a == "-dumpmachine"
                });
            let has_inputs = !positional_args(argv).is_empty();
            if !only_preprocess_or_query && has_inputs {
                Step::Link {
                    output: output_arg(argv),
                }
            } else {
                Step::Other
            }
        }
        Some("ld") => Step::Link {
            output: output_arg(argv),
        },
        Some("ar") => Step::Archive {
            // `ar rcs libfoo.a a.o b.o`: the archive follows the operation letters.
            output: positional_args(argv).get(1).map(|s| s.to_string()),
        },
        Some("ranlib") => Step::Archive {
            output: positional_args(argv).first().map(|s| s.to_string()),
        },
        _ => Step::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn compile_with_dash_c_and_a_source_is_a_compile() {
        assert_eq!(
            compiled_sources(&v("gcc -O2 -Iinc -c src/a.c -o build/a.o")),
            vec!["src/a.c"]
        );
        assert_eq!(
            compiled_sources(&v("g++ -c x.cpp y.cc -DX=1")),
            vec!["x.cpp", "y.cc"]
        );
    }

    #[test]
    fn option_values_are_not_sources() {
        // `-include pre.c` and `-MF dep.c` name files that are not compiled.
        assert_eq!(
            compiled_sources(&v("cc -c -include pre.c -MF dep.c real.c")),
            vec!["real.c"]
        );
    }

    #[test]
    fn no_dash_c_or_no_source_is_not_a_compile() {
        assert!(compiled_sources(&v("cc a.c -o a")).is_empty());
        assert!(compiled_sources(&v("cc -E a.c")).is_empty());
        assert!(compiled_sources(&v("cc -c a.o")).is_empty());
        assert!(compiled_sources(&v("cc -c -")).is_empty());
    }

    #[test]
    fn forced_language_makes_any_input_a_source() {
        assert_eq!(
            compiled_sources(&v("cc -x c -c conftest.txt")),
            vec!["conftest.txt"]
        );
    }

    #[test]
    fn output_is_found_in_both_spellings() {
        assert_eq!(output_arg(&v("cc -c a.c -o a.o")).as_deref(), Some("a.o"));
        assert_eq!(output_arg(&v("cc -c a.c -oa.o")).as_deref(), Some("a.o"));
        assert_eq!(output_arg(&v("cc -c a.c")), None);
    }

    #[test]
    fn steps_are_classified_by_tool_and_flags() {
        assert_eq!(
            classify_step(Some("cc"), &v("gcc -c a.c")),
            Step::Compile {
                sources: vec!["a.c".into()]
            }
        );
        assert_eq!(
            classify_step(Some("c++"), &v("g++ -shared a.o b.o -o m.so")),
            Step::Link {
                output: Some("m.so".into())
            }
        );
        assert_eq!(classify_step(Some("cc"), &v("gcc --version")), Step::Other);
        assert_eq!(classify_step(Some("cc"), &v("gcc -E a.c")), Step::Other);
        assert_eq!(
            classify_step(Some("ar"), &v("ar rcs libx.a a.o")),
            Step::Archive {
                output: Some("libx.a".into())
            }
        );
        assert_eq!(classify_step(None, &v("gcc -c a.c")), Step::Other);
        assert_eq!(classify_step(Some("strip"), &v("strip a.so")), Step::Other);
    }
}
