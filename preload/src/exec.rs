//! What happens to one exec that will really take place: classify, decide,
//! report, then run the original, the rewritten command, or a fixed reply.
//!
//! The `Launch` implementations (execve-like, posix_spawn-like) differ only in
//! how a program is finally started and how a reply is produced; the hooks in
//! `hooks.rs` build one and call [`intercept`].

use crate::envp::{lookup, with_session_env, with_session_env_and, EnvBuf};
use crate::path::{is_executable, search_path, CANDIDATE_MAX};
use crate::report::{self, CArgv, Report};
use crate::session::{self, Session};
use crate::small::{put, SmallVec};
use crate::sys::{Argv, NoCancel};
use alloc::{format, string::String, vec::Vec};
use core::ffi::CStr;
use libc::{c_char, c_int};
use pyrewrite_protocol::Action;
use pyrewrite_rules::{classify_command, decide, resolve_program, Decision, Target};

/// How a call finally starts a program.
pub trait Launch {
    /// Starts the call's own program, unchanged, with `envp`.
    ///
    /// # Safety
    /// `envp` is NULL or a NULL-terminated array of C strings.
    unsafe fn original(&self, envp: Argv) -> c_int;
    /// Starts `path` with `argv` and `envp` instead.
    ///
    /// # Safety
    /// Valid C strings / NULL-terminated arrays.
    unsafe fn other(&self, path: *const c_char, argv: Argv, envp: Argv) -> c_int;
    /// Runs nothing: `text` appears on `fd` (1 or 2) and the "program" exits with `code`.
    ///
    /// # Safety
    /// `envp` as in [`Launch::original`].
    unsafe fn reply(&self, fd: c_int, text: &[u8], code: c_int, envp: Argv) -> c_int;
}

/// Handles one exec of `path` (already known to be executable).
///
/// # Safety
/// `argv`/`envp` NULL or NULL-terminated arrays of C strings.
pub unsafe fn intercept(
    function: &str,
    path: &[u8],
    argv: Argv,
    envp: Argv,
    launch: &dyn Launch,
) -> c_int {
    let s = session::get();
    let args = CArgv(argv);
    // Test hook (debug builds only): proves a panic ends in the panic handler
    // (message, abort), never unwinding into C (tests/preload_safety.rs).
    #[cfg(debug_assertions)]
    #[allow(clippy::panic)]
    if args.first() == Some(b"@pyrewrite-test-panic") {
        panic!("test panic");
    }
    let tool = classify_command(path, args.first(), || args.second());
    let native = tool.is_some() && !s.trace() && unsafe { native_requested(envp) };
    if tool.is_none() || s.trace() || native {
        let r = Report {
            function,
            path,
            argv: args,
            action: Action::Passthrough,
            new_argv: None,
            tool: tool.map(|t| t.as_str()),
            reason: native.then_some(NATIVE_REASON),
        };
        report::send(s, &r);
        if native {
            return unsafe { run_native(envp, s, launch) };
        }
        return unsafe { with_session_env(envp, s, |e| launch.original(e)) };
    }
    unsafe { intercept_compiler(function, path, args, envp, launch, s) }
}

/// Runs the call's own program out of the session: gcc's own `as`/`ld` must
/// stay native too. Its own frame, so the envp buffer is reserved only here.
///
/// # Safety
/// `envp` is NULL or a NULL-terminated array of C strings.
#[inline(never)]
unsafe fn run_native(envp: Argv, s: &Session, launch: &dyn Launch) -> c_int {
    let mut env = EnvBuf::new();
    unsafe { launch.original(env.strip(envp, s, &[])) }
}

const NATIVE_REASON: &[u8] =
    b"PYREWRITE_NATIVE=1 in its environment: runs natively, outside the session";

/// `PYREWRITE_NATIVE=1` in the exec's environment (checked only for
/// recognised tools, never on the plain exec path).
///
/// # Safety
/// `envp` is NULL or a NULL-terminated array of C strings.
#[inline(never)]
unsafe fn native_requested(envp: Argv) -> bool {
    let value = unsafe { lookup(envp, pyrewrite_protocol::env::NATIVE.as_bytes()) };
    value == Some(b"1")
}

/// The compiler branch, in its own frame: its stack arena is reserved only
/// when a compiler call needs it, not on every exec.
#[inline(never)]
unsafe fn intercept_compiler(
    function: &str,
    path: &[u8],
    args: CArgv,
    envp: Argv,
    launch: &dyn Launch,
    s: &Session,
) -> c_int {
    let mut arena = Arena::new();
    // No cancellation while the profile, the rules' heap blocks and open
    // files are ours; put back before the exec (sys::NoCancel).
    let no_cancel = NoCancel::new();
    let plan = plan_compiler(s, path, args, envp, &mut arena);
    let (new_argv, reason) = arena.finish();
    let r = Report {
        function,
        path,
        argv: args,
        action: plan.action,
        new_argv: (plan.action == Action::Rewrite).then_some(new_argv),
        tool: Some(plan.tool),
        reason,
    };
    report::send(s, &r);
    drop(no_cancel);
    let mut env = EnvBuf::new();
    match plan.action {
        Action::Passthrough => unsafe { with_session_env(envp, s, |e| launch.original(e)) },
        // A build system's configure step stays in the session: the
        // compilers it runs must be rewritten in turn.
        // A build system's configure step or a build backend stays in the
        // session (the compilers it runs must be rewritten in turn), with the
        // decision's own environment on top (a backend's
        // `_PYTHON_HOST_PLATFORM`; none for meson and CMake).
        Action::Rewrite if plan.stays_in_session => unsafe {
            with_session_env_and(envp, s, arena.env(), |e| {
                launch.other(arena.program(), new_argv.0, e)
            })
        },
        Action::Rewrite => unsafe {
            let env = env.strip(envp, s, arena.env());
            launch.other(arena.program(), new_argv.0, env)
        },
        Action::Answer | Action::Refuse => {
            let fd = if plan.action == Action::Answer { 1 } else { 2 };
            unsafe { launch.reply(fd, arena.text(), plan.code, env.strip(envp, s, &[])) }
        }
    }
}

struct Plan {
    action: Action,
    tool: &'static str,
    code: c_int,
    /// The rewritten command keeps the library preloaded (meson, cmake).
    stays_in_session: bool,
}

/// Asks the rules what runs instead and copies the answer into `arena`, so that
/// every heap allocation (profile, decision) is freed before the exec.
/// `envp` is the environment the build passed to the exec (the caller's
/// values of the profile's `env` variables are read from it).
#[inline(never)]
fn plan_compiler(s: &Session, path: &[u8], args: CArgv, envp: Argv, arena: &mut Arena) -> Plan {
    let recognised = classify_command(path, args.first(), || args.second());
    let tool = recognised.map_or("cc", |t| t.as_str());
    let stays_in_session = recognised.is_some_and(|t| t.is_build_system());
    let target = match session::load_target(s) {
        Ok(t) => t,
        Err(e) => return arena.refusal(tool, &e.0, 1),
    };
    let argv: Vec<&[u8]> = args.iter().collect();
    let read_file = |p: &[u8]| crate::file::read(p).ok();
    match decide(path, &argv, &target, &read_file) {
        Decision::Passthrough => Plan {
            action: Action::Passthrough,
            tool,
            code: 0,
            stays_in_session: false,
        },
        Decision::Rewrite {
            argv, files, env, ..
        } => {
            for (name, contents) in &files {
                let written = if name.starts_with(target.generated_dir.as_bytes()) {
                    crate::file::write_private(name, contents)
                } else {
                    crate::file::write_atomic(name, contents)
                };
                if let Err(e) = written {
                    let hint = if name.starts_with(target.generated_dir.as_bytes()) {
                        "; its directory must be yours and writable by nobody else \
                         (XDG_CACHE_HOME chooses another place)"
                    } else {
                        ""
                    };
                    let msg = format!(
                        "pyrewrite: cannot write {}: {}{hint}",
                        String::from_utf8_lossy(name),
                        e.describe()
                    );
                    return arena.refusal(tool, &msg, 1);
                }
            }
            let Some(program) = argv.first() else {
                return arena.refusal(tool, "pyrewrite: the rules produced an empty command", 1);
            };
            // PATH, then $EMSDK (`pyrewrite_rules::resolve_program`).
            // SAFETY: reads environ, as getenv does.
            let emsdk = unsafe { session::env_value(c"EMSDK") };
            let Some(resolved) = resolve_program(program, Some(search_path()), emsdk, &is_exec)
            else {
                let msg = format!(
                    "pyrewrite: cannot find {} on PATH or under $EMSDK; install Emscripten or \
                     give its absolute path in the target profile",
                    String::from_utf8_lossy(program)
                );
                return arena.refusal(tool, &msg, 127);
            };
            arena.set_program(&resolved);
            for a in &argv {
                arena.push_arg(a);
            }
            if !stays_in_session {
                for (name, value) in &target.env {
                    // SAFETY: the hook's caller passes a NULL or NULL-terminated envp.
                    let caller = unsafe { lookup(envp, name.as_bytes()) };
                    arena.push_env(
                        name.as_bytes(),
                        &Target::env_value(name.as_bytes(), value.as_bytes(), caller),
                    );
                }
            }
            // The decision's own environment, whether or not the command
            // stays in the session.
            for (name, value) in &env {
                arena.push_env(name.as_bytes(), value.as_bytes());
            }
            Plan {
                action: Action::Rewrite,
                tool,
                code: 0,
                stays_in_session,
            }
        }
        Decision::Answer {
            stdout,
            exit_code,
            reason,
            ..
        } => {
            arena.set_text(&stdout);
            arena.set_reason(reason.as_bytes());
            Plan {
                action: Action::Answer,
                tool,
                code: exit_code,
                stays_in_session: false,
            }
        }
        Decision::Refuse {
            message, exit_code, ..
        } => arena.refusal(tool, &message, exit_code),
    }
}

/// [`is_executable`] for a byte path (too long counts as not executable).
pub fn is_exec(path: &[u8]) -> bool {
    let mut buf = [0u8; CANDIDATE_MAX];
    // A path with a NUL names no file; one byte must stay for the NUL (the
    // buffer is zeroed).
    if path.contains(&0) || put(&mut buf, 0, path).is_none_or(|end| end >= CANDIDATE_MAX) {
        return false;
    }
    // SAFETY: NUL-terminated by construction.
    unsafe { is_executable(buf.as_ptr().cast()) }
}

/// Stack storage for the rewritten command (and reply texts): one byte buffer
/// plus an argv array; offsets become pointers in `finish`, once nothing moves.
pub struct Arena {
    bytes: SmallVec<u8, 32768>,
    argv: SmallVec<*const c_char, 2048>,
    /// `NAME=VALUE` entries from the profile's `env` (offsets until `finish`).
    env: SmallVec<*const c_char, 32>,
    program: usize,
    text: (usize, usize),
    reason: Option<(usize, usize)>,
}

impl Arena {
    #[inline(always)]
    fn new() -> Self {
        Arena {
            bytes: SmallVec::new(),
            argv: SmallVec::new(),
            env: SmallVec::new(),
            program: usize::MAX,
            text: (0, 0),
            reason: None,
        }
    }

    fn push_bytes(&mut self, s: &[u8], nul: bool) -> (usize, usize) {
        let start = self.bytes.len();
        // A C string ends at its first NUL whatever the rules produced.
        let s = s.split(|&b| b == 0).next().unwrap_or(b"");
        self.bytes.extend_from_slice(s);
        if nul {
            self.bytes.push(0);
        }
        (start, s.len())
    }

    fn set_program(&mut self, p: &[u8]) {
        self.program = self.push_bytes(p, true).0;
    }

    fn push_arg(&mut self, a: &[u8]) {
        let off = self.push_bytes(a, true).0;
        self.argv.push(off as *const c_char);
    }

    fn push_env(&mut self, name: &[u8], value: &[u8]) {
        let start = self.bytes.len();
        self.push_bytes(name, false);
        self.bytes.push(b'=');
        self.push_bytes(value, true);
        self.env.push(start as *const c_char);
    }

    fn set_text(&mut self, t: &[u8]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(t);
        self.text = (start, t.len());
    }

    fn set_reason(&mut self, r: &[u8]) {
        self.reason = Some(self.push_bytes(r, false));
    }

    fn refusal(&mut self, tool: &'static str, message: &str, code: c_int) -> Plan {
        let mut text = message.as_bytes().to_vec();
        if !text.ends_with(b"\n") {
            text.push(b'\n');
        }
        self.set_text(&text);
        self.set_reason(message.trim_end().as_bytes());
        Plan {
            action: Action::Refuse,
            tool,
            code,
            stays_in_session: false,
        }
    }

    /// Turns the argv offsets into pointers; nothing may be pushed afterwards.
    fn finish(&mut self) -> (CArgv, Option<&[u8]>) {
        let base = self.bytes.as_ptr() as usize;
        for p in self.argv.as_mut_slice() {
            *p = (base + *p as usize) as *const c_char;
        }
        for p in self.env.as_mut_slice() {
            *p = (base + *p as usize) as *const c_char;
        }
        self.argv.push(core::ptr::null());
        let reason = self
            .reason
            .and_then(|(s, n)| self.bytes.as_slice().get(s..s + n));
        (CArgv(self.argv.as_ptr()), reason)
    }

    fn program(&self) -> *const c_char {
        // SAFETY: `program` is an offset of a NUL-terminated string in `bytes`.
        unsafe { self.bytes.as_ptr().add(self.program).cast() }
    }

    /// The profile's environment entries; valid after `finish`.
    fn env(&self) -> &[*const c_char] {
        self.env.as_slice()
    }

    fn text(&self) -> &[u8] {
        let (start, len) = self.text;
        self.bytes.as_slice().get(start..start + len).unwrap_or(b"")
    }
}

/// Runs the exec-family reply in this process: the process *becomes* the answer.
pub fn reply_and_exit(fd: c_int, text: &[u8], code: c_int) -> ! {
    let _ = crate::sys::write_all(fd, text);
    // SAFETY: _exit never returns; nothing of this image must run on.
    unsafe { libc::_exit(code) }
}

/// `true` if `path` is a C string naming something `is_executable`.
///
/// # Safety
/// `path` NULL or a C string.
pub unsafe fn executable(path: *const c_char) -> Option<&'static [u8]> {
    if path.is_null() {
        return None;
    }
    // SAFETY: non-NULL C string.
    unsafe { crate::path::is_executable(path).then(|| CStr::from_ptr(path).to_bytes()) }
}
