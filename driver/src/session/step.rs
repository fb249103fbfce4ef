//! What a recognised exec did for the build: a compile, a link, an archive.
//!
//! The session does not read compiler flags itself: it asks the rules'
//! reader (`pyrewrite_rules::command`, the code that decides the rewrite), so
//! the progress display, the summary, `compile_commands.json` and the
//! completeness check count what the rewrite saw — `@file` contents
//! included. This module only turns event strings into bytes and back and
//! reads the response files, relative to the exec's working directory.

use pyrewrite_protocol::{Action, Event};
use pyrewrite_rules::command::{self, read_command};
use pyrewrite_rules::Tool;
use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// A response file larger than this is left unread (the `@file` stays in the
/// command): a hostile or broken build cannot make the driver hold an
/// arbitrary amount of memory per exec.
const RESPONSE_FILE_LIMIT: u64 = 16 << 20;

/// The build step one compiler/binutil exec performs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `cc -c a.c b.c`: the sources compiled, and the object each writes
    /// (same order).
    Compile {
        sources: Vec<String>,
        objects: Vec<String>,
    },
    /// A compiler driver or `ld` producing an executable or shared object.
    Link { output: Option<String> },
    /// `ar`/`ranlib`: an archive written or indexed.
    Archive { output: Option<String> },
    /// Anything else (`cc -E`, `cc --version`, `strip`, an unrecognised exec).
    Other,
}

/// One exec's command line read back: `args` as the program reads them
/// (response files expanded, a compiler cache left out) and its step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub args: Vec<String>,
    pub step: Step,
}

/// Read `argv` of an exec of `tool` (the event's `tool` field) that ran in
/// `cwd`. An exec of no known tool is [`Step::Other`], argv unchanged.
pub fn read(tool: Option<&str>, argv: &[String], cwd: &str) -> Command {
    let Some(tool) = tool.and_then(Tool::from_name) else {
        return Command {
            args: argv.to_vec(),
            step: Step::Other,
        };
    };
    let bytes: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
    let read_file = |name: &[u8]| read_response_file(Path::new(cwd), name);
    let cmd = read_command(tool, &bytes, &read_file);
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let step = match cmd.step {
        command::Step::Compile { units } => {
            let (sources, objects) = units.iter().map(|(s, o)| (text(s), text(o))).unzip();
            Step::Compile { sources, objects }
        }
        command::Step::Link { output } => Step::Link {
            output: output.as_deref().map(text),
        },
        command::Step::Archive { output } => Step::Archive {
            output: output.as_deref().map(text),
        },
        command::Step::Other => Step::Other,
    };
    Command {
        args: cmd.args.iter().map(|a| text(a)).collect(),
        step,
    }
}

/// The build step of an exec (see [`read`]).
pub fn classify_step(tool: Option<&str>, argv: &[String], cwd: &str) -> Step {
    read(tool, argv, cwd).step
}

/// The build step of an event: read from the command that ran. A rewrite
/// keeps the step (same mode, sources, `-o`), and its `@file`s are the
/// copies the preload wrote, which stay; the build's own response files may
/// be gone by the time the event is read (ninja deletes them once a command
/// succeeded). Answered and refused execs did nothing.
pub fn event_step(event: &Event) -> Step {
    match (event.action, &event.new_argv) {
        (Action::Rewrite, Some(ran)) => classify_step(event.tool.as_deref(), ran, &event.cwd),
        (Action::Rewrite | Action::Passthrough, _) => {
            classify_step(event.tool.as_deref(), &event.argv, &event.cwd)
        }
        (Action::Answer | Action::Refuse, _) => Step::Other,
    }
}

/// A response file named in an exec that ran in `cwd`, if it is readable
/// and not larger than [`RESPONSE_FILE_LIMIT`].
fn read_response_file(cwd: &Path, name: &[u8]) -> Option<Vec<u8>> {
    let file = std::fs::File::open(cwd.join(OsStr::from_bytes(name))).ok()?;
    let mut text = Vec::new();
    file.take(RESPONSE_FILE_LIMIT + 1)
        .read_to_end(&mut text)
        .ok()?;
    (text.len() as u64 <= RESPONSE_FILE_LIMIT).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn steps_are_classified_by_tool_and_flags() {
        let step = |tool, s| classify_step(tool, &v(s), "/");
        assert_eq!(
            step(Some("cc"), "gcc -c a.c"),
            Step::Compile {
                sources: vec!["a.c".into()],
                objects: vec!["a.o".into()],
            }
        );
        assert_eq!(
            step(Some("c++"), "g++ -shared a.o b.o -o m.so"),
            Step::Link {
                output: Some("m.so".into())
            }
        );
        assert_eq!(step(Some("cc"), "gcc --version"), Step::Other);
        assert_eq!(step(Some("cc"), "gcc -E a.c"), Step::Other);
        assert_eq!(
            step(Some("ar"), "ar rcs libx.a a.o"),
            Step::Archive {
                output: Some("libx.a".into())
            }
        );
        assert_eq!(step(None, "gcc -c a.c"), Step::Other);
        assert_eq!(step(Some("strip"), "strip a.so"), Step::Other);
    }

    #[test]
    fn response_files_are_read_relative_to_the_exec_cwd() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.rsp"), "-c src/a.c -o obj/a.o\n").unwrap();
        let cwd = dir.path().to_str().unwrap();
        let cmd = read(Some("cc"), &v("gcc -O2 @a.rsp"), cwd);
        assert_eq!(
            cmd.step,
            Step::Compile {
                sources: vec!["src/a.c".into()],
                objects: vec!["obj/a.o".into()],
            }
        );
        assert_eq!(cmd.args, v("gcc -O2 -c src/a.c -o obj/a.o"));
        // Elsewhere, the file is not found: the `@file` stays, no compile.
        let elsewhere = read(Some("cc"), &v("gcc -O2 @a.rsp"), "/");
        assert_eq!(elsewhere.step, Step::Other);
        assert_eq!(elsewhere.args, v("gcc -O2 @a.rsp"));
    }

    #[test]
    fn an_oversized_response_file_is_left_unread() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.rsp");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(RESPONSE_FILE_LIMIT + 1).unwrap();
        assert!(read_response_file(dir.path(), b"big.rsp").is_none());
        std::fs::write(&big, "-c a.c").unwrap();
        assert!(read_response_file(dir.path(), b"big.rsp").is_some());
    }
}
