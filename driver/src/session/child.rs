//! The build command: started with the session environment, given the
//! signals the driver receives, and its exit status passed on.
//!
//! It is started as `/bin/sh -c 'exec "$@"' pyrewrite-build CMD...`. The
//! driver itself never runs hooked (`crate::unhooked`), so an exec it made
//! directly would be seen by no one: `pyrewrite run -- gcc -c x.c` would
//! compile natively and report nothing. The shell loads the library from the
//! session environment, and its `exec` of the build command is the build's
//! first hooked exec — rewritten, reported, and in the same process (the
//! pid the driver forwards signals to).

use anyhow::Context;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, ExitStatus};
use std::sync::atomic::{AtomicI32, Ordering};

/// Signals the driver passes on to the build instead of dying: the build
/// decides how to stop, and the driver stays to clean up and report.
const FORWARDED: &[libc::c_int] = &[libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// pid of the running build, 0 while none; read by the signal handler.
static CHILD_PID: AtomicI32 = AtomicI32::new(0);
/// A signal that arrived before the build had a pid, delivered right after spawn.
static PENDING_SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward_signal(sig: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // A terminal's Ctrl-C (si_code SI_KERNEL) already reaches the whole
    // foreground process group, the build included; forwarding it as well
    // would interrupt the build twice.
    // SAFETY: the kernel passes a valid siginfo with SA_SIGINFO.
    if !info.is_null() && unsafe { (*info).si_code } == libc::SI_KERNEL {
        return;
    }
    let pid = CHILD_PID.load(Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(pid, sig) };
    } else {
        PENDING_SIGNAL.store(sig, Ordering::SeqCst);
    }
}

/// Route SIGINT/SIGTERM/SIGHUP to the build for the rest of the process.
pub fn install_signal_forwarding() -> anyhow::Result<()> {
    for &sig in FORWARDED {
        // SAFETY: a zeroed sigaction is valid; the handler only touches atomics
        // and calls kill(2), both async-signal-safe.
        let rc = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = forward_signal as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut())
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error()).context("cannot install signal handlers");
        }
    }
    Ok(())
}

/// Give the signals their default action again once there is no build to
/// pass them to and the private directory is gone: an interrupt during wheel
/// assembly then stops the driver.
pub fn restore_default_signals() {
    for &sig in FORWARDED {
        // SAFETY: resetting a disposition to SIG_DFL.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
    }
}

/// Run `cmd` with `env` changes (`Some` sets, `None` removes) and wait for it.
pub fn run_build(
    cmd: &[OsString],
    env: &[(String, Option<OsString>)],
) -> anyhow::Result<ExitStatus> {
    let program = cmd.first().context("no build command given after `--`")?;
    if !is_runnable(Path::new(program)) {
        anyhow::bail!(
            "cannot run the build command `{}` (is it installed and on PATH?)",
            program.to_string_lossy()
        );
    }
    let mut command = Command::new("/bin/sh");
    command
        .args(["-c", "exec \"$@\"", "pyrewrite-build"])
        .args(cmd);
    for (name, value) in env {
        match value {
            Some(v) => command.env(name, v),
            None => command.env_remove(name),
        };
    }
    stop_with_the_driver(&mut command);
    let mut child = command.spawn().with_context(|| {
        format!(
            "cannot run the build command `{}` (is it installed and on PATH?)",
            program.to_string_lossy()
        )
    })?;
    CHILD_PID.store(child.id() as i32, Ordering::SeqCst);
    let pending = PENDING_SIGNAL.swap(0, Ordering::SeqCst);
    if pending != 0 {
        // SAFETY: plain kill(2) of the child we just started.
        unsafe { libc::kill(child.id() as i32, pending) };
    }
    let status = child.wait();
    CHILD_PID.store(0, Ordering::SeqCst);
    status.context("waiting for the build command")
}

/// A driver that dies without passing a signal on (SIGKILL, the OOM
/// killer, a crash) stops the build as if it had forwarded SIGTERM: the
/// kernel sends it when the driver's main thread (the one spawning the
/// build and waiting for it) is gone. Orphaned, the build would go on with
/// no one to take its events and no one to retag its wheels, leaving a
/// native-named wheel holding wasm in its `dist/` (docs/session.md).
fn stop_with_the_driver(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: getpid before the fork; in the child only prctl and getppid,
    // both async-signal-safe.
    let driver = unsafe { libc::getpid() };
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM as libc::c_ulong) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The driver died between the fork and the prctl: nothing
            // would send the signal any more.
            if libc::getppid() != driver {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

/// Whether `program` names an executable file, looked up in PATH as `exec`
/// does when it has no `/` (so a missing command is the driver's clear error,
/// not the shell's).
fn is_runnable(program: &Path) -> bool {
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.as_os_str().as_bytes().contains(&b'/') {
        return executable(program);
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/bin:/usr/bin".into());
    std::env::split_paths(&path).any(|dir| {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir.as_path()
        };
        executable(&dir.join(program))
    })
}

/// The driver's exit code for a build status: the build's own code, or
/// 128+N when it was killed by signal N (the shell's convention).
pub fn exit_code_of(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(code), _) => (code & 0xff) as u8,
        (None, Some(sig)) => (128 + sig).min(255) as u8,
        (None, None) => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_shell_convention() {
        assert_eq!(exit_code_of(ExitStatus::from_raw(0)), 0);
        assert_eq!(exit_code_of(ExitStatus::from_raw(7 << 8)), 7);
        // Raw wait status of a process killed by SIGTERM (15).
        assert_eq!(exit_code_of(ExitStatus::from_raw(15)), 143);
    }
}
