//! Did each shared object in a wheel come out of a link the session
//! rewrote? Build scripts copy and rename outputs, so the only thing a wheel
//! member and an event share is the file's basename (as the build named it,
//! i.e. before retagging renames it); the module name before the first `.`
//! is the fallback for builds that rename a `_foo.so` into
//! `_foo.cpython-311-x86_64-linux-gnu.so`.
//!
//! When a member turns out to be a native ELF, [`Provenance::explain_native`]
//! says which command of the session produced or named it and why the hooks
//! did not rewrite it (a program they cannot follow: statically linked,
//! setuid, a container or compiler server; a shell started by `system()` from
//! a process that removed `LD_PRELOAD`; a link the rules passed through).

use super::elf;
use anyhow::{Context, Result};
use pyrewrite_protocol::{Action, Event};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// `Event::tool` names (pyrewrite_rules::Tool::as_str) of tools that link.
const LINKING_TOOLS: &[&str] = &["cc", "c++", "ld"];

/// Programs that run their work where `LD_PRELOAD` does not follow: a
/// container, another machine, or a server process started outside the
/// session. Matched by basename.
const OUT_OF_REACH: &[(&str, &str)] = &[
    ("docker", "a container"),
    ("podman", "a container"),
    ("nerdctl", "a container"),
    ("buildah", "a container"),
    ("apptainer", "a container"),
    ("singularity", "a container"),
    ("systemd-nspawn", "a container"),
    ("chroot", "another root file system"),
    ("ssh", "another machine"),
    (
        "sccache",
        "a compiler server that may have been started outside the session",
    ),
    ("distcc", "distributed compilation on other machines"),
    ("icecc", "distributed compilation on other machines"),
    (
        "bazel",
        "a build server that may have been started outside the session",
    ),
];

/// How many programs the hooks cannot follow are named in one explanation.
const BLIND_SPOTS_LISTED: usize = 5;

/// One link a build ran, from its event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRecord {
    /// The `-o` operand as written on the command line.
    pub output: String,
    /// `true` when pyrewrite rewrote the command (it ran emcc/em++).
    pub rewritten: bool,
    /// The program the build asked for (argv[0]).
    pub program: String,
    /// The command that ran (the rewritten one for a rewritten link).
    pub argv: Vec<String>,
    pub cwd: String,
    /// The rules' reason, when they gave one.
    pub reason: Option<String>,
}

/// One exec of the session, kept to explain a member no rewritten link made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRecord {
    pub pid: i32,
    pub cwd: String,
    /// The libc entry point (`execve`, `system`, `popen`, ...).
    pub function: String,
    /// The program as resolved for the exec.
    pub path: String,
    /// The build's own argv.
    pub argv: Vec<String>,
    pub action: Action,
}

/// The links of a session, in the order they ran, and every exec.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    pub links: Vec<LinkRecord>,
    pub execs: Vec<ExecRecord>,
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
        let events: Vec<&Event> = events.into_iter().collect();
        let execs = events
            .iter()
            .map(|e| ExecRecord {
                pid: e.pid,
                cwd: e.cwd.clone(),
                function: e.function.clone(),
                path: e.path.clone(),
                argv: e.argv.clone(),
                action: e.action,
            })
            .collect();
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
                    argv: argv.clone(),
                    cwd: e.cwd.clone(),
                    reason: e.reason.clone(),
                })
            })
            .collect();
        Provenance { links, execs }
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

    /// Why `member` (its name in the input wheel), a native ELF whose bytes
    /// are `bytes`, is not wasm: what the ELF says about itself, which
    /// command of the session produced or named it, and the likely cause.
    /// Looks at the programs the build ran (statically linked? setuid?) on
    /// the file system, so call it only for a member that is an ELF.
    pub fn explain_native(&self, member: &str, bytes: &[u8]) -> String {
        let details = match elf::inspect(bytes) {
            Some(elf::ElfInfo {
                machine,
                compiler: Some(c),
                ..
            }) => format!(" ({machine}, built by {c})"),
            Some(info) => format!(" ({})", info.machine),
            None => String::new(),
        };
        let head = format!("member {member} is a native ELF shared object{details}");
        let base = basename(member);
        let mut facts = vec![];
        let unseen = match self.origin_of(member) {
            Origin::NotRewritten { link } => {
                let reason = link
                    .reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default();
                return format!(
                    "{head}: its last link in the session, `{}` (in {}), ran natively: \
                     pyrewrite passed it through{reason}; `pyrewrite explain -- {}` shows \
                     the rules' decision",
                    shell_words(&link.argv),
                    link.cwd,
                    shell_words(&link.argv)
                );
            }
            Origin::Rewritten { link, .. } => {
                facts.push(format!(
                    "the session's last link writing {base} was rewritten (`{}`, in {}): the ELF \
                     was written after it by something the hooks did not see, or copied in",
                    shell_words(&link.argv),
                    link.cwd
                ));
                false
            }
            Origin::Unknown => {
                facts.push(format!(
                    "no link in the session's events wrote {base}: the hooks never saw the \
                     command that made it"
                ));
                true
            }
        };
        let blind = self.blind_spots();
        // Whether a cause specific to this session was named above the list.
        let mut specific = false;
        if let Some(exec) = self.last_mention(member) {
            facts.push(format!(
                "the last command of the session naming it: `{}` ({}() in pid {}, in {})",
                shell_words(&exec.argv),
                exec.function,
                exec.pid,
                exec.cwd
            ));
            let shell = matches!(exec.function.as_str(), "system" | "popen");
            if let Some((_, why)) = blind
                .iter()
                .find(|(e, _)| resolve(&e.cwd, &e.path) == resolve(&exec.cwd, &exec.path))
            {
                facts.push(format!("that program is {why}"));
                specific = true;
            } else if shell && unseen {
                specific = true;
                facts.push(format!(
                    "nothing that shell ran reported to pyrewrite: the process that called \
                     {}() had most likely removed LD_PRELOAD from its own environment \
                     (the preload restores it only in the environments it passes on)",
                    exec.function
                ));
            }
        }
        let others: Vec<String> = blind
            .iter()
            .take(BLIND_SPOTS_LISTED)
            .map(|(e, why)| format!("`{}` ({why})", shell_words(&e.argv)))
            .collect();
        if !others.is_empty() {
            specific = true;
            facts.push(format!(
                "the build ran programs whose children the hooks cannot see: {}",
                others.join(", ")
            ));
        }
        facts.push(format!(
            "{}: a statically linked program ran the compiler (LD_PRELOAD needs \
             the dynamic loader); a setuid or setgid program (the loader ignores LD_PRELOAD \
             for it); a process removed LD_PRELOAD from its own environment and then called \
             system() or popen(); a container, another machine or a compiler server (docker, \
             ssh, sccache, distcc) did the compile; or the file is prebuilt (shipped in the \
             source tree or downloaded by the build)",
            if specific {
                "other causes to rule out"
            } else {
                "likely causes"
            }
        ));
        format!("{head}:\n    {}", facts.join("\n    "))
    }

    /// The last exec (not a rewritten one: those ran emcc) with an argument
    /// naming `member`'s file: its basename, or a shared object of the same
    /// module name. Arguments are split like words of a shell command, so a
    /// `sh -c '...'` from `system()` counts.
    fn last_mention(&self, member: &str) -> Option<&ExecRecord> {
        let base = basename(member);
        let module = module_name(base);
        let names_it = |word: &str| {
            let b = basename(word);
            b == base || (module_name(b) == module && b.ends_with(".so"))
        };
        self.execs.iter().rev().find(|e| {
            e.action != Action::Rewrite
                && e.argv.iter().skip(1).any(|arg| {
                    arg.split(|c: char| c.is_whitespace() || "'\"=;&|()<>`".contains(c))
                        .any(names_it)
                })
        })
    }

    /// Programs the build ran (passed through) whose own execs the hooks
    /// cannot see, each once, with why: statically linked, setuid/setgid,
    /// or running work in a container, on another machine or in a server.
    fn blind_spots(&self) -> Vec<(&ExecRecord, String)> {
        let mut seen = BTreeSet::new();
        let mut found = vec![];
        for e in &self.execs {
            if e.action != Action::Passthrough {
                continue;
            }
            let path = resolve(&e.cwd, &e.path);
            if !seen.insert(path.clone()) {
                continue;
            }
            if let Some(why) = blind_spot(&path, e.argv.first().map(String::as_str)) {
                found.push((e, why));
            }
        }
        found
    }
}

/// Why the hooks cannot follow what the program at `path` (run as `argv0`)
/// runs, if they cannot.
pub fn blind_spot(path: &Path, argv0: Option<&str>) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let names = [path.to_str(), argv0];
    for (name, what) in OUT_OF_REACH {
        if names.iter().flatten().any(|n| basename(n) == *name) {
            return Some(format!(
                "it runs its work in {what}, where LD_PRELOAD does not follow"
            ));
        }
    }
    let meta = std::fs::metadata(path).ok()?;
    if meta.permissions().mode() & 0o6000 != 0 {
        return Some(
            "setuid/setgid: the dynamic loader ignores LD_PRELOAD for it and what it runs"
                .to_string(),
        );
    }
    let mut head = vec![0u8; 8192];
    let n = std::io::Read::read(&mut std::fs::File::open(path).ok()?, &mut head).ok()?;
    head.truncate(n);
    let info = elf::inspect(&head)?;
    // An executable (ET_EXEC 2, or ET_DYN 3 with a loader) without PT_INTERP
    // never runs the dynamic loader.
    let executable = head.get(16) == Some(&2) || head.get(16) == Some(&3);
    (executable && !info.has_interpreter).then(|| {
        "statically linked: the dynamic loader, and so LD_PRELOAD, never runs in it or \
         in what it starts"
            .to_string()
    })
}

/// `path` of an event, absolute (relative ones are relative to its `cwd`).
fn resolve(cwd: &str, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        Path::new(cwd).join(p)
    }
}

/// `argv` as one line a shell would read back: words with spaces or quotes
/// single-quoted; very long commands shortened in the middle.
pub fn shell_words(argv: &[String]) -> String {
    const MAX: usize = 600;
    // The one quoting (`pyrewrite_rules::response_file::quote_word`).
    let quoted: Vec<String> = argv
        .iter()
        .map(|a| {
            let mut out = Vec::new();
            pyrewrite_rules::response_file::quote_word(a.as_bytes(), &mut out);
            String::from_utf8_lossy(&out).into_owned()
        })
        .collect();
    let line = quoted.join(" ");
    if line.chars().count() <= MAX {
        return line;
    }
    let head: String = line.chars().take(MAX / 2).collect();
    let tail: String = {
        let chars: Vec<char> = line.chars().collect();
        chars[chars.len() - MAX / 2..].iter().collect()
    };
    format!("{head} … {tail}")
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

    const NATIVE: &str = "pkg/_n.cpython-311-x86_64-linux-gnu.so";

    fn elf() -> Vec<u8> {
        super::super::fixtures::elf_shared_object()
    }

    #[test]
    fn a_native_link_the_rules_passed_through_is_named_with_its_reason() {
        let mut native = event(
            Action::Passthrough,
            &[
                "weird-ld",
                "-shared",
                "-o",
                "b/_n.cpython-311-x86_64-linux-gnu.so",
            ],
            None,
        );
        native.reason = Some("not a linker pyrewrite knows".into());
        let text = Provenance::from_events(&[native]).explain_native(NATIVE, &elf());
        assert!(
            text.starts_with(&format!(
                "member {NATIVE} is a native ELF shared object (x86_64, built by GCC: "
            )),
            "{text}"
        );
        assert!(text.contains("`weird-ld -shared -o b/_n.cpython-311-x86_64-linux-gnu.so` (in /src), ran natively"), "{text}");
        assert!(text.contains("(not a linker pyrewrite knows)"), "{text}");
        assert!(text.contains("pyrewrite explain -- weird-ld"), "{text}");
    }

    #[test]
    fn a_shell_from_system_in_a_process_without_ld_preload_is_named() {
        let mut shell = event(Action::Passthrough, &["sh", "-c", "PLACEHOLDER"], None);
        shell.argv[2] =
            "gcc -shared -fPIC n.c -o 'build/_n.cpython-311-x86_64-linux-gnu.so'".into();
        shell.function = "system".into();
        shell.path = "/bin/sh".into();
        shell.tool = None;
        shell.pid = 42;
        let text = Provenance::from_events(&[shell]).explain_native(NATIVE, &elf());
        assert!(
            text.contains(
                "no link in the session's events wrote _n.cpython-311-x86_64-linux-gnu.so"
            ),
            "{text}"
        );
        assert!(
            text.contains("the last command of the session naming it: `sh -c 'gcc -shared -fPIC n.c -o '\\''build/"),
            "{text}"
        );
        assert!(text.contains("(system() in pid 42, in /src)"), "{text}");
        assert!(
            text.contains("called system() had most likely removed LD_PRELOAD"),
            "{text}"
        );
        assert!(
            text.contains("other causes to rule out: a statically linked program"),
            "{text}"
        );
    }

    #[test]
    fn static_setuid_and_container_programs_are_blind_spots() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("launch.c");
        std::fs::write(&src, "int main(void) { return 0; }\n").unwrap();
        let launcher = dir.path().join("launch");
        let built = std::process::Command::new("gcc")
            .arg("-static")
            .arg(&src)
            .arg("-o")
            .arg(&launcher)
            .env_remove("LD_PRELOAD")
            .status()
            .unwrap();
        assert!(built.success(), "gcc -static failed (libc6-dev has libc.a)");
        let dynamic = dir.path().join("dynamic");
        let built = std::process::Command::new("gcc")
            .arg(&src)
            .arg("-o")
            .arg(&dynamic)
            .env_remove("LD_PRELOAD")
            .status()
            .unwrap();
        assert!(built.success());
        let setuid = dir.path().join("elevate");
        std::fs::copy(&dynamic, &setuid).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&setuid, std::fs::Permissions::from_mode(0o4755)).unwrap();

        let exec = |path: &Path, argv: &[&str]| Event {
            path: path.display().to_string(),
            tool: None,
            ..event(Action::Passthrough, argv, None)
        };
        let events = [
            exec(&dynamic, &["dynamic"]),
            exec(&setuid, &["elevate", "true"]),
            exec(
                Path::new("/usr/bin/docker"),
                &["docker", "run", "img", "make"],
            ),
            exec(
                &launcher,
                &[
                    "./launch",
                    "gcc",
                    "-shared",
                    "-o",
                    "b/_n.cpython-311-x86_64-linux-gnu.so",
                ],
            ),
        ];
        let p = Provenance::from_events(&events);
        let text = p.explain_native(NATIVE, &elf());
        assert!(
            text.contains(
                "naming it: `./launch gcc -shared -o b/_n.cpython-311-x86_64-linux-gnu.so`"
            ),
            "{text}"
        );
        assert!(text.contains("that program is statically linked"), "{text}");
        assert!(text.contains("`elevate true` (setuid/setgid"), "{text}");
        assert!(
            text.contains("`docker run img make` (it runs its work in a container"),
            "{text}"
        );
        assert!(
            !text.contains("`dynamic`"),
            "a dynamic program is no blind spot: {text}"
        );
        assert_eq!(blind_spot(&dynamic, Some("dynamic")), None);
    }

    #[test]
    fn an_elf_over_a_rewritten_link_says_it_was_written_later() {
        let p = Provenance::from_events(&[event(
            Action::Rewrite,
            &[
                "gcc",
                "-shared",
                "-o",
                "b/_n.cpython-311-x86_64-linux-gnu.so",
            ],
            Some(&[
                "emcc",
                "-shared",
                "-o",
                "b/_n.cpython-311-x86_64-linux-gnu.so",
            ]),
        )]);
        let text = p.explain_native(NATIVE, &elf());
        assert!(text.contains("was rewritten (`emcc -shared -o b/_n.cpython-311-x86_64-linux-gnu.so`, in /src): the ELF was written after it"), "{text}");
        assert!(
            text.contains("\n    likely causes: a statically linked"),
            "{text}"
        );
    }

    #[test]
    fn shell_words_quote_what_a_shell_would_split() {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            shell_words(&v(&["cc", "-DX=1", "a b.c", "it's"])),
            "cc -DX=1 'a b.c' 'it'\\''s'"
        );
        let long = v(&[&"x".repeat(2000)]);
        assert!(shell_words(&long).contains(" … "));
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
