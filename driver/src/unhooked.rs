//! The driver never runs with a pyrewrite library preloaded into itself.
//!
//! A shell whose `LD_PRELOAD` already holds a copy of libpyrewrite.so (an
//! older build, a manual test) would load it into the driver: that copy's
//! hooks would see the driver start the build and decide for it, outside
//! the session — `pyrewrite run -- gcc -c x.c` compiled by the copy while
//! the session saw 0 execs — and, left in the build's `LD_PRELOAD`, hook
//! every exec a second time. So before anything else the driver execs itself
//! again without those entries, through the raw `execve` system call: a
//! libc call would go through the copy's own hook, which puts itself back.
//! Which entries count is the protocol's rule
//! (`pyrewrite_protocol::preload::is_pyrewrite_library`), the one the
//! library and the session environment use.

use pyrewrite_protocol::{env, preload};
use std::ffi::{CString, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// Re-exec without pyrewrite libraries in `LD_PRELOAD`, if there are any.
/// Returns only when there are none, or when the re-exec failed (then with a
/// warning: the driver goes on, hooked).
pub fn ensure() {
    let Some(value) = std::env::var_os("LD_PRELOAD") else {
        return;
    };
    let own = std::env::var_os(env::PRELOAD).filter(|v| !v.is_empty());
    let own = own.as_ref().map(|v| v.as_bytes());
    let is_lib = |e: &[u8]| preload::is_pyrewrite_library(e, own);
    let entries: Vec<&[u8]> = preload::entries(value.as_bytes()).collect();
    if !entries.iter().any(|e| is_lib(e)) {
        return;
    }
    let (copies, kept): (Vec<&[u8]>, Vec<&[u8]>) = entries.into_iter().partition(|e| is_lib(e));
    let err = reexec(&kept);
    eprintln!(
        "pyrewrite: warning: LD_PRELOAD holds {}, and pyrewrite could not restart without it ({err}); \
         unset it: the session preloads its own library",
        String::from_utf8_lossy(&copies.join(&b" "[..]))
    );
}

/// Exec `/proc/self/exe` with the same argv and the environment with
/// `LD_PRELOAD` = `kept` (removed when empty). Returns only on failure.
fn reexec(kept: &[&[u8]]) -> std::io::Error {
    let cstring = |v: Vec<u8>| CString::new(v).ok();
    let argv: Option<Vec<CString>> = std::env::args_os().map(|a| cstring(a.into_vec())).collect();
    let mut envp: Vec<CString> = std::env::vars_os()
        .filter(|(k, _)| k != "LD_PRELOAD")
        .filter_map(|(k, v)| {
            let mut entry = k;
            entry.push("=");
            entry.push(v);
            cstring(entry.into_vec())
        })
        .collect();
    if !kept.is_empty() {
        let mut entry = OsString::from("LD_PRELOAD=").into_vec();
        entry.extend_from_slice(&kept.join(&b":"[..]));
        envp.extend(cstring(entry));
    }
    let Some(argv) = argv else {
        return std::io::Error::other("an argument holds a NUL byte");
    };
    let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());
    let mut envp_ptrs: Vec<*const libc::c_char> = envp.iter().map(|e| e.as_ptr()).collect();
    envp_ptrs.push(std::ptr::null());
    // SAFETY: NUL-terminated path, NULL-terminated arrays of C strings that
    // outlive the call; on success the call does not return.
    unsafe {
        libc::syscall(
            libc::SYS_execve,
            c"/proc/self/exe".as_ptr(),
            argv_ptrs.as_ptr(),
            envp_ptrs.as_ptr(),
        );
    }
    std::io::Error::last_os_error()
}
