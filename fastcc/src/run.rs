//! Running the compilers: exec (the fast path's hit costs no extra process),
//! spawn and wait (emcc while learning or verifying), and the proving
//! compile beside the build's object.

use pyrewrite_protocol::env as vars;
use pyrewrite_rules::fast_path::{Shape, Template};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::Command;

/// How a compile ended.
pub enum Status {
    Code(i32),
    Signal(i32),
}

impl Status {
    pub fn success(&self) -> bool {
        matches!(self, Status::Code(0))
    }
}

/// Ends this process as the compile ended (a signal is re-raised).
pub fn exit_with(status: Status) -> ! {
    match status {
        Status::Code(c) => std::process::exit(c),
        Status::Signal(sig) => {
            // SAFETY: plain libc calls; SIG_DFL then raise ends the process
            // as the child ended, so make sees the same signal.
            unsafe {
                libc::signal(sig, libc::SIG_DFL);
                libc::raise(sig);
            }
            std::process::exit(128 + sig)
        }
    }
}

/// `name` as the preload resolves it (PATH, then `$EMSDK`).
pub fn resolve(name: &[u8]) -> Option<Vec<u8>> {
    let path = std::env::var_os("PATH").map(OsString::into_vec);
    let emsdk = std::env::var_os("EMSDK").map(OsString::into_vec);
    let exec = |p: &[u8]| {
        let p = Path::new(OsStr::from_bytes(p));
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.mode_is_exec())
    };
    pyrewrite_rules::resolve_program(name, path.as_deref(), emsdk.as_deref(), &exec)
}

trait ModeIsExec {
    fn mode_is_exec(&self) -> bool;
}

impl ModeIsExec for std::fs::Metadata {
    fn mode_is_exec(&self) -> bool {
        use std::os::unix::fs::PermissionsExt;
        self.permissions().mode() & 0o111 != 0
    }
}

fn command(launcher: &[Vec<u8>], argv: &[Vec<u8>]) -> Option<Command> {
    let mut all = launcher.iter().chain(argv);
    let mut cmd = Command::new(OsStr::from_bytes(all.next()?));
    cmd.args(all.map(|a| OsStr::from_bytes(a)));
    Some(cmd)
}

/// Becomes `launcher + argv`; returns only if that cannot start.
pub fn exec(launcher: &[Vec<u8>], argv: &[Vec<u8>]) -> Status {
    let Some(mut cmd) = command(launcher, argv) else {
        eprintln!("pyrewrite-cc: no command to run");
        return Status::Code(127);
    };
    let e = cmd.exec();
    eprintln!(
        "pyrewrite-cc: cannot run {}: {e}",
        joined(
            &launcher
                .iter()
                .chain(argv)
                .take(1)
                .cloned()
                .collect::<Vec<_>>()
        )
    );
    Status::Code(if e.kind() == std::io::ErrorKind::NotFound {
        127
    } else {
        126
    })
}

/// Runs emcc and waits; with `record`, emcc's clang calls are written there.
pub fn emcc_recorded(argv: &[Vec<u8>], record: Option<&Path>) -> Status {
    let Some(mut cmd) = command(&[], argv) else {
        return Status::Code(127);
    };
    if let (Some(file), Ok(me)) = (record, std::env::current_exe()) {
        cmd.env("EM_COMPILER_WRAPPER", me)
            .env(vars::FAST_PATH_RECORD, file);
    }
    wait(&mut cmd)
}

fn wait(cmd: &mut Command) -> Status {
    match cmd.status() {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(c), _) => Status::Code(c),
            (None, Some(sig)) => Status::Signal(sig),
            _ => Status::Code(1),
        },
        Err(e) => {
            eprintln!("pyrewrite-cc: cannot run {:?}: {e}", cmd.get_program());
            Status::Code(if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            })
        }
    }
}

/// clang from `t` (behind `launcher`) compiles the build's source again into
/// a file beside the build's object (its dependency file to /dev/null);
/// `true` when the two objects are byte-identical. Nothing of the build's is
/// touched.
pub fn beside(shape: &Shape<'_>, t: &Template, launcher: &[Vec<u8>]) -> std::io::Result<bool> {
    let output = shape.output().unwrap_or_default();
    let stem = format!(
        "{}.pyrewrite-cc-{}",
        String::from_utf8_lossy(output),
        std::process::id()
    );
    let (object, deps) = (format!("{stem}.o"), format!("{stem}.d"));
    let values = shape.proving_values(object.as_bytes());
    let argv = t.command(&values).unwrap_or_default();
    let status = command(launcher, &argv).map(|mut c| c.output());
    let same = match status {
        Some(Ok(out)) if out.status.success() => {
            let a = std::fs::read(OsStr::from_bytes(output))?;
            let b = std::fs::read(&object)?;
            Ok(a == b)
        }
        Some(Ok(out)) => Err(std::io::Error::other(format!(
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))),
        Some(Err(e)) => Err(e),
        None => Err(std::io::Error::other("an empty template")),
    };
    // `-MD` without `-MF` writes STEM.d beside the object.
    let _ = std::fs::remove_file(&object);
    let _ = std::fs::remove_file(&deps);
    same
}

/// A command as one line for messages (arguments joined by spaces).
pub fn joined(argv: &[Vec<u8>]) -> String {
    argv.iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}
