//! The session model: running counts over the event stream, and the summary
//! printed at the end of `run`/`trace` and by `pyrewrite events summary`.
//!
//! Pure (events in, text out) so the same code summarises a live session and
//! a log read back from disk, and the two always agree.

use super::step::{event_step, Step};
use pyrewrite_protocol::{Action, Event};
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

/// How many refusals are listed by name in the summary; the rest are counted.
const REFUSALS_LISTED: usize = 10;

/// A wheel written by the session, for the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelLine {
    pub path: String,
    pub tag: String,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Summary {
    pub execs: u64,
    pub by_action: BTreeMap<&'static str, u64>,
    pub by_tool: BTreeMap<String, u64>,
    pub compiles: u64,
    pub links: u64,
    pub archives: u64,
    /// The source of the most recent compile, for the live status line.
    pub current_source: Option<String>,
    /// `(program, reason)` of refused execs, in arrival order.
    pub refusals: Vec<(String, String)>,
    /// Input on the event socket that was not an event (a broken or hostile
    /// client), never silently dropped: reported as warnings.
    pub rejected: super::collector::Rejected,
    pub wheels: Vec<WheelLine>,
    /// `run`'s verify verdict on the wheels, one line (none when no wasm
    /// wheel was written).
    pub verify: Option<String>,
    /// `run --check`'s verdict (none without --check or without wasm wheels).
    pub check: Option<String>,
    /// `run`'s verdict when the wheels lack extension modules the build
    /// tried to make (none when nothing is missing).
    pub extensions: Option<String>,
    /// Outputs already counted as links: a compiler driver's link runs `ld`
    /// (via collect2) with the same `-o`, and that is one link, not two.
    linked_outputs: HashSet<(String, String)>,
}

impl Summary {
    /// Account for one event; returns the build step it performed so the
    /// caller (progress display) does not classify it twice.
    pub fn observe(&mut self, event: &Event) -> Step {
        self.execs += 1;
        *self.by_action.entry(event.action.as_str()).or_default() += 1;
        if let Some(tool) = &event.tool {
            *self.by_tool.entry(tool.clone()).or_default() += 1;
        }
        if event.action == Action::Refuse {
            let program = event.argv.first().unwrap_or(&event.path).clone();
            let reason = event.reason.clone().unwrap_or_default();
            self.refusals.push((program, reason));
        }
        // A refused or answered exec did nothing, so it is no compile.
        let mut step = event_step(event);
        if let Step::Link {
            output: Some(output),
        } = &step
        {
            if !self
                .linked_outputs
                .insert((event.cwd.clone(), output.clone()))
            {
                step = Step::Other;
            }
        }
        match &step {
            Step::Compile { sources, .. } => {
                self.compiles += sources.len() as u64;
                self.current_source = sources.last().cloned();
            }
            Step::Link { .. } => self.links += 1,
            Step::Archive { .. } => self.archives += 1,
            Step::Other => {}
        }
        step
    }

    pub fn count(&self, action: Action) -> u64 {
        self.by_action.get(action.as_str()).copied().unwrap_or(0)
    }

    /// The end-of-session report, one fact per line, each prefixed
    /// `pyrewrite:` so it stands out from the build's own output.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "pyrewrite: {} execs seen: {} rewritten, {} passed through, {} answered, {} refused",
            self.execs,
            self.count(Action::Rewrite),
            self.count(Action::Passthrough),
            self.count(Action::Answer),
            self.count(Action::Refuse),
        );
        let _ = writeln!(
            s,
            "pyrewrite: {} compiled, {} linked, {} archived",
            self.compiles, self.links, self.archives
        );
        if !self.by_tool.is_empty() {
            let tools: Vec<String> = self
                .by_tool
                .iter()
                .map(|(t, n)| format!("{t} {n}"))
                .collect();
            let _ = writeln!(s, "pyrewrite: tools: {}", tools.join(", "));
        }
        for (program, reason) in self.refusals.iter().take(REFUSALS_LISTED) {
            let _ = writeln!(s, "pyrewrite: refused {program}: {reason}");
        }
        if self.refusals.len() > REFUSALS_LISTED {
            let _ = writeln!(
                s,
                "pyrewrite: ... and {} more refusals (see the event log)",
                self.refusals.len() - REFUSALS_LISTED
            );
        }
        s += &self.rejected.render();
        for w in &self.wheels {
            let _ = writeln!(s, "pyrewrite: wheel {} ({})", w.path, w.tag);
        }
        if let Some(e) = &self.extensions {
            let _ = writeln!(s, "pyrewrite: extensions: {e}");
        }
        if let Some(v) = &self.verify {
            let _ = writeln!(s, "pyrewrite: verify: {v}");
        }
        if let Some(c) = &self.check {
            let _ = writeln!(s, "pyrewrite: check: {c}");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(action: Action, tool: Option<&str>, argv: &str) -> Event {
        Event {
            path: "/usr/bin/x".into(),
            reason: (action == Action::Refuse).then(|| "no wasm ld".to_string()),
            ..crate::test_support::event(action, tool, argv, None)
        }
    }

    #[test]
    fn counts_actions_tools_and_steps() {
        let mut m = Summary::default();
        m.observe(&ev(Action::Rewrite, Some("cc"), "gcc -c a.c -o a.o"));
        m.observe(&ev(Action::Rewrite, Some("cc"), "gcc -c b.c c.c"));
        m.observe(&ev(Action::Rewrite, Some("cc"), "gcc -shared a.o -o m.so"));
        m.observe(&ev(Action::Passthrough, None, "python3 setup.py"));
        m.observe(&ev(Action::Answer, Some("cc"), "gcc --version"));
        m.observe(&ev(Action::Refuse, Some("ld"), "ld -o x a.o"));
        assert_eq!(m.execs, 6);
        assert_eq!(m.count(Action::Rewrite), 3);
        assert_eq!(m.count(Action::Passthrough), 1);
        assert_eq!(m.count(Action::Answer), 1);
        assert_eq!(m.count(Action::Refuse), 1);
        assert_eq!(m.compiles, 3);
        assert_eq!(m.links, 1, "a refused ld is not a link");
        assert_eq!(m.by_tool.get("cc"), Some(&4));
        assert_eq!(m.current_source.as_deref(), Some("c.c"));
        let text = m.render();
        assert!(text.contains("6 execs seen: 3 rewritten, 1 passed through, 1 answered, 1 refused"));
        assert!(text.contains("3 compiled, 1 linked, 0 archived"));
        assert!(text.contains("refused ld: no wasm ld"));
    }

    #[test]
    fn the_ld_under_a_compiler_link_is_the_same_link() {
        let mut m = Summary::default();
        let first = m.observe(&ev(
            Action::Passthrough,
            Some("cc"),
            "cc -shared a.o -o m.so",
        ));
        let second = m.observe(&ev(
            Action::Passthrough,
            Some("ld"),
            "/usr/bin/ld -shared a.o -o m.so",
        ));
        m.observe(&ev(Action::Passthrough, Some("ld"), "ld a.o -o other.so"));
        assert!(matches!(first, Step::Link { .. }));
        assert_eq!(second, Step::Other);
        assert_eq!(m.links, 2);
    }

    #[test]
    fn malformed_lines_and_wheels_are_reported() {
        let mut m = Summary::default();
        m.rejected.malformed = 2;
        m.rejected.first_malformed = Some("not json".into());
        m.wheels.push(WheelLine {
            path: "dist/x-1-cp311-cp311-emscripten_3_1_32_wasm32.whl".into(),
            tag: "cp311-cp311-emscripten_3_1_32_wasm32".into(),
        });
        m.verify = Some("clean: 1 extension(s) in 1 wheel(s) against Pyodide 0.23.4".into());
        let text = m.render();
        assert!(text.contains("2 malformed event line(s)"), "{text}");
        assert!(text.contains("the first: not json"), "{text}");
        assert!(text.contains("wheel dist/x-1-cp311"));
        assert!(text.ends_with(
            "pyrewrite: verify: clean: 1 extension(s) in 1 wheel(s) against Pyodide 0.23.4\n"
        ));
    }
}
