//! After a successful `run`: find the wheels the build produced and hand each
//! to wheel assembly (through [`super::wheel_adapter`]).
//!
//! "Produced" = a `*.whl` that is new or changed (mtime or size) since the
//! build started, in the directories a wheel build writes to: the working
//! directory, its `dist/`, any `-w/--wheel-dir` (pip) or `--outdir` (build)
//! named in the command, and `--out`. Not recursive: a stale wheel deep in a
//! source tree is never picked up by accident.

use super::model::WheelLine;
use super::wheel_adapter::{retag_wheel, RetagRequest};
use pyrewrite_rules::Target;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Command-line options that name a wheel output directory, as separate
/// (`-w DIR`) or attached (`-wDIR`, `--wheel-dir=DIR`) values.
const DIR_OPTIONS: &[&str] = &["-w", "--wheel-dir", "--outdir"];

/// The directories searched for new wheels, in order, without duplicates.
pub fn wheel_dirs(cwd: &Path, cmd: &[OsString], out: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs = vec![cwd.to_path_buf(), cwd.join("dist")];
    let args: Vec<String> = cmd
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        for opt in DIR_OPTIONS {
            if arg == opt {
                if let Some(v) = args.get(i + 1) {
                    dirs.push(cwd.join(v));
                }
            } else if let Some(v) = arg.strip_prefix(&format!("{opt}=")) {
                dirs.push(cwd.join(v));
            } else if *opt == "-w"
                && arg.len() > 2
                && arg.starts_with("-w")
                && !arg.starts_with("--")
            {
                dirs.push(cwd.join(&arg[2..]));
            }
        }
        i += 1;
    }
    if let Some(out) = out {
        dirs.push(cwd.join(out));
    }
    let mut seen = Vec::new();
    for d in dirs {
        if !seen.contains(&d) {
            seen.push(d);
        }
    }
    seen
}

/// Wheels present in `dirs`, with what identifies a version of each.
#[derive(Debug, Default)]
pub struct Snapshot(BTreeMap<PathBuf, (Option<SystemTime>, u64)>);

pub fn snapshot(dirs: &[PathBuf]) -> Snapshot {
    let mut map = BTreeMap::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "whl") {
                if let Ok(meta) = entry.metadata() {
                    if meta.is_file() {
                        map.insert(path, (meta.modified().ok(), meta.len()));
                    }
                }
            }
        }
    }
    Snapshot(map)
}

/// Wheels in `after` that were not in `before`, or changed since.
pub fn new_wheels(before: &Snapshot, after: &Snapshot) -> Vec<PathBuf> {
    after
        .0
        .iter()
        .filter(|(path, version)| before.0.get(*path) != Some(version))
        .map(|(path, _)| path.clone())
        .collect()
}

/// What assembly made of the new wheels.
#[derive(Default)]
pub struct Assembled {
    /// Every wheel written (or left as it is), for the summary.
    pub lines: Vec<WheelLine>,
    /// The wasm wheels holding extension modules: what verify checks.
    pub wasm_wheels: Vec<PathBuf>,
    /// One error per wheel that could not be assembled, naming it.
    pub failed: Vec<anyhow::Error>,
}

/// Retag every new wheel; one failure does not stop the others.
pub fn assemble(
    wheels: &[PathBuf],
    target: &Target,
    out: Option<&Path>,
    events_log: Option<&Path>,
) -> Assembled {
    let mut assembled = Assembled::default();
    for wheel in wheels {
        let out_dir = out
            .map(Path::to_path_buf)
            .or_else(|| wheel.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from("."));
        let request = RetagRequest {
            wheel,
            target,
            out_dir: &out_dir,
            events_log,
        };
        match retag_wheel(&request) {
            Ok(r) => {
                for w in &r.warnings {
                    eprintln!("pyrewrite: warning: {}: {w}", wheel.display());
                }
                if r.has_extensions {
                    assembled.wasm_wheels.push(r.output.clone());
                }
                assembled.lines.push(WheelLine {
                    path: r.output.display().to_string(),
                    tag: r.tag,
                })
            }
            Err(e) => assembled.failed.push(e),
        }
    }
    assembled
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::fsutil::PrivateDir;

    fn os(args: &str) -> Vec<OsString> {
        args.split_whitespace().map(OsString::from).collect()
    }

    #[test]
    fn wheel_dirs_come_from_every_spelling() {
        let cwd = Path::new("/p");
        let dirs = wheel_dirs(
            cwd,
            &os("pip wheel . -w w1 --wheel-dir=w2 -ww3 --wheel-dir w4 --outdir /abs"),
            Some(Path::new("out")),
        );
        let want: Vec<PathBuf> = [
            "/p", "/p/dist", "/p/w1", "/p/w2", "/p/w3", "/p/w4", "/abs", "/p/out",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        assert_eq!(dirs, want);
    }

    #[test]
    fn only_new_or_changed_wheels_are_found() {
        let dir = PrivateDir::new("pyrewrite-test-").unwrap();
        let d = dir.path().to_path_buf();
        std::fs::write(d.join("old.whl"), b"old").unwrap();
        std::fs::write(d.join("changed.whl"), b"v1").unwrap();
        let before = snapshot(std::slice::from_ref(&d));
        std::fs::write(d.join("changed.whl"), b"version 2").unwrap();
        std::fs::write(d.join("new.whl"), b"new").unwrap();
        std::fs::write(d.join("notes.txt"), b"not a wheel").unwrap();
        let after = snapshot(std::slice::from_ref(&d));
        let found = new_wheels(&before, &after);
        assert_eq!(found, vec![d.join("changed.whl"), d.join("new.whl")]);
    }
}
