//! One builder for the `Event`s the driver's unit tests feed to the session
//! model, the collector, the log, the compdb and wheel provenance. Tests
//! override what they care about with struct-update syntax.

use pyrewrite_protocol::{Action, Event};

/// An exec event; `argv`/`new_argv` are split on whitespace.
pub fn event(action: Action, tool: Option<&str>, argv: &str, new_argv: Option<&str>) -> Event {
    let split = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    Event {
        pid: 1,
        ppid: 0,
        cwd: "/w".into(),
        function: "execve".into(),
        path: "/usr/bin/gcc".into(),
        argv: split(argv),
        action,
        new_argv: new_argv.map(split),
        tool: tool.map(String::from),
        reason: None,
        time: 0.0,
    }
}

/// proptest's configuration for the driver's property tests: `cases` in the
/// normal suite, `$PROPTEST_CASES` when set (longer runs on demand,
/// RELIABILITY.md "Fuzzing"); no regression files written into the tree.
pub fn proptest_config(cases: u32) -> proptest::test_runner::Config {
    let mut c = proptest::test_runner::Config {
        failure_persistence: None,
        ..Default::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = cases;
    }
    c
}
