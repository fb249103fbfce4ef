//! The libc functions we interpose, found with `dlsym(RTLD_NEXT)` (the next
//! definition: libc's, or another preload's that comes after us).
//!
//! | functions | resolved | why |
//! |---|---|---|
//! | `execve`, `execvpe`, `fexecve`, `execveat` | at load | async-signal-safe: called in `fork` children of threaded parents and in `vfork` children, where `dlsym` could deadlock on a loader lock another thread held |
//! | `posix_spawn`, `posix_spawnp`, `system`, `popen` | on first call | not async-signal-safe, so a caller may only call them where `dlsym` is allowed too; most processes never do, and each look-up costs ~1k instructions at load in every process |
//!
//! A slot still empty when a hook runs (another library's constructor exec'ing
//! before ours ran) is resolved on the spot; storing a pointer is idempotent,
//! so racing threads at worst both resolve it.

use core::sync::atomic::{AtomicPtr, Ordering};
use libc::{c_char, c_int, c_void, pid_t, posix_spawn_file_actions_t, posix_spawnattr_t, FILE};

use crate::sys::Argv;

pub type ExecveFn = unsafe extern "C" fn(*const c_char, Argv, Argv) -> c_int;
pub type ExecvpeFn = unsafe extern "C" fn(*const c_char, Argv, Argv) -> c_int;
pub type FexecveFn = unsafe extern "C" fn(c_int, Argv, Argv) -> c_int;
pub type ExecveatFn = unsafe extern "C" fn(c_int, *const c_char, Argv, Argv, c_int) -> c_int;
pub type SpawnFn = unsafe extern "C" fn(
    *mut pid_t,
    *const c_char,
    *const posix_spawn_file_actions_t,
    *const posix_spawnattr_t,
    Argv,
    Argv,
) -> c_int;
pub type SystemFn = unsafe extern "C" fn(*const c_char) -> c_int;
pub type PopenFn = unsafe extern "C" fn(*const c_char, *const c_char) -> *mut FILE;

struct Slot {
    name: &'static [u8],
    ptr: AtomicPtr<c_void>,
}

impl Slot {
    const fn new(name: &'static [u8]) -> Slot {
        Slot {
            name,
            ptr: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    fn get(&self) -> *mut c_void {
        let p = self.ptr.load(Ordering::Acquire);
        if !p.is_null() {
            return p;
        }
        // SAFETY: `name` is NUL-terminated.
        let p = unsafe { libc::dlsym(libc::RTLD_NEXT, self.name.as_ptr().cast()) };
        self.ptr.store(p, Ordering::Release);
        p
    }
}

static EXECVE: Slot = Slot::new(b"execve\0");
static EXECVPE: Slot = Slot::new(b"execvpe\0");
static FEXECVE: Slot = Slot::new(b"fexecve\0");
static EXECVEAT: Slot = Slot::new(b"execveat\0");
static POSIX_SPAWN: Slot = Slot::new(b"posix_spawn\0");
static POSIX_SPAWNP: Slot = Slot::new(b"posix_spawnp\0");
static SYSTEM: Slot = Slot::new(b"system\0");
static POPEN: Slot = Slot::new(b"popen\0");

/// Called from the library constructor: the async-signal-safe ones (see above).
pub fn resolve_at_load() {
    for slot in [&EXECVE, &EXECVPE, &FEXECVE, &EXECVEAT] {
        slot.get();
    }
}

fn missing() -> c_int {
    // SAFETY: errno is thread-local.
    unsafe { *libc::__errno_location() = libc::ENOSYS };
    -1
}

macro_rules! real_fn {
    ($(#[$doc:meta])* $fname:ident, $slot:ident, $ty:ty, ($($arg:ident : $at:ty),*) -> $ret:ty, $fail:expr) => {
        $(#[$doc])*
        pub unsafe fn $fname($($arg: $at),*) -> $ret {
            let p = $slot.get();
            if p.is_null() {
                return $fail;
            }
            // SAFETY: dlsym gave the libc symbol of this exact signature.
            let f: $ty = unsafe { core::mem::transmute::<*mut c_void, $ty>(p) };
            unsafe { f($($arg),*) }
        }
    };
}

real_fn!(execve, EXECVE, ExecveFn, (path: *const c_char, argv: Argv, envp: Argv) -> c_int, missing());
real_fn!(execvpe, EXECVPE, ExecvpeFn, (file: *const c_char, argv: Argv, envp: Argv) -> c_int, missing());
real_fn!(fexecve, FEXECVE, FexecveFn, (fd: c_int, argv: Argv, envp: Argv) -> c_int, missing());
real_fn!(execveat, EXECVEAT, ExecveatFn, (dirfd: c_int, path: *const c_char, argv: Argv, envp: Argv, flags: c_int) -> c_int, missing());
real_fn!(posix_spawn, POSIX_SPAWN, SpawnFn, (pid: *mut pid_t, path: *const c_char, fa: *const posix_spawn_file_actions_t, attr: *const posix_spawnattr_t, argv: Argv, envp: Argv) -> c_int, libc::ENOSYS);
real_fn!(posix_spawnp, POSIX_SPAWNP, SpawnFn, (pid: *mut pid_t, file: *const c_char, fa: *const posix_spawn_file_actions_t, attr: *const posix_spawnattr_t, argv: Argv, envp: Argv) -> c_int, libc::ENOSYS);
real_fn!(system, SYSTEM, SystemFn, (command: *const c_char) -> c_int, missing());
real_fn!(popen, POPEN, PopenFn, (command: *const c_char, mode: *const c_char) -> *mut FILE, { missing(); core::ptr::null_mut() });
