//! `compile_commands.json` in clang's JSON compilation database format:
//! one `{directory, file, arguments, output}` object per compiled source.
//!
//! In `run` mode the entries hold the rewritten (emcc) commands, so an editor
//! indexes the cross build; in `trace` mode they hold what the build ran.
//! Response files are expanded in `arguments` (read when the event arrives:
//! ninja deletes its `.rsp` files once a command succeeds), and a compiler
//! cache (`ccache gcc`) is left out: tools want the compiler first.

use super::step::{self, Step};
use pyrewrite_protocol::{Action, Event};
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub directory: String,
    pub file: String,
    pub arguments: Vec<String>,
    pub output: String,
}

/// Which command line of an event the database records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commands {
    /// What the build asked for (`trace`).
    Original,
    /// What actually ran: `new_argv` for rewritten execs (`run`).
    AsRun,
}

/// The database entries for one event: one per source a compiler compiled.
/// Answered and refused execs compiled nothing and give none.
pub fn entries_for(event: &Event, commands: Commands) -> Vec<Entry> {
    if !matches!(event.tool.as_deref(), Some("cc") | Some("c++")) {
        return Vec::new();
    }
    let argv = match (event.action, commands, &event.new_argv) {
        (Action::Rewrite, Commands::AsRun, Some(new)) => new,
        (Action::Rewrite | Action::Passthrough, _, _) => &event.argv,
        (Action::Answer | Action::Refuse, _, _) => return Vec::new(),
    };
    let command = step::read(event.tool.as_deref(), argv, &event.cwd);
    let Step::Compile { sources, objects } = command.step else {
        return Vec::new();
    };
    sources
        .into_iter()
        .zip(objects)
        .map(|(file, output)| Entry {
            directory: event.cwd.clone(),
            output,
            file,
            arguments: command.args.clone(),
        })
        .collect()
}

/// Write the database next to its final name and rename it into place, so a
/// reader (clangd watching the file) never sees half of it.
pub fn write_atomic(path: &Path, entries: &[Entry]) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(entries)?;
    text.push('\n');
    super::fsutil::write_atomic(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(action: Action, argv: &str, new_argv: Option<&str>) -> Event {
        Event {
            cwd: "/src/pkg".into(),
            ..crate::test_support::event(action, Some("cc"), argv, new_argv)
        }
    }

    #[test]
    fn run_mode_records_the_rewritten_command() {
        let e = ev(
            Action::Rewrite,
            "gcc -c a.c -o build/a.o",
            Some("/usr/bin/emcc -c a.c -o build/a.o -fPIC"),
        );
        let run = entries_for(&e, Commands::AsRun);
        assert_eq!(run.len(), 1);
        assert_eq!(run[0].arguments[0], "/usr/bin/emcc");
        assert_eq!(run[0].directory, "/src/pkg");
        assert_eq!(run[0].file, "a.c");
        assert_eq!(run[0].output, "build/a.o");
        let trace = entries_for(&e, Commands::Original);
        assert_eq!(trace[0].arguments[0], "gcc");
    }

    #[test]
    fn one_entry_per_source_with_derived_outputs() {
        let e = ev(Action::Passthrough, "gcc -c src/a.c src/b.c", None);
        let got = entries_for(&e, Commands::Original);
        let pairs: Vec<(&str, &str)> = got
            .iter()
            .map(|x| (x.file.as_str(), x.output.as_str()))
            .collect();
        assert_eq!(pairs, vec![("src/a.c", "a.o"), ("src/b.c", "b.o")]);
    }

    #[test]
    fn links_answers_and_non_compilers_give_nothing() {
        assert!(entries_for(
            &ev(Action::Rewrite, "gcc a.o -o m.so", None),
            Commands::AsRun
        )
        .is_empty());
        assert!(entries_for(&ev(Action::Answer, "gcc -c a.c", None), Commands::AsRun).is_empty());
        let mut other = ev(Action::Passthrough, "python3 -c a.c", None);
        other.tool = None;
        assert!(entries_for(&other, Commands::Original).is_empty());
    }

    #[test]
    fn response_files_are_expanded_into_the_arguments() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("c.rsp"), "-c 'src/a b.c' -DX=1").unwrap();
        let e = Event {
            cwd: dir.path().to_str().unwrap().into(),
            ..ev(Action::Passthrough, "gcc -O2 @c.rsp", None)
        };
        let got = entries_for(&e, Commands::Original);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].file, "src/a b.c");
        assert_eq!(got[0].output, "a b.o");
        assert_eq!(got[0].arguments, ["gcc", "-O2", "-c", "src/a b.c", "-DX=1"]);
    }

    #[test]
    fn serialises_in_clang_field_names() {
        let e = ev(Action::Passthrough, "cc -c a.c", None);
        let json = serde_json::to_value(entries_for(&e, Commands::Original)).unwrap();
        let obj = &json[0];
        for key in ["directory", "file", "arguments", "output"] {
            assert!(obj.get(key).is_some(), "missing {key}");
        }
    }
}
