//! The floor preload (bench/floor_preload.c) written in Rust, to tell what
//! the language runtime costs from what the hooks do. Same five hooks, same
//! one line per exec to $FLOOR_LOG, no dependencies (libc declared by hand).
//!
//! bench/run.py builds it twice with rustc (same flags as libpyrewrite.so's
//! release build: LTO, opt-level s, partial RELRO):
//!   with std:            `std` is linked (as libpyrewrite.so once did) but unused;
//!   `--cfg nostd`:       `#![no_std]`, `-C panic=abort`, only `core`.
#![cfg_attr(nostd, no_std)]
#![allow(clippy::missing_safety_doc)]

use core::ffi::{c_char, c_int, c_void};
use core::sync::atomic::{AtomicPtr, Ordering};

#[cfg(nostd)]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    unsafe { abort() }
}

type Argv = *const *const c_char;

unsafe extern "C" {
    fn dlsym(handle: *mut c_void, name: *const c_char) -> *mut c_void;
    fn getenv(name: *const c_char) -> *const c_char;
    fn getpid() -> c_int;
    fn open(path: *const c_char, flags: c_int, mode: c_int) -> c_int;
    fn write(fd: c_int, buf: *const c_void, n: usize) -> isize;
    fn close(fd: c_int) -> c_int;
    #[cfg(nostd)]
    fn abort() -> !;
}

const RTLD_NEXT: *mut c_void = -1isize as *mut c_void;
const O_WRONLY_APPEND_CREAT_CLOEXEC: c_int = 0o1 | 0o2000 | 0o100 | 0o2000000;

static EXECVE: AtomicPtr<c_void> = AtomicPtr::new(core::ptr::null_mut());
static EXECV: AtomicPtr<c_void> = AtomicPtr::new(core::ptr::null_mut());
static EXECVP: AtomicPtr<c_void> = AtomicPtr::new(core::ptr::null_mut());
static SPAWN: AtomicPtr<c_void> = AtomicPtr::new(core::ptr::null_mut());
static SPAWNP: AtomicPtr<c_void> = AtomicPtr::new(core::ptr::null_mut());

extern "C" fn init() {
    for (slot, name) in [
        (&EXECVE, c"execve"),
        (&EXECV, c"execv"),
        (&EXECVP, c"execvp"),
        (&SPAWN, c"posix_spawn"),
        (&SPAWNP, c"posix_spawnp"),
    ] {
        slot.store(
            unsafe { dlsym(RTLD_NEXT, name.as_ptr()) },
            Ordering::Release,
        );
    }
}

#[used]
#[unsafe(link_section = ".init_array")]
static INIT: extern "C" fn() = init;

/// Appends "PID FUNCTION PATH\n" to $FLOOR_LOG, like the C floor's snprintf.
unsafe fn log_exec(function: &[u8], path: *const c_char) {
    let file = unsafe { getenv(c"FLOOR_LOG".as_ptr()) };
    if file.is_null() {
        return;
    }
    let mut line = [0u8; 4096];
    let mut n = 0;
    let mut put = |bytes: &[u8]| {
        for &b in bytes {
            if n < line.len() - 1 {
                line[n] = b;
                n += 1;
            }
        }
    };
    let mut digits = [0u8; 12];
    let mut k = digits.len();
    let mut pid = unsafe { getpid() } as u32;
    loop {
        k -= 1;
        digits[k] = b'0' + (pid % 10) as u8;
        pid /= 10;
        if pid == 0 || k == 0 {
            break;
        }
    }
    put(&digits[k..]);
    put(b" ");
    put(function);
    put(b" ");
    if !path.is_null() {
        put(unsafe { core::ffi::CStr::from_ptr(path) }.to_bytes());
    }
    put(b"\n");
    let fd = unsafe { open(file, O_WRONLY_APPEND_CREAT_CLOEXEC, 0o644) };
    if fd >= 0 {
        unsafe { write(fd, line.as_ptr().cast(), n) };
        unsafe { close(fd) };
    }
}

type ExecveFn = unsafe extern "C" fn(*const c_char, Argv, Argv) -> c_int;
type ExecvFn = unsafe extern "C" fn(*const c_char, Argv) -> c_int;
type SpawnFn = unsafe extern "C" fn(
    *mut c_int,
    *const c_char,
    *const c_void,
    *const c_void,
    Argv,
    Argv,
) -> c_int;

#[unsafe(no_mangle)]
pub unsafe extern "C" fn execve(p: *const c_char, a: Argv, e: Argv) -> c_int {
    unsafe {
        log_exec(b"execve", p);
        core::mem::transmute::<*mut c_void, ExecveFn>(EXECVE.load(Ordering::Acquire))(p, a, e)
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn execv(p: *const c_char, a: Argv) -> c_int {
    unsafe {
        log_exec(b"execv", p);
        core::mem::transmute::<*mut c_void, ExecvFn>(EXECV.load(Ordering::Acquire))(p, a)
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn execvp(p: *const c_char, a: Argv) -> c_int {
    unsafe {
        log_exec(b"execvp", p);
        core::mem::transmute::<*mut c_void, ExecvFn>(EXECVP.load(Ordering::Acquire))(p, a)
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn posix_spawn(
    pid: *mut c_int,
    p: *const c_char,
    fa: *const c_void,
    at: *const c_void,
    a: Argv,
    e: Argv,
) -> c_int {
    unsafe {
        log_exec(b"posix_spawn", p);
        core::mem::transmute::<*mut c_void, SpawnFn>(SPAWN.load(Ordering::Acquire))(
            pid, p, fa, at, a, e,
        )
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn posix_spawnp(
    pid: *mut c_int,
    p: *const c_char,
    fa: *const c_void,
    at: *const c_void,
    a: Argv,
    e: Argv,
) -> c_int {
    unsafe {
        log_exec(b"posix_spawnp", p);
        core::mem::transmute::<*mut c_void, SpawnFn>(SPAWNP.load(Ordering::Acquire))(
            pid, p, fa, at, a, e,
        )
    }
}
