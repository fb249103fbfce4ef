//! Did each shared object in a wheel come out of a link the session
//! rewrote? Build scripts copy and rename outputs, so the only thing a wheel
//! member and an event share is the file's basename (as the build named it,
//! i.e. before retagging renames it); the module name before the first `.`
//! is the fallback for builds that rename a `_foo.so` into
//! `_foo.cpython-311-x86_64-linux-gnu.so`.

use anyhow::{Context, Result};
use pyrewrite_protocol::{Action, Event};
use std::path::Path;

/// `Event::tool` names (pyrewrite_rules::Tool::as_str) of tools that link.
const LINKING_TOOLS: &[&str] = &["cc", "c++", "ld"];

/// One link a build ran, from its event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRecord {
    /// The `-o` operand as written on the command line.
    pub output: String,
    /// `true` when pyrewrite rewrote the command (it ran emcc/em++).
    pub rewritten: bool,
    /// The program the build asked for (argv[0]).
    pub program: String,
}

/// The links of a session, in the order they ran.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    pub links: Vec<LinkRecord>,
}

/// Where a wheel member came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin<'a> {
    /// The last link writing this name was rewritten. `by_module_name` when
    /// only the module name matched (the build renamed the output).
    Rewritten {
        link: &'a LinkRecord,
        by_module_name: bool,
    },
    /// The last link writing this name ran natively.
    NotRewritten { link: &'a LinkRecord },
    /// No link in the session produced it (prebuilt, vendored, or built by a
    /// tool pyrewrite does not see).
    Unknown,
}

impl Provenance {
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Provenance {
        let links = events
            .into_iter()
            .filter_map(|e| {
                let rewritten = e.action == Action::Rewrite;
                let argv = match (&e.new_argv, rewritten) {
                    (Some(new), true) => new,
                    _ if e.action == Action::Passthrough => &e.argv,
                    _ => return None,
                };
                // Only the rules' linking tools: `-o` means something else to
                // arbitrary programs, and `cpp -o` does not link.
                if !LINKING_TOOLS.contains(&e.tool.as_deref()?) {
                    return None;
                }
                Some(LinkRecord {
                    output: link_output(argv)?,
                    rewritten,
                    program: e.argv.first().cloned().unwrap_or_default(),
                })
            })
            .collect();
        Provenance { links }
    }

    /// Reads a JSON-lines event log. Lines that are not events (a log cut off
    /// mid-line, other records) are skipped and counted.
    pub fn load(path: &Path) -> Result<(Provenance, usize)> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read event log {}", path.display()))?;
        let mut skipped = 0;
        let mut events = vec![];
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match Event::from_json_line(line) {
                Ok(e) => events.push(e),
                Err(_) => skipped += 1,
            }
        }
        Ok((Provenance::from_events(&events), skipped))
    }

    /// Where the member named `member` (its name in the input wheel) came from.
    pub fn origin_of(&self, member: &str) -> Origin<'_> {
        let base = basename(member);
        let last = |pred: &dyn Fn(&LinkRecord) -> bool| self.links.iter().rev().find(|l| pred(l));
        let found = last(&|l| basename(&l.output) == base)
            .map(|l| (l, false))
            .or_else(|| {
                last(&|l| module_name(basename(&l.output)) == module_name(base)).map(|l| (l, true))
            });
        match found {
            Some((link, by_module_name)) if link.rewritten => Origin::Rewritten {
                link,
                by_module_name,
            },
            Some((link, _)) => Origin::NotRewritten { link },
            None => Origin::Unknown,
        }
    }

    /// A warning for `member` unless a rewritten link produced it.
    pub fn warning_for(&self, member: &str) -> Option<String> {
        match self.origin_of(member) {
            Origin::Rewritten { .. } => None,
            Origin::NotRewritten { link } => Some(format!(
                "{member} was last linked by a command pyrewrite did not rewrite ({} -o {})",
                link.program, link.output
            )),
            Origin::Unknown => Some(format!(
                "{member} does not come from any link in the session's events \
                 (prebuilt, or linked by a tool pyrewrite does not intercept)"
            )),
        }
    }
}

/// The output of a link command: `-o FILE`/`-oFILE` (and ld's `--output`),
/// on a command that
/// neither only compiles nor only preprocesses.
pub fn link_output(argv: &[String]) -> Option<String> {
    let args = argv.get(1..)?;
    if args
        .iter()
        .any(|a| matches!(a.as_str(), "-c" | "-S" | "-E" | "-M" | "-MM"))
    {
        return None;
    }
    let mut out = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "-o" || a == "--output" {
            out = it.next().cloned();
        } else if let Some(rest) = a.strip_prefix("--output=") {
            out = Some(rest.to_string());
        } else if let Some(rest) = a.strip_prefix("-o") {
            if !rest.is_empty() && !a.starts_with("--") {
                out = Some(rest.to_string());
            }
        }
    }
    out
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn module_name(base: &str) -> &str {
    base.split('.').next().unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No argument here holds whitespace, so joining for the shared builder is lossless.
    fn event(action: Action, argv: &[&str], new_argv: Option<&[&str]>) -> Event {
        let new_argv = new_argv.map(|a| a.join(" "));
        Event {
            cwd: "/src".into(),
            ..crate::test_support::event(action, Some("cc"), &argv.join(" "), new_argv.as_deref())
        }
    }

    const HOST: &str = "build/lib/pkg/_fast.cpython-311-x86_64-linux-gnu.so";

    #[test]
    fn rewritten_link_is_found_by_basename() {
        let link = ["gcc", "-shared", "a.o", "-o", HOST];
        let emlink = ["emcc", "-shared", "a.o", "-o", HOST, "-sSIDE_MODULE=1"];
        let events = [
            event(
                Action::Rewrite,
                &["gcc", "-c", "a.c", "-o", "a.o"],
                Some(&["emcc", "-c", "a.c", "-o", "a.o"]),
            ),
            event(Action::Rewrite, &link, Some(&emlink)),
        ];
        let p = Provenance::from_events(&events);
        assert_eq!(p.links.len(), 1, "compiles are not links: {p:?}");
        assert!(matches!(
            p.origin_of("pkg/_fast.cpython-311-x86_64-linux-gnu.so"),
            Origin::Rewritten {
                by_module_name: false,
                ..
            }
        ));
        assert_eq!(
            p.warning_for("pkg/_fast.cpython-311-x86_64-linux-gnu.so"),
            None
        );
    }

    #[test]
    fn renamed_output_matches_by_module_name() {
        let p = Provenance::from_events(&[event(
            Action::Rewrite,
            &["cc", "-shared", "-obuild/_fast.so"],
            Some(&["emcc", "-shared", "-obuild/_fast.so"]),
        )]);
        assert!(matches!(
            p.origin_of("pkg/_fast.cpython-311-x86_64-linux-gnu.so"),
            Origin::Rewritten {
                by_module_name: true,
                ..
            }
        ));
    }

    #[test]
    fn native_and_unknown_links_are_reported() {
        let p = Provenance::from_events(&[
            event(
                Action::Rewrite,
                &["gcc", "-shared", "-o", "x/_a.so"],
                Some(&["emcc", "-shared", "-o", "x/_a.so"]),
            ),
            event(
                Action::Passthrough,
                &["weird-ld", "-shared", "-o", "x/_a.so"],
                None,
            ),
        ]);
        let w = p.warning_for("pkg/_a.so").unwrap();
        assert!(w.contains("did not rewrite (weird-ld -o x/_a.so)"), "{w}");
        let w = p.warning_for("pkg/_other.so").unwrap();
        assert!(w.contains("does not come from any link"), "{w}");
    }

    #[test]
    fn only_linking_tools_count() {
        let mut cpp = event(Action::Passthrough, &["cpp", "x.h", "-o", "_a.so"], None);
        cpp.tool = Some("cpp".into());
        let mut unknown = event(Action::Passthrough, &["python3", "-o", "_a.so"], None);
        unknown.tool = None;
        assert!(Provenance::from_events(&[cpp, unknown]).links.is_empty());
    }

    #[test]
    fn link_output_ignores_compiles_and_long_options() {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(link_output(&v(&["cc", "-c", "a.c", "-o", "a.o"])), None);
        assert_eq!(
            link_output(&v(&["ld", "--output-def", "x", "-o", "y.so"])).as_deref(),
            Some("y.so")
        );
        assert_eq!(link_output(&v(&["cc", "a.o"])), None);
        assert_eq!(
            link_output(&v(&["ld", "--output", "z.so"])).as_deref(),
            Some("z.so")
        );
        assert_eq!(
            link_output(&v(&["ld", "--output=w.so"])).as_deref(),
            Some("w.so")
        );
    }
}
