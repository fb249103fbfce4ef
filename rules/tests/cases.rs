//! Table-driven: every real command line in `data/cases.txt` must get exactly
//! the decision written next to it (full argv, answer or refusal).

use pyrewrite_rules::{decide, explain, Decision, Target};

struct Case {
    name: String,
    path: Option<String>,
    argv: Vec<String>,
    want: String,
}

fn cases() -> Vec<Case> {
    let text = include_str!("data/cases.txt");
    let mut cases = Vec::new();
    for block in text.split("\n\n") {
        let mut case = Case {
            name: String::new(),
            path: None,
            argv: Vec::new(),
            want: String::new(),
        };
        for line in block.lines() {
            if let Some(name) = line.strip_prefix("# ") {
                if case.name.is_empty() {
                    case.name = name.to_string();
                }
            } else if let Some(path) = line.strip_prefix("path: ") {
                case.path = Some(path.to_string());
            } else if let Some(argv) = line.strip_prefix("argv: ") {
                case.argv = argv.split_whitespace().map(str::to_string).collect();
            } else if let Some(want) = line.strip_prefix("want: ") {
                case.want = want.to_string();
            }
        }
        if !case.argv.is_empty() {
            assert!(!case.want.is_empty(), "case `{}` has no want", case.name);
            cases.push(case);
        }
    }
    cases
}

fn profile() -> Target {
    Target {
        python_include: Some("/pyodide/include/python3.11".into()),
        host_python_includes: vec!["/opt/conda/include/python3.11".into()],
        ..Target::default()
    }
}

fn expand_macros(want: &str) -> String {
    let w = "-Werror=implicit-function-declaration -Werror=mismatched-parameter-types -Werror=return-type";
    want.replace("$CXX", &format!("{w} -O2 -g0 -fPIC -fexceptions"))
        .replace("$C", &format!("{w} -O2 -g0 -fPIC"))
        .replace("$LDXX", "-O2 -g0 -fexceptions")
        .replace("$LD", "-O2 -g0")
        .replace("$SIDE", "-sSIDE_MODULE=1 -sWASM_BIGINT")
        .replace(
            "$RUN",
            "-sEXIT_RUNTIME=1 -sNODERAWFS=1 -sFORCE_FILESYSTEM=1 -sSINGLE_FILE=1",
        )
}

/// The decision in the table's words.
fn render(d: &Decision) -> String {
    match d {
        Decision::Passthrough => "pass".into(),
        Decision::Rewrite { argv, files, .. } => {
            assert!(files.is_empty(), "no response files in the table");
            let args: Vec<_> = argv.iter().map(|a| String::from_utf8_lossy(a)).collect();
            format!("rewrite {}", args.join(" "))
        }
        Decision::Answer {
            stdout, exit_code, ..
        } => {
            let out = String::from_utf8_lossy(stdout).replace('\n', "\\n");
            let out = if out.is_empty() { "\"\"".into() } else { out };
            format!("answer {exit_code} {out}")
        }
        Decision::Refuse { exit_code, .. } => format!("refuse {exit_code}"),
    }
}

#[test]
fn every_real_command_line_gets_its_decision() {
    let cases = cases();
    assert!(cases.len() >= 80, "only {} cases", cases.len());
    let target = profile();
    let no_files = |_: &[u8]| None;
    let mut failures = Vec::new();
    for case in &cases {
        let argv: Vec<&[u8]> = case.argv.iter().map(|a| a.as_bytes()).collect();
        let path = case.path.as_deref().unwrap_or(&case.argv[0]);
        let decision = decide(path.as_bytes(), &argv, &target, &no_files);
        let got = render(&decision);
        let want = expand_macros(&case.want);
        if got != want {
            failures.push(format!(
                "case `{}`\n  want: {want}\n  got:  {got}",
                case.name
            ));
        }
        // explain() must agree with decide() and always give a reason.
        let explained = explain(path.as_bytes(), &argv, &target, &no_files);
        assert_eq!(
            explained.decision, decision,
            "explain differs: {}",
            case.name
        );
        assert!(!explained.reason.is_empty(), "no reason: {}", case.name);
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn the_table_covers_every_build_system_and_action() {
    let cases = cases();
    let count = |needle: &str| cases.iter().filter(|c| c.name.contains(needle)).count();
    for system in ["setuptools", "Debian", "meson", "cmake", "autoconf"] {
        assert!(count(system) >= 4, "too few {system} cases");
    }
    for action in ["pass", "rewrite", "answer", "refuse"] {
        assert!(
            cases.iter().any(|c| c.want.starts_with(action)),
            "no {action} case"
        );
    }
}
