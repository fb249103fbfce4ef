//! After a successful `run`: find the wheels the build produced, hand each
//! to wheel assembly (through [`super::wheel_adapter`]), and replace each
//! native-named original that holds wasm by its retagged twin.
//!
//! Replacing: the retagged wheel is written atomically (temp file, fsync,
//! rename) and its directory synced; only then is the original removed. A
//! wheel that fails assembly is never touched, so nothing is lost; a wheel
//! left as it is (pure, or already for the target) is never removed either.
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
    /// Every wheel assembled, with its shared objects: what the
    /// completeness check reads.
    pub wheels: Vec<AssembledWheel>,
    /// One error per wheel that could not be assembled, naming it.
    pub failed: Vec<anyhow::Error>,
}

/// One wheel the build wrote, after assembly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssembledWheel {
    /// The wheel the build wrote.
    pub input: PathBuf,
    /// The wheel to install on the target.
    pub output: PathBuf,
    /// Its shared objects (names in the input wheel); empty for a pure wheel.
    pub shared_objects: Vec<String>,
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
        let result = if named_for(wheel, target) {
            retag_in_place(&request)
        } else {
            retag_wheel(&request)
        };
        match result {
            Ok(r) => {
                for w in &r.warnings {
                    eprintln!("pyrewrite: warning: {}: {w}", wheel.display());
                }
                if r.has_extensions {
                    assembled.wasm_wheels.push(r.output.clone());
                }
                let mut tag = r.tag;
                if r.retagged {
                    match replace_original(wheel, &r.output) {
                        Ok(()) => tag.push_str(&format!("; replaces {}", wheel.display())),
                        Err(e) => assembled.failed.push(e),
                    }
                }
                assembled.lines.push(WheelLine {
                    path: r.output.display().to_string(),
                    tag,
                });
                assembled.wheels.push(AssembledWheel {
                    input: wheel.clone(),
                    output: r.output,
                    shared_objects: r.shared_objects,
                });
            }
            Err(e) => assembled.failed.push(e),
        }
    }
    assembled
}

/// Whether the build already named `wheel` for the target (setuptools does,
/// under `_PYTHON_HOST_PLATFORM`: docs/backends.md), so that its retagged
/// twin would have the same name.
fn named_for(wheel: &Path, target: &Target) -> bool {
    wheel
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(&format!("-{}.whl", target.platform_tag)))
}

/// A wheel the build named for the target may still hold host-named
/// extensions (`_x.cpython-311-x86_64-linux-gnu.so`: the build's EXT_SUFFIX is
/// the host's). Its fixed twin is written in a staging dir next to it and
/// renamed over it (atomic: the directory never lacks the wheel, nor holds a
/// half-written one); with `--out` elsewhere, it is moved there instead.
fn retag_in_place(request: &RetagRequest) -> anyhow::Result<super::wheel_adapter::Retagged> {
    use anyhow::Context;
    let staging = request
        .out_dir
        .join(format!(".pyrewrite-staging-{}", std::process::id()));
    let staged = RetagRequest {
        out_dir: &staging,
        ..*request
    };
    let result = retag_wheel(&staged).and_then(|mut r| {
        let name = r.output.file_name().map(PathBuf::from).unwrap_or_default();
        let dest = request.out_dir.join(name);
        std::fs::rename(&r.output, &dest)
            .with_context(|| format!("cannot move the wheel into {}", dest.display()))?;
        super::fsutil::sync_dir(request.out_dir)?;
        r.output = dest;
        // Replaced by the rename (same name): nothing left to remove.
        r.retagged = r.retagged && !same_file(request.wheel, &r.output);
        Ok(r)
    });
    let _ = std::fs::remove_dir_all(&staging);
    result
}

/// Removes the native-named `original` once its retagged twin `written` is
/// durably in place: a `linux_*` wheel holding wasm must not stay where the
/// user (or `twine upload dist/*`) finds it. The twin holds every file of
/// the original, so nothing is lost.
fn replace_original(original: &Path, written: &Path) -> anyhow::Result<()> {
    use anyhow::Context;
    if same_file(original, written) || !written.is_file() {
        anyhow::bail!(
            "wheel {}: the retagged wheel {} is not in place; the original is kept",
            original.display(),
            written.display()
        );
    }
    if let Some(dir) = written.parent().filter(|d| !d.as_os_str().is_empty()) {
        super::fsutil::sync_dir(dir)?;
    }
    std::fs::remove_file(original).with_context(|| {
        format!(
            "wheel {}: the wasm wheel {} is written, but this native-named original (which \
             holds wasm) could not be removed; delete it before publishing the directory",
            original.display(),
            written.display()
        )
    })
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::fsutil::PrivateDir;

    fn os(args: &str) -> Vec<OsString> {
        args.split_whitespace().map(OsString::from).collect()
    }

    use crate::wheel::fixtures::{
        elf_shared_object, files_in, members, native_tagged_wheel, side_module, with_record,
        write_zip, DIST,
    };

    const NATIVE: &str = "demo-1.0-cp311-cp311-linux_x86_64.whl";
    const WASM: &str = "demo-1.0-cp311-cp311-emscripten_3_1_32_wasm32.whl";

    /// setuptools under `_PYTHON_HOST_PLATFORM` names the wheel for the
    /// target but its extension keeps the host's suffix: the fixed wheel
    /// takes the original's place, under the same name, nothing else left.
    #[test]
    fn a_wheel_named_for_the_target_with_host_named_extensions_is_fixed_in_place() {
        use crate::wheel::fixtures::HOST_SUFFIX;
        let dir = PrivateDir::new("pyrewrite-test-").unwrap();
        let m = with_record(
            DIST,
            members(
                DIST,
                &["cp311-cp311-emscripten_3_1_32_wasm32"],
                Some((&format!("demo/_fast{HOST_SUFFIX}"), side_module())),
            ),
        );
        let wheel = write_zip(&dir.path().join(WASM), &m);
        let a = assemble(std::slice::from_ref(&wheel), &Target::default(), None, None);
        assert!(a.failed.is_empty(), "{:?}", a.failed);
        assert_eq!(
            files_in(dir.path()),
            [WASM],
            "no staging dir, no second wheel"
        );
        assert_eq!(a.wasm_wheels, std::slice::from_ref(&wheel));
        let names: Vec<String> = crate::wheel::archive::WheelArchive::open(&wheel)
            .unwrap()
            .members
            .iter()
            .map(|m| m.name.clone())
            .collect();
        assert!(
            names
                .iter()
                .any(|n| n == "demo/_fast.cpython-311-wasm32-emscripten.so"),
            "{names:?}"
        );
        assert!(!a.lines[0].tag.contains("replaces"), "{:?}", a.lines[0]);
    }

    #[test]
    fn the_retagged_wheel_replaces_the_native_named_original() {
        let dir = PrivateDir::new("pyrewrite-test-").unwrap();
        let native = native_tagged_wheel(dir.path(), side_module());
        let a = assemble(
            std::slice::from_ref(&native),
            &Target::default(),
            None,
            None,
        );
        assert!(a.failed.is_empty(), "{:?}", a.failed);
        assert_eq!(files_in(dir.path()), [WASM]);
        assert_eq!(a.wasm_wheels, [dir.path().join(WASM)]);
        assert_eq!(a.wheels[0].input, native);
        assert_eq!(a.wheels[0].shared_objects.len(), 1);
        assert!(
            a.lines[0]
                .tag
                .ends_with(&format!("; replaces {}", native.display())),
            "{:?}",
            a.lines[0]
        );
    }

    #[test]
    fn with_out_the_original_leaves_the_build_dir_too() {
        let dir = PrivateDir::new("pyrewrite-test-").unwrap();
        let build = dir.path().join("wheels");
        std::fs::create_dir(&build).unwrap();
        let native = native_tagged_wheel(&build, side_module());
        let out = dir.path().join("wasm");
        let a = assemble(&[native], &Target::default(), Some(&out), None);
        assert!(a.failed.is_empty(), "{:?}", a.failed);
        assert!(files_in(&build).is_empty(), "{:?}", files_in(&build));
        assert_eq!(files_in(&out), [WASM]);
    }

    #[test]
    fn a_wheel_that_fails_assembly_and_a_pure_wheel_are_kept() {
        let dir = PrivateDir::new("pyrewrite-test-").unwrap();
        let native = native_tagged_wheel(dir.path(), elf_shared_object());
        let pure = write_zip(
            &dir.path().join("demo-1.0-py3-none-any.whl"),
            &with_record(DIST, members(DIST, &["py3-none-any"], None)),
        );
        let out = dir.path().join("out");
        let a = assemble(&[native, pure], &Target::default(), Some(&out), None);
        assert_eq!(a.failed.len(), 1);
        assert!(format!("{:#}", a.failed[0]).contains(NATIVE));
        assert_eq!(
            files_in(dir.path()),
            [NATIVE, "demo-1.0-py3-none-any.whl", "out"]
        );
        // The pure wheel is copied into --out and stays where it was.
        assert_eq!(files_in(&out), ["demo-1.0-py3-none-any.whl"]);
        assert!(a.wheels[0].shared_objects.is_empty());
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
