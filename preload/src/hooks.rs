//! Every interposed libc entry point, in one place.
//!
//! Each hook is a plain `#[no_mangle] extern "C"` function (no redhook: its
//! lazy `Once` per hook takes a lock on first use, which a vfork child must
//! not do, and it adds a dependency for what is a dozen lines here). Nothing
//! unwinds into C: the crate is `no_std` with `panic = "abort"`, so a panic in
//! a hook prints one line and aborts the calling process (src/rt.rs). NULL `path`/`argv` go straight to the real
//! function so that it fails with its own errno.

use crate::envp::with_session_env;
use crate::exec::{executable, intercept, reply_and_exit, Launch};
use crate::path::{is_executable, is_executable_at, search_path, Candidates, PathBuf};
use crate::real;
use crate::report::{self, CArgv, Report};
use crate::session;
use crate::small::SmallVec;
use crate::sys::{environ_now, errno, set_errno, Argv};
use core::cell::Cell;
use core::ffi::CStr;
use libc::{c_char, c_int, pid_t, posix_spawn_file_actions_t, posix_spawnattr_t, FILE};
use pyrewrite_protocol::Action;

fn env() -> Argv {
    environ_now()
}

// ---------------------------------------------------------------- exec family

/// How execve-like calls start a program: they replace this process.
enum ExecHow {
    Path(*const c_char, Argv),
    Fd(c_int, Argv),
    At(c_int, *const c_char, Argv, c_int),
}

struct ExecLaunch {
    how: ExecHow,
    /// Set when the rewritten command was tried: if that exec fails, a PATH
    /// search must stop rather than fall back to the native compiler.
    tried_other: Cell<bool>,
}

#[allow(non_snake_case)]
impl ExecLaunch {
    fn Path(path: *const c_char, argv: Argv) -> ExecLaunch {
        ExecLaunch::new(ExecHow::Path(path, argv))
    }
    fn Fd(fd: c_int, argv: Argv) -> ExecLaunch {
        ExecLaunch::new(ExecHow::Fd(fd, argv))
    }
    fn At(dirfd: c_int, path: *const c_char, argv: Argv, flags: c_int) -> ExecLaunch {
        ExecLaunch::new(ExecHow::At(dirfd, path, argv, flags))
    }
    fn new(how: ExecHow) -> ExecLaunch {
        ExecLaunch {
            how,
            tried_other: Cell::new(false),
        }
    }
}

impl Launch for ExecLaunch {
    unsafe fn original(&self, envp: Argv) -> c_int {
        unsafe {
            match self.how {
                ExecHow::Path(p, a) => real::execve(p, a, envp),
                ExecHow::Fd(fd, a) => real::fexecve(fd, a, envp),
                ExecHow::At(d, p, a, f) => real::execveat(d, p, a, envp, f),
            }
        }
    }
    unsafe fn other(&self, path: *const c_char, argv: Argv, envp: Argv) -> c_int {
        self.tried_other.set(true);
        unsafe { real::execve(path, argv, envp) }
    }
    unsafe fn reply(&self, fd: c_int, text: &[u8], code: c_int, _envp: Argv) -> c_int {
        reply_and_exit(fd, text, code)
    }
}

/// execve/execv/execl/execle: the path is used as given.
unsafe fn exec_direct(function: &str, path: *const c_char, argv: Argv, envp: Argv) -> c_int {
    if argv.is_null() {
        return unsafe { real::execve(path, argv, envp) };
    }
    match unsafe { executable(path) } {
        Some(shown) => unsafe {
            intercept(function, shown, argv, envp, &ExecLaunch::Path(path, argv))
        },
        None => unsafe { real::execve(path, argv, envp) },
    }
}

/// execvp/execvpe/execlp: glibc 2.36 `execvpe` semantics with our own PATH walk,
/// so only the candidate that will really run is reported.
unsafe fn exec_search(function: &str, file: *const c_char, argv: Argv, envp: Argv) -> c_int {
    if file.is_null() || argv.is_null() {
        return unsafe { real::execvpe(file, argv, envp) };
    }
    let name = unsafe { CStr::from_ptr(file) }.to_bytes();
    if name.is_empty() {
        return unsafe { real::execvpe(file, argv, envp) };
    }
    if name.contains(&b'/') {
        if let Some(shown) = unsafe { executable(file) } {
            let launch = ExecLaunch::Path(file, argv);
            unsafe { intercept(function, shown, argv, envp, &launch) };
            if errno() == libc::ENOEXEC && !launch.tried_other.get() {
                unsafe { script_fallback(file, argv, envp) };
            }
            return -1;
        }
        return unsafe { real::execvpe(file, argv, envp) };
    }
    let mut walk = Candidates::new(name, search_path());
    let mut buf: PathBuf = SmallVec::new();
    while let Some(candidate) = walk.next_into(&mut buf) {
        let c = candidate.as_ptr();
        if !unsafe { is_executable(c) } {
            continue;
        }
        let shown = candidate.to_bytes();
        let launch = ExecLaunch::Path(c, argv);
        unsafe { intercept(function, shown, argv, envp, &launch) };
        if launch.tried_other.get() {
            return -1;
        }
        if errno() == libc::ENOEXEC {
            unsafe { script_fallback(c, argv, envp) };
        }
        match errno() {
            libc::EACCES
            | libc::ENOENT
            | libc::ESTALE
            | libc::ENOTDIR
            | libc::ENODEV
            | libc::ETIMEDOUT => continue,
            _ => return -1,
        }
    }
    // Nothing runnable: libc fails with exactly its own errno.
    unsafe { with_session_env(envp, session::get(), |e| real::execvpe(file, argv, e)) }
}

/// glibc's `maybe_script_execute`: a file without a known format runs as a shell script.
#[inline(never)]
unsafe fn script_fallback(path: *const c_char, argv: Argv, envp: Argv) {
    let mut new_argv: SmallVec<*const c_char, 64> = SmallVec::new();
    new_argv.push(c"/bin/sh".as_ptr());
    new_argv.push(path);
    let mut argc = 0;
    while unsafe { !(*argv.add(argc)).is_null() } {
        argc += 1;
    }
    for i in 1..argc {
        new_argv.push(unsafe { *argv.add(i) });
    }
    new_argv.push(core::ptr::null());
    let sh = c"/bin/sh".as_ptr();
    unsafe {
        with_session_env(envp, session::get(), |e| {
            real::execve(sh, new_argv.as_ptr(), e)
        })
    };
}

#[no_mangle]
pub unsafe extern "C" fn execve(path: *const c_char, argv: Argv, envp: Argv) -> c_int {
    unsafe { exec_direct("execve", path, argv, envp) }
}

#[no_mangle]
pub unsafe extern "C" fn execv(path: *const c_char, argv: Argv) -> c_int {
    unsafe { exec_direct("execv", path, argv, env()) }
}

#[no_mangle]
pub unsafe extern "C" fn execvp(file: *const c_char, argv: Argv) -> c_int {
    unsafe { exec_search("execvp", file, argv, env()) }
}

#[no_mangle]
pub unsafe extern "C" fn execvpe(file: *const c_char, argv: Argv, envp: Argv) -> c_int {
    unsafe { exec_search("execvpe", file, argv, envp) }
}

/// Called by the C shim (src/shim.c) for `execl` (0), `execlp` (1), `execle` (2).
#[no_mangle]
pub unsafe extern "C" fn pyrewrite_execl_family(
    which: c_int,
    path: *const c_char,
    argv: Argv,
    envp: Argv,
) -> c_int {
    unsafe {
        match which {
            1 => exec_search("execlp", path, argv, envp),
            2 => exec_direct("execle", path, argv, envp),
            _ => exec_direct("execl", path, argv, envp),
        }
    }
}

/// `/proc/self/fd/N` resolved, appended to `buf` (nothing when it cannot be read).
fn fd_path(fd: c_int, buf: &mut PathBuf) {
    let mut link: SmallVec<u8, 32> = SmallVec::new();
    link.extend_from_slice(b"/proc/self/fd/");
    link.push_int(i64::from(fd));
    link.push(0);
    // The stack part first; a target that fills it may be cut: try again
    // with more room (a mapping), up to CANDIDATE_MAX.
    let mut room = 1;
    loop {
        let spare = buf.spare(room);
        // SAFETY: NUL-terminated link name, a writable buffer of `spare.len()` bytes.
        let len =
            unsafe { libc::readlink(link.as_ptr().cast(), spare.as_mut_ptr().cast(), spare.len()) };
        let Ok(n) = usize::try_from(len) else {
            return;
        };
        if n < spare.len() || spare.len() >= crate::path::CANDIDATE_MAX {
            // SAFETY: readlink wrote `n` bytes.
            unsafe { buf.add_len(n) };
            return;
        }
        room = spare.len() * 4;
    }
}

#[no_mangle]
pub unsafe extern "C" fn fexecve(fd: c_int, argv: Argv, envp: Argv) -> c_int {
    unsafe {
        if argv.is_null() || !is_executable_at(fd, c"".as_ptr(), libc::AT_EMPTY_PATH) {
            return real::fexecve(fd, argv, envp);
        }
        let mut buf: PathBuf = SmallVec::new();
        fd_path(fd, &mut buf);
        intercept(
            "fexecve",
            buf.as_slice(),
            argv,
            envp,
            &ExecLaunch::Fd(fd, argv),
        )
    }
}

#[no_mangle]
pub unsafe extern "C" fn execveat(
    dirfd: c_int,
    path: *const c_char,
    argv: Argv,
    envp: Argv,
    flags: c_int,
) -> c_int {
    unsafe {
        if path.is_null() || argv.is_null() || !is_executable_at(dirfd, path, flags) {
            return real::execveat(dirfd, path, argv, envp, flags);
        }
        let name = CStr::from_ptr(path).to_bytes();
        let mut buf: PathBuf = SmallVec::new();
        let shown: &[u8] =
            if name.first() == Some(&b'/') || (dirfd == libc::AT_FDCWD && !name.is_empty()) {
                name
            } else {
                // The directory's path, then `/name`.
                fd_path(dirfd, &mut buf);
                if !name.is_empty() {
                    buf.push(b'/');
                    buf.extend_from_slice(name);
                }
                buf.as_slice()
            };
        intercept(
            "execveat",
            shown,
            argv,
            envp,
            &ExecLaunch::At(dirfd, path, argv, flags),
        )
    }
}

// ---------------------------------------------------------------- posix_spawn

/// How posix_spawn-like calls start a program: a child the parent can waitpid.
///
/// `posix_spawn*` report failure by their return value, and `errno` is
/// whatever libc's spawn leaves. glibc's `posix_spawnp` searches PATH in a
/// child that shares the caller's memory, so each failed `execve` before the
/// hit leaves its errno in the caller's (ENOENT for a missing directory);
/// our walk probes the same candidates with `fstatat`, which fail the same
/// way. What happens after the walk — reporting, reading the profile and
/// response files for a compiler call — must not show through: `errno` is
/// the value right after the look-up (the caller's own for `posix_spawn`),
/// put back right before each real call.
struct SpawnLaunch {
    pid: *mut pid_t,
    path: *const c_char,
    actions: *const posix_spawn_file_actions_t,
    attr: *const posix_spawnattr_t,
    argv: Argv,
    /// errno after the look-up, as libc's own search would leave it.
    errno: c_int,
}

impl Launch for SpawnLaunch {
    unsafe fn original(&self, envp: Argv) -> c_int {
        set_errno(self.errno);
        unsafe {
            real::posix_spawn(
                self.pid,
                self.path,
                self.actions,
                self.attr,
                self.argv,
                envp,
            )
        }
    }
    unsafe fn other(&self, path: *const c_char, argv: Argv, envp: Argv) -> c_int {
        set_errno(self.errno);
        unsafe { real::posix_spawn(self.pid, path, self.actions, self.attr, argv, envp) }
    }
    /// A reply must still be a child honouring the caller's file actions (its
    /// stdout may be a pipe): a tiny `/bin/sh` prints the text and exits.
    unsafe fn reply(&self, fd: c_int, text: &[u8], code: c_int, envp: Argv) -> c_int {
        let script: &CStr = if fd == 2 {
            c"printf '%s' \"$1\" >&2; exit \"$2\""
        } else {
            c"printf '%s' \"$1\"; exit \"$2\""
        };
        let mut text_c: SmallVec<u8, 4096> = SmallVec::new();
        text_c.extend_from_slice(text.split(|&b| b == 0).next().unwrap_or(b""));
        text_c.push(0);
        let mut code_c = [0u8; 4];
        let code = (code & 0xff) as u8;
        code_c[0] = b'0' + code / 100;
        code_c[1] = b'0' + code / 10 % 10;
        code_c[2] = b'0' + code % 10;
        let argv = [
            c"sh".as_ptr(),
            c"-c".as_ptr(),
            script.as_ptr(),
            c"pyrewrite".as_ptr(),
            text_c.as_ptr().cast(),
            code_c.as_ptr().cast(),
            core::ptr::null(),
        ];
        set_errno(self.errno);
        unsafe {
            real::posix_spawn(
                self.pid,
                c"/bin/sh".as_ptr(),
                self.actions,
                self.attr,
                argv.as_ptr(),
                envp,
            )
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn posix_spawn(
    pid: *mut pid_t,
    path: *const c_char,
    actions: *const posix_spawn_file_actions_t,
    attr: *const posix_spawnattr_t,
    argv: Argv,
    envp: Argv,
) -> c_int {
    unsafe {
        if argv.is_null() {
            return real::posix_spawn(pid, path, actions, attr, argv, envp);
        }
        let saved = errno();
        match executable(path) {
            Some(shown) => {
                let l = SpawnLaunch {
                    pid,
                    path,
                    actions,
                    attr,
                    argv,
                    // A successful probe leaves errno alone: the caller's.
                    errno: saved,
                };
                intercept("posix_spawn", shown, argv, envp, &l)
            }
            None => {
                set_errno(saved);
                real::posix_spawn(pid, path, actions, attr, argv, envp)
            }
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn posix_spawnp(
    pid: *mut pid_t,
    file: *const c_char,
    actions: *const posix_spawn_file_actions_t,
    attr: *const posix_spawnattr_t,
    argv: Argv,
    envp: Argv,
) -> c_int {
    unsafe {
        if file.is_null() || argv.is_null() {
            return real::posix_spawnp(pid, file, actions, attr, argv, envp);
        }
        let saved = errno();
        let name = CStr::from_ptr(file).to_bytes();
        let mut buf: PathBuf = SmallVec::new();
        let found: Option<&CStr> = if name.contains(&b'/') {
            is_executable(file).then(|| CStr::from_ptr(file))
        } else if name.is_empty() {
            None
        } else {
            crate::path::find_executable(name, search_path(), &mut buf)
        };
        match found {
            Some(c) => {
                let l = SpawnLaunch {
                    pid,
                    path: c.as_ptr(),
                    actions,
                    attr,
                    argv,
                    // The failed probes before the hit, as libc's search.
                    errno: errno(),
                };
                intercept("posix_spawnp", c.to_bytes(), argv, envp, &l)
            }
            None => {
                // The failed probes set errno; libc's search starts afresh.
                set_errno(saved);
                real::posix_spawnp(pid, file, actions, attr, argv, envp)
            }
        }
    }
}

// ---------------------------------------------------------------- system, popen

/// glibc's `system`/`popen` start `/bin/sh -c CMD` through an internal spawn no
/// hook sees; we report that shell here, then call the real function. The
/// shell loads this library itself, so the commands it runs are caught there.
fn report_shell(function: &str, command: *const c_char) {
    let argv = [c"sh".as_ptr(), c"-c".as_ptr(), command, core::ptr::null()];
    let r = Report {
        function,
        path: b"/bin/sh",
        argv: CArgv(argv.as_ptr()),
        action: Action::Passthrough,
        new_argv: None,
        tool: None,
        reason: None,
    };
    report::send(session::get(), &r);
}

#[no_mangle]
pub unsafe extern "C" fn system(command: *const c_char) -> c_int {
    if !command.is_null() {
        let saved = errno();
        report_shell("system", command);
        set_errno(saved);
    }
    unsafe { real::system(command) }
}

#[no_mangle]
pub unsafe extern "C" fn popen(command: *const c_char, mode: *const c_char) -> *mut FILE {
    if !command.is_null() && !mode.is_null() {
        let saved = errno();
        report_shell("popen", command);
        set_errno(saved);
    }
    unsafe { real::popen(command, mode) }
}
