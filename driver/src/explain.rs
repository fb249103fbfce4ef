//! `pyrewrite explain`: the rules' decision for one command line, without
//! running it. Same engine, same profile lookup as the preload, so what it
//! prints is what a build would do.
//!
//! `--json` prints exactly one object, a stable format for scripts:
//!
//! | key | passthrough | rewrite | answer | refuse |
//! |---|---|---|---|---|
//! | `action` | `"passthrough"` | `"rewrite"` | `"answer"` | `"refuse"` |
//! | `argv` | the input argv | the argv that would run | `[]` | `[]` |
//! | `stdout` | `null` | `null` | what is printed | `""` |
//! | `exit_code` | `null` | `null` | the exit status | the exit status |
//! | `reason` | one line | one line | one line | the message printed on stderr |

use pyrewrite_rules::profile::ProfileError;
use pyrewrite_rules::{classify_command, explain, Decision, Explanation, Target, Tool};
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Show what pyrewrite would run instead of a command, without running anything.
///
/// The command's argv[0] is taken as the exec path (as if the build ran it
/// through PATH), response files (`@file`) are read from the current
/// directory, and nothing is written or executed.
#[derive(clap::Args)]
#[command(
    after_help = "argv[0] is taken as the exec path; response files (@file) are read from \
    the current directory; nothing is written or run. For a rewrite, `env:` lines show the \
    profile's variables as the command would get them (composed with this shell's values). \
    `explain` exits 0 whatever the decision, \
    2 when the profile is missing or broken: then it shows what the preload does (a compiler \
    call refused with the same message, anything else run unchanged).\n\n\
    --json keys: action (passthrough|rewrite|answer|refuse); argv (what would run: the input \
    for passthrough, [] for answer/refuse); stdout and exit_code (set for answer and refuse, \
    null otherwise); reason.\n\n\
    Examples:\n  \
    pyrewrite explain -- gcc -pthread -fPIC -I/usr/include/python3.11 -c x.c -o x.o\n  \
    pyrewrite explain --json -- x86_64-linux-gnu-gcc -shared x.o -o x.cpython-311-x86_64-linux-gnu.so\n  \
    pyrewrite explain --target target.json -- g++ -fopenmp -c y.cpp"
)]
pub struct Args {
    /// Target profile (JSON). Default: $PYREWRITE_TARGET if set, else the user's default
    /// profile ($XDG_CONFIG_HOME/pyrewrite/target.json or ~/.config/pyrewrite/target.json).
    #[arg(long, value_name = "FILE")]
    pub target: Option<PathBuf>,
    /// Print exactly one JSON object: {"action", "argv", "stdout", "exit_code", "reason"}.
    #[arg(long)]
    pub json: bool,
    /// The command line to explain (put it after `--`).
    #[arg(last = true, required = true, value_name = "ARGV")]
    pub argv: Vec<OsString>,
}

pub fn main(args: Args) -> anyhow::Result<ExitCode> {
    let argv: Vec<Vec<u8>> = args.argv.into_iter().map(OsString::into_vec).collect();
    let argv_refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
    let (e, env, code) = match crate::profile::load(args.target.as_deref()) {
        Ok(profile) => {
            let target = profile.target;
            let read_file =
                |p: &[u8]| std::fs::read(Path::new(std::ffi::OsStr::from_bytes(p))).ok();
            let e = explain(&argv[0], &argv_refs, &target, &read_file);
            (e, rewritten_env(&target), ExitCode::SUCCESS)
        }
        Err(err) => {
            // What the preload does without a usable profile: a compiler
            // call is refused with this message, anything else runs.
            eprintln!("pyrewrite: error: {err}");
            (
                without_profile(&argv_refs, &err),
                Vec::new(),
                ExitCode::from(2),
            )
        }
    };
    if args.json {
        println!("{}", to_json(&e, &argv));
    } else {
        print!("{}", to_human(&e, &env));
    }
    Ok(code)
}

/// The preload's decision when the profile cannot be loaded: a recognised
/// tool is refused (exit 1) with the loader's message, the rest passes through.
fn without_profile(argv: &[&[u8]], err: &ProfileError) -> Explanation {
    let path = argv.first().copied().unwrap_or_default();
    match classify_command(path, argv.first().copied(), || argv.get(1).copied()) {
        Some(tool) => {
            let message = format!("pyrewrite: error: {err}");
            Explanation {
                decision: Decision::Refuse {
                    tool,
                    message: message.clone(),
                    exit_code: 1,
                },
                reason: message,
                notes: Vec::new(),
            }
        }
        None => Explanation {
            decision: Decision::Passthrough,
            reason: "not a compiler or binutil: runs unchanged (no profile needed)".into(),
            notes: Vec::new(),
        },
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn to_json(e: &Explanation, input: &[Vec<u8>]) -> serde_json::Value {
    let strings = |v: &[Vec<u8>]| v.iter().map(|a| lossy(a)).collect::<Vec<_>>();
    let (argv, stdout, exit_code) = match &e.decision {
        Decision::Passthrough => (strings(input), None, None),
        Decision::Rewrite { argv, .. } => (strings(argv), None, None),
        Decision::Answer {
            stdout, exit_code, ..
        } => (Vec::new(), Some(lossy(stdout)), Some(*exit_code)),
        Decision::Refuse { exit_code, .. } => (Vec::new(), Some(String::new()), Some(*exit_code)),
    };
    serde_json::json!({
        "action": e.decision.action_name(),
        "argv": argv,
        "stdout": stdout,
        "exit_code": exit_code,
        "reason": e.reason,
    })
}

/// One argument as a shell would need it written
/// (`pyrewrite_rules::response_file::quote_word`, the one quoting).
fn shell_quote(arg: &[u8]) -> String {
    let mut out = Vec::new();
    pyrewrite_rules::response_file::quote_word(arg, &mut out);
    lossy(&out)
}

/// The profile's `env` as the rewritten command would get it here: composed
/// with this process's values, as the preload composes it with the build's.
fn rewritten_env(target: &Target) -> Vec<(String, String)> {
    target
        .env
        .iter()
        .map(|(name, value)| {
            let caller = std::env::var_os(name).map(OsString::into_vec);
            let v = Target::env_value(name.as_bytes(), value.as_bytes(), caller.as_deref());
            (name.clone(), lossy(&v))
        })
        .collect()
}

/// For a compile routed through `pyrewrite-cc`: what it would run now,
/// asked of `pyrewrite-cc --explain` itself (it owns the cache and its key).
fn fast_path_line(argv: &[Vec<u8>], env: &[(String, String)]) -> Option<String> {
    let runner = argv.first()?;
    if !runner.ends_with(b"/pyrewrite-cc") {
        return None;
    }
    let out = std::process::Command::new(std::ffi::OsStr::from_bytes(runner))
        .arg("--explain")
        .args(argv.iter().skip(1).map(|a| std::ffi::OsStr::from_bytes(a)))
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env_remove("LD_PRELOAD")
        .output()
        .ok()?;
    Some(lossy(&out.stdout).trim().to_string())
}

fn to_human(e: &Explanation, env: &[(String, String)]) -> String {
    let mut out = format!("action: {}\n", e.decision.action_name());
    if let Some(tool) = e.decision.tool() {
        out += &format!("tool:   {}\n", tool.as_str());
    }
    out += &format!("reason: {}\n", e.reason);
    match &e.decision {
        Decision::Passthrough => {}
        Decision::Rewrite {
            tool,
            argv,
            files,
            env: own_env,
        } => {
            let cmd: Vec<_> = argv.iter().map(|a| shell_quote(a)).collect();
            out += &format!("run:    {}\n", cmd.join(" "));
            if let Some(line) = fast_path_line(argv, own_env) {
                out += &format!("fast:   {line}\n");
            }
            // A build system's configure step keeps the build's environment;
            // a rewritten compiler gets the profile's `env` and its own.
            let profile_env = if tool.is_build_system() { &[][..] } else { env };
            for (name, value) in profile_env.iter().chain(own_env) {
                out += &format!("env:    {name}={}\n", shell_quote(value.as_bytes()));
            }
            for (path, contents) in files {
                let what = match tool {
                    Tool::Meson => "generated meson cross file",
                    Tool::Cmake => "generated CMake toolchain file",
                    _ => "rewritten response file",
                };
                out += &format!("writes: {} ({what}):\n", lossy(path));
                for line in lossy(contents).lines() {
                    out += &format!("          {line}\n");
                }
            }
        }
        Decision::Answer {
            stdout, exit_code, ..
        } => {
            out += &format!("stdout: {:?}\nexit:   {exit_code}\n", lossy(stdout));
        }
        Decision::Refuse { exit_code, .. } => out += &format!("exit:   {exit_code}\n"),
    }
    if !e.notes.is_empty() {
        out += "changes:\n";
        for note in &e.notes {
            out += &format!("  - {note}\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn explain_gcc(argv: &[&str], target: &Target) -> Explanation {
        let argv: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
        explain(argv[0], &argv, target, &|_| None)
    }

    #[test]
    fn human_output_shows_the_profile_env_of_a_rewrite_only() {
        let mut target = Target::default();
        target
            .env
            .insert("NODE_PATH".into(), "/usr/share/nodejs".into());
        let env = rewritten_env(&target);
        assert_eq!(env.len(), 1);
        assert!(env[0].1.starts_with("/usr/share/nodejs"), "{env:?}");
        let e = explain_gcc(&["gcc", "-O2", "p.c", "-o", "p"], &target);
        let out = to_human(&e, &env);
        assert!(
            out.contains(&format!(
                "env:    NODE_PATH={}\n",
                shell_quote(env[0].1.as_bytes())
            )),
            "{out}"
        );
        let e = explain_gcc(&["python3", "setup.py"], &target);
        assert!(!to_human(&e, &env).contains("env:"));
        // The JSON keeps its five keys.
        let json = to_json(&e, &[b"python3".to_vec()]);
        assert_eq!(json.as_object().unwrap().len(), 5);
    }
}
