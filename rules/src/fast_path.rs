//! The compile fast path: run emcc's own clang directly, with exactly the
//! arguments emcc gave it, and skip emcc's Python start-up (about 150 ms of
//! every compile; clang itself often takes less).
//!
//! Nothing here knows which flags emcc adds. emcc is asked, once per
//! *shape* of compile command, by running it for real with its compiler
//! wrapper (`EM_COMPILER_WRAPPER`) pointed at a recorder; the clang command it
//! ran becomes a [`Template`] and is kept only if clang, run from the template,
//! writes a byte-identical object for that same compile (`pyrewrite-cc` does
//! the I/O; docs/fast-path.md).
//!
//! A *shape* is the command with the arguments that differ between the
//! files of one build replaced by numbered slots: the source, `-o`'s value,
//! `-MF`/`-MT`/`-MQ` values, and `-I`/`-D`/`-U`/`-isystem`/`-iquote`/
//! `-idirafter`/`-include`/`-imacros` arguments. Everything else (`-O2`,
//! `-fexceptions`, `-sFOO=1`, the emcc program, the source's and output's
//! extensions) is part of the shape, so a flag emcc reacts to gives another
//! shape and emcc is asked again.
//!
//! | not taken (emcc runs as before) | why |
//! |---|---|
//! | not a compile of one translation unit to an object with `-o FILE` (links, `-E`, `-S`, several sources, an implied output) | emcc does more than one clang call, or names files itself |
//! | a response file, stdin, joined `-oFILE`/`-MFFILE` | the slots must be whole arguments |
//! | a precompiled header (`-Xclang -emit-pch`, an output `.pch`/`.gch`) | it records its own file name: the proving compile could never match |
//! | a flag that writes files beside the object (`-save-temps`, `-gsplit-dwarf`, `-MJ`, `-ftime-trace`, `-Wp,-M…`, `--serialize-diagnostics`) | the proving compile would write them under another name |
//! | emcc's clang command holds a slot's value inside another argument, or a value more or fewer times than the build's command | the template would not carry over to the next file |

use crate::compiler::scan;
use crate::flags::takes_value;
use crate::prelude::*;
use crate::{Notes, Target, Tool};
use pyrewrite_protocol::env as vars;
use serde::{Deserialize, Serialize};

/// How compiles run (the profile's `fast_path`, or `$PYREWRITE_FAST_PATH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Always emcc.
    Off,
    /// emcc's clang directly once the shape is learned.
    #[default]
    On,
    /// emcc for the build's object, and the fast path beside it, compared.
    Verify,
}

impl Mode {
    /// The word in profiles and in `$PYREWRITE_FAST_PATH`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::On => "on",
            Mode::Verify => "verify",
        }
    }

    /// Reads the word; `None` for anything else.
    pub fn parse(word: &[u8]) -> Option<Mode> {
        match word {
            b"off" => Some(Mode::Off),
            b"on" => Some(Mode::On),
            b"verify" => Some(Mode::Verify),
            _ => None,
        }
    }
}

/// What a slot holds, which decides what the proving compile puts there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotKind {
    /// The translation unit.
    Source,
    /// `-o`'s value: the proving compile writes elsewhere.
    Output,
    /// `-MF`'s value: the proving compile writes no dependency file.
    DepFile,
    /// Any other per-file value (`-I…`, `-DX=1`, `-MT` target).
    Value,
}

/// A compile command read for the fast path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape<'a> {
    /// The command with every slot replaced by its number; equal keys share
    /// one template. Arguments are separated by NUL (no argument holds one).
    pub key: Vec<u8>,
    /// The slots' kinds and values, by number. Equal values share the
    /// number of the first (the key records which slots were equal).
    pub slots: Vec<(SlotKind, &'a [u8])>,
}

/// Where a rewritten compile (`argv`, emcc first) goes: through
/// `pyrewrite-cc` when the fast path is on and can take it, else to emcc,
/// behind the profile's launcher if it names one. `env` gets what
/// `pyrewrite-cc` needs. `files`: the rewrite wrote response files.
pub(crate) fn route(
    target: &Target,
    argv: Vec<Vec<u8>>,
    files: bool,
    env: &mut Vec<(String, String)>,
    notes: &mut Notes,
) -> Vec<Vec<u8>> {
    let taken = if target.fast_path == Mode::Off {
        Err("off in the profile or $PYREWRITE_FAST_PATH")
    } else if target.fast_cc.is_empty() {
        Err("pyrewrite-cc is not installed next to libpyrewrite.so")
    } else if files {
        Err("a response file")
    } else {
        let borrowed: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        shape(&borrowed).map(|_| ())
    };
    match taken {
        Ok(()) => {
            env.push((vars::FAST_PATH.into(), target.fast_path.as_str().into()));
            let cache = format!("{}/fast-path", target.generated_dir_or_default());
            env.push((vars::FAST_PATH_CACHE.into(), cache));
            if !target.launcher.is_empty() {
                let json = serde_json::to_string(&target.launcher).unwrap_or_default();
                env.push((vars::FAST_PATH_LAUNCHER.into(), json));
            }
            notes.add(|| {
                format!(
                    "fast path ({}): pyrewrite-cc runs emcc's own clang directly once this \
                     command's shape is learned{}",
                    target.fast_path.as_str(),
                    launched(target)
                )
            });
            let mut routed = Vec::with_capacity(argv.len() + 1);
            routed.push(target.fast_cc.as_bytes().to_vec());
            routed.extend(argv);
            routed
        }
        Err(why) => {
            notes.add(|| format!("fast path not taken: {why}{}", launched(target)));
            let mut routed: Vec<Vec<u8>> = target
                .launcher
                .iter()
                .map(|a| a.as_bytes().to_vec())
                .collect();
            routed.extend(argv);
            routed
        }
    }
}

fn launched(target: &Target) -> String {
    if target.launcher.is_empty() {
        String::new()
    } else {
        format!(", launched by `{}`", target.launcher.join(" "))
    }
}

/// Marks a slot number in a key or an encoded template (never in an argv).
const SLOT: u8 = 0x01;

/// Reads the emcc command `argv` (argv[0] is emcc) for the fast path, or says
/// why it is not taken.
pub fn shape<'a>(argv: &[&'a [u8]]) -> Result<Shape<'a>, &'static str> {
    let args = argv.get(1..).unwrap_or_default();
    if args.iter().any(|a| a.starts_with(b"@")) {
        return Err("a response file");
    }
    if let Some(why) = args.iter().find_map(|a| writes_beside(a)) {
        return Err(why);
    }
    let tokens: Vec<(usize, &[u8])> = args.iter().copied().enumerate().collect();
    let s = scan(Tool::Cc, &tokens);
    if !(s.objects && s.compile_only) || s.preprocess_only || s.wasm_already.is_some() {
        return Err("not a compile to an object");
    }
    if s.inputs != 1 || s.source_names.len() != 1 {
        return Err("not one translation unit");
    }
    let source = *s.source_names.first().ok_or("not one translation unit")?;
    let mut shape = Shape {
        key: Vec::new(),
        slots: Vec::new(),
    };
    let mut output = false;
    push_key(&mut shape.key, argv.first().copied().unwrap_or_default());
    let mut i = 0;
    while let Some(&arg) = args.get(i) {
        i += 1;
        if takes_value(arg) {
            push_key(&mut shape.key, arg);
            let Some(&value) = args.get(i) else {
                return Err("an option without its value");
            };
            i += 1;
            let kind = match arg {
                b"-o" => {
                    output = true;
                    SlotKind::Output
                }
                b"-MF" => SlotKind::DepFile,
                b"-MT" | b"-MQ" | b"-I" | b"-D" | b"-U" | b"-isystem" | b"-iquote"
                | b"-idirafter" | b"-include" | b"-imacros" => SlotKind::Value,
                _ => {
                    push_key(&mut shape.key, value);
                    continue;
                }
            };
            shape.slot(kind, value);
        } else if arg == source {
            shape.slot(SlotKind::Source, arg);
        } else if arg.starts_with(b"-o") || arg.starts_with(b"-MF") {
            return Err("a joined -oFILE or -MFFILE");
        } else if is_joined_value(arg) {
            shape.slot(SlotKind::Value, arg);
        } else {
            push_key(&mut shape.key, arg);
        }
    }
    if !output {
        return Err("no -o FILE");
    }
    // A precompiled header records its own file name (CMake's
    // `-Xclang -emit-pch … -o cmake_pch.h.pch`): the proving compile, which
    // writes elsewhere, could never match.
    let pch = |v: &[u8]| v.ends_with(b".pch") || v.ends_with(b".gch");
    if args.iter().any(|a| *a == b"-emit-pch") || shape.output().is_some_and(pch) {
        return Err("a precompiled header");
    }
    // The language and the kind of output follow the names' extensions.
    for (kind, value) in &shape.slots.clone() {
        if matches!(kind, SlotKind::Source | SlotKind::Output) {
            push_key(&mut shape.key, b"ext:");
            push_key(&mut shape.key, extension(value));
        }
    }
    Ok(shape)
}

impl<'a> Shape<'a> {
    fn slot(&mut self, kind: SlotKind, value: &'a [u8]) {
        let n = match self.slots.iter().position(|&(_, v)| v == value) {
            Some(n) => n,
            None => {
                self.slots.push((kind, value));
                self.slots.len() - 1
            }
        };
        push_slot(&mut self.key, n);
        // A slot's kind is the most specific use of its value.
        if let Some(slot) = self.slots.get_mut(n) {
            if slot.0 == SlotKind::Value {
                slot.0 = kind;
            }
        }
    }

    /// The slot values with the output and dependency file replaced, for the
    /// compile that proves a template (it must not touch the build's files).
    pub fn proving_values(&self, output: &'a [u8]) -> Vec<&'a [u8]> {
        self.slots
            .iter()
            .map(|&(kind, v)| match kind {
                SlotKind::Output => output,
                SlotKind::DepFile => b"/dev/null".as_slice(),
                _ => v,
            })
            .collect()
    }

    /// The slot values as the build gave them.
    pub fn values(&self) -> Vec<&'a [u8]> {
        self.slots.iter().map(|&(_, v)| v).collect()
    }

    /// The output file (`-o`'s value).
    pub fn output(&self) -> Option<&'a [u8]> {
        self.slots
            .iter()
            .find(|(k, _)| *k == SlotKind::Output)
            .map(|&(_, v)| v)
    }
}

/// Flags that make clang write files beside the object.
fn writes_beside(arg: &[u8]) -> Option<&'static str> {
    let p = |prefix: &[u8]| arg.starts_with(prefix);
    let writes = p(b"-save-temps")
        || p(b"-gsplit-dwarf")
        || p(b"-MJ")
        || p(b"-ftime-trace")
        || p(b"--serialize-diagnostics")
        || p(b"-fstack-usage")
        || p(b"-fprofile")
        || p(b"-fdump")
        || ((p(b"-Wp,") || p(b"-Xpreprocessor")) && arg.windows(2).any(|w| w == b"-M"));
    writes.then_some("a flag that writes files beside the object")
}

/// `-Idir`, `-DX=1`, `-UX`, `-isystemdir` … as one argument.
fn is_joined_value(arg: &[u8]) -> bool {
    let joined = |flag: &[u8]| arg.len() > flag.len() && arg.starts_with(flag);
    joined(b"-I")
        || joined(b"-D")
        || joined(b"-U")
        || joined(b"-MT")
        || joined(b"-MQ")
        || joined(b"-isystem")
        || joined(b"-iquote")
        || joined(b"-idirafter")
}

/// The extension of a file name (`.c`, `.o`), or empty.
fn extension(name: &[u8]) -> &[u8] {
    let base = name.rsplit(|&b| b == b'/').next().unwrap_or(name);
    match base.iter().rposition(|&b| b == b'.') {
        Some(dot) => base.get(dot..).unwrap_or_default(),
        None => b"",
    }
}

fn push_key(key: &mut Vec<u8>, arg: &[u8]) {
    key.extend_from_slice(arg);
    key.push(0);
}

fn push_slot(key: &mut Vec<u8>, n: usize) {
    key.push(SLOT);
    key.extend_from_slice(format!("{n}").as_bytes());
    key.push(0);
}

/// emcc's clang command for one shape: literal arguments and slots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(Vec<u8>),
    Slot(usize),
}

/// Shortest slot value that is also looked for inside other arguments (a
/// shorter one, like `-DX`, turns up in unrelated flags by chance).
const MIN_INSIDE: usize = 4;

impl Template {
    /// The template of `shape` from the clang command emcc ran for it
    /// (`recorded`: the compiler first, as its wrapper saw it).
    pub fn learn(
        shape: &Shape<'_>,
        build_argv: &[&[u8]],
        recorded: &[&[u8]],
    ) -> Result<Template, &'static str> {
        if recorded.is_empty() {
            return Err("emcc ran no compiler");
        }
        for &(kind, value) in &shape.slots {
            let count = |argv: &[&[u8]]| argv.iter().filter(|&&a| a == value).count();
            if count(recorded) != count(build_argv.get(1..).unwrap_or_default()) {
                return Err(
                    "emcc's clang command has a value more or fewer times than the build's",
                );
            }
            let path = matches!(
                kind,
                SlotKind::Source | SlotKind::Output | SlotKind::DepFile
            );
            // (Another slot's value may hold it: `-MF a.c.o.d` beside
            // `-o a.c.o`, as meson and CMake name them.)
            let is_slot = |a: &[u8]| shape.slots.iter().any(|&(_, v)| v == a);
            if (path || value.len() >= MIN_INSIDE)
                && recorded.iter().any(|a| !is_slot(a) && contains(a, value))
            {
                return Err("emcc's clang command holds a per-file value inside another argument");
            }
        }
        let parts = recorded
            .iter()
            .map(|&a| match shape.slots.iter().position(|&(_, v)| v == a) {
                Some(n) => Part::Slot(n),
                None => Part::Literal(a.to_vec()),
            })
            .collect();
        Ok(Template { parts })
    }

    /// The clang command for one compile of the template's shape.
    pub fn command(&self, values: &[&[u8]]) -> Option<Vec<Vec<u8>>> {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Literal(a) => Some(a.clone()),
                Part::Slot(n) => values.get(*n).map(|v| v.to_vec()),
            })
            .collect()
    }

    /// The cache entry: the shape's key, then the template (both kept, so a
    /// hash collision between two keys is a miss, never a wrong command).
    pub fn encode(&self, key: &[u8]) -> Vec<u8> {
        let mut out = key.to_vec();
        out.push(b'\n');
        for p in &self.parts {
            match p {
                Part::Literal(a) => push_key(&mut out, a),
                Part::Slot(n) => push_slot(&mut out, *n),
            }
        }
        out
    }

    /// The template in a cache entry written by [`Template::encode`] for
    /// `key`; `None` for another key or a damaged entry.
    pub fn decode(entry: &[u8], key: &[u8]) -> Option<Template> {
        let rest = entry.strip_prefix(key)?.strip_prefix(b"\n")?;
        let body = rest.strip_suffix(&[0])?;
        let mut parts = Vec::new();
        for a in body.split(|&b| b == 0) {
            parts.push(match a.strip_prefix(&[SLOT]) {
                Some(n) => Part::Slot(core::str::from_utf8(n).ok()?.parse().ok()?),
                None => Part::Literal(a.to_vec()),
            });
        }
        Some(Template { parts })
    }
}

/// emcc's clang command with `-Xclang -iwithsysroot<dir>` (how emcc adds its
/// sysroot's `include/SDL` and `include/compat`) spelled as the driver option
/// `-isystem<sysroot><dir>`, the same system include directory in the same
/// place of the search order. Compiler caches read driver options only:
/// sccache refuses any command with an `-Xclang` it does not know ("Can't
/// handle UnknownFlag arguments with -Xclang": not cached, not distributed).
/// (`-iwithsysroot<dir>` without `-Xclang` is cached, but a distributed
/// compile of the preprocessed file warns that it is unused, an error under
/// `-Werror`.) The template is proven byte-identical to emcc's object as
/// spelled here, like any other; without a `--sysroot=` nothing changes.
pub fn driver_spelled(recorded: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let sysroot = recorded
        .iter()
        .rev()
        .find_map(|a| a.strip_prefix(b"--sysroot=".as_slice()));
    let mut out = Vec::with_capacity(recorded.len());
    let mut i = 0;
    while let Some(a) = recorded.get(i) {
        let dir = recorded
            .get(i + 1)
            .filter(|_| a == b"-Xclang")
            .and_then(|next| next.strip_prefix(b"-iwithsysroot".as_slice()))
            .filter(|dir| dir.starts_with(b"/"));
        match (sysroot, dir) {
            (Some(root), Some(dir)) => {
                out.push([b"-isystem".as_slice(), root, dir].concat());
                i += 2;
            }
            _ => {
                out.push(a.clone());
                i += 1;
            }
        }
    }
    out
}

/// The cache file name of a key: 16 hex digits.
pub fn entry_name(key: &[u8]) -> String {
    format!("{:016x}.fast", crate::response_file::fnv1a64(key))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<&[u8]> {
        s.split(' ').map(str::as_bytes).collect()
    }

    #[test]
    fn files_of_one_build_share_a_shape() {
        let a =
            argv("emcc -c src/a.c -o build/a.o -Iinc -DX=1 -MD -MT build/a.o -MF build/a.d -O2");
        let b =
            argv("emcc -c src/b.c -o build/b.o -Iinc2 -DX=2 -MD -MT build/b.o -MF build/b.d -O2");
        let (sa, sb) = (shape(&a).unwrap(), shape(&b).unwrap());
        assert_eq!(sa.key, sb.key);
        // -MT's value equals -o's: one slot, and the key says so.
        assert_eq!(sa.slots.len(), 5);
        assert_eq!(sa.output(), Some(b"build/a.o".as_slice()));
        assert_eq!(
            sa.proving_values(b"t.o"),
            [
                b"src/a.c".as_slice(),
                b"t.o",
                b"-Iinc",
                b"-DX=1",
                b"/dev/null"
            ]
        );
    }

    #[test]
    fn flags_emcc_reacts_to_and_extensions_change_the_shape() {
        let base = shape(&argv("emcc -c a.c -o a.o -O2")).unwrap().key;
        for other in [
            "emcc -c a.c -o a.o -O3",
            "emcc -c a.c -o a.o -O2 -fexceptions",
            "emcc -c a.c -o a.o -O2 -sSIDE_MODULE=1",
            "em++ -c a.c -o a.o -O2",
            "emcc -c a.cpp -o a.o -O2",
            "emcc -c a.c -o a.obj -O2",
            "emcc -c a.c -O2 -o a.o",
        ] {
            assert_ne!(shape(&argv(other)).unwrap().key, base, "{other}");
        }
        // Equal and unequal values are different shapes too.
        assert_ne!(
            shape(&argv("emcc -c a.c -o x -MT x")).unwrap().key,
            shape(&argv("emcc -c a.c -o x -MT y")).unwrap().key
        );
    }

    #[test]
    fn commands_the_fast_path_leaves_to_emcc() {
        for (cmd, why) in [
            ("emcc a.c -o a.so -shared", "not a compile to an object"),
            ("emcc -E a.c -o a.i", "not a compile to an object"),
            ("emcc -S a.c -o a.s", "not a compile to an object"),
            ("emcc -c a.c b.c", "not one translation unit"),
            ("emcc -c a.c", "no -o FILE"),
            ("emcc -c a.c -oa.o", "a joined -oFILE or -MFFILE"),
            ("emcc -c @args -o a.o", "a response file"),
            (
                "emcc -c a.c -o a.o -save-temps",
                "a flag that writes files beside the object",
            ),
            (
                "emcc -c a.c -o a.o -Wp,-MD,a.d",
                "a flag that writes files beside the object",
            ),
            (
                "emcc -c a.c -o a.o -MJ a.json",
                "a flag that writes files beside the object",
            ),
            ("emcc -c - -o a.o", "not one translation unit"),
            ("emcc -x c-header -c h.c -o h.pch", "a precompiled header"),
            (
                "emcc -Xclang -emit-pch -c h.c -o h.o",
                "a precompiled header",
            ),
        ] {
            assert_eq!(shape(&argv(cmd)), Err(why), "{cmd}");
        }
    }

    const RECORDED: &str = "/usr/bin/clang-14 -target wasm32-unknown-emscripten -DEMSCRIPTEN \
        --sysroot=/s -c -O2 -Iinc -DX=1 -MD -MT build/a.o -MF build/a.d src/a.c -o build/a.o";

    #[test]
    fn a_template_carries_over_to_the_next_file() {
        let build =
            argv("emcc -c src/a.c -o build/a.o -Iinc -DX=1 -MD -MT build/a.o -MF build/a.d -O2");
        let sa = shape(&build).unwrap();
        let t = Template::learn(&sa, &build, &argv(RECORDED)).unwrap();
        let next =
            argv("emcc -c src/b.c -o build/b.o -Ilib -DX=2 -MD -MT build/b.o -MF build/b.d -O2");
        let sb = shape(&next).unwrap();
        let cmd = t.command(&sb.values()).unwrap();
        let want: Vec<Vec<u8>> = RECORDED
            .replace("src/a.c", "src/b.c")
            .replace("build/a", "build/b")
            .replace("-Iinc", "-Ilib")
            .replace("-DX=1", "-DX=2")
            .split(' ')
            .map(|s| s.as_bytes().to_vec())
            .collect();
        assert_eq!(cmd, want);
        // Through the cache entry and back.
        let entry = t.encode(&sa.key);
        assert_eq!(Template::decode(&entry, &sa.key), Some(t.clone()));
        assert_eq!(Template::decode(&entry, &sb.key[..sb.key.len() - 1]), None);
        assert_eq!(Template::decode(b"garbage", &sa.key), None);
    }

    #[test]
    fn meson_and_cmake_names_that_hold_each_other_carry_over() {
        let build = argv(
            "emcc -c ../src/a.c -o CMakeFiles/x.dir/src/a.c.o -MD -MT CMakeFiles/x.dir/src/a.c.o \
             -MF CMakeFiles/x.dir/src/a.c.o.d",
        );
        let s = shape(&build).unwrap();
        let rec = argv(
            "clang -DEMSCRIPTEN -c -MD -MT CMakeFiles/x.dir/src/a.c.o -MF CMakeFiles/x.dir/src/a.c.o.d \
             ../src/a.c -o CMakeFiles/x.dir/src/a.c.o",
        );
        let t = Template::learn(&s, &build, &rec).unwrap();
        let next = argv(
            "emcc -c ../src/b.c -o CMakeFiles/x.dir/src/b.c.o -MD -MT CMakeFiles/x.dir/src/b.c.o \
             -MF CMakeFiles/x.dir/src/b.c.o.d",
        );
        let cmd = t.command(&shape(&next).unwrap().values()).unwrap();
        let cmd: Vec<String> = cmd
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        assert_eq!(
            cmd.join(" "),
            "clang -DEMSCRIPTEN -c -MD -MT CMakeFiles/x.dir/src/b.c.o -MF CMakeFiles/x.dir/src/b.c.o.d \
             ../src/b.c -o CMakeFiles/x.dir/src/b.c.o"
        );
    }

    #[test]
    fn templates_that_would_not_carry_over_are_refused() {
        let build = argv("emcc -c src/a.c -o build/a.o -DEMSCRIPTEN");
        let s = shape(&build).unwrap();
        // emcc adds -DEMSCRIPTEN itself: the build's slot value appears twice.
        let rec = argv("clang -DEMSCRIPTEN -c -DEMSCRIPTEN src/a.c -o build/a.o");
        assert!(Template::learn(&s, &build, &rec).is_err());
        // A file name inside another argument.
        let rec = argv("clang -c src/a.c -o build/a.o -Xclang -dwarf=build/a.o.dwo");
        assert!(Template::learn(&s, &build, &rec).is_err());
        assert!(Template::learn(&s, &build, &[]).is_err());
    }

    #[test]
    fn mode_words() {
        for m in [Mode::Off, Mode::On, Mode::Verify] {
            assert_eq!(Mode::parse(m.as_str().as_bytes()), Some(m));
        }
        assert_eq!(Mode::parse(b"yes"), None);
    }

    fn spelled(argv: &[&str]) -> Vec<String> {
        let argv: Vec<Vec<u8>> = argv.iter().map(|a| a.as_bytes().to_vec()).collect();
        driver_spelled(&argv)
            .into_iter()
            .map(|a| String::from_utf8(a).unwrap())
            .collect()
    }

    #[test]
    fn xclang_iwithsysroot_becomes_isystem_under_the_sysroot_and_nothing_else_changes() {
        assert_eq!(
            spelled(&[
                "clang",
                "-Xclang",
                "-iwithsysroot/include/SDL",
                "--sysroot=/s",
                "-Xclang",
                "-load",
                "-Xclang",
                "-iwithsysroot/include/compat",
                "-c",
                "x.c",
                "-Xclang",
            ]),
            [
                "clang",
                "-isystem/s/include/SDL",
                "--sysroot=/s",
                "-Xclang",
                "-load",
                "-isystem/s/include/compat",
                "-c",
                "x.c",
                "-Xclang"
            ]
        );
    }

    #[test]
    fn without_a_sysroot_the_command_is_kept() {
        let argv = ["clang", "-Xclang", "-iwithsysroot/include/SDL", "-c", "x.c"];
        assert_eq!(spelled(&argv), argv);
    }
}
