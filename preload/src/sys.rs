//! The leaf every other module builds on: C types, `errno`, integers in
//! decimal, writing a whole buffer, and holding off thread cancellation.
//! It uses nothing of this crate, so the module graph has no cycles.
//!
//! Everything here is async-signal-safe and allocation-free: it runs in
//! vfork children and signal handlers.

use libc::{c_char, c_int};

/// A NULL-terminated `char *const argv[]` (or envp) as C passes it.
pub type Argv = *const *const c_char;

unsafe extern "C" {
    /// The process environment (what `getenv` reads).
    static environ: Argv;
    // glibc's, in libc.so.6 since 2.34; not declared by the `libc` crate.
    fn pthread_setcancelstate(state: c_int, old: *mut c_int) -> c_int;
}

/// The current `environ` pointer.
pub fn environ_now() -> Argv {
    // SAFETY: reading the pointer value of `environ`.
    unsafe { environ }
}

pub fn errno() -> c_int {
    // SAFETY: errno is thread-local.
    unsafe { *libc::__errno_location() }
}

pub fn set_errno(v: c_int) {
    // SAFETY: errno is thread-local.
    unsafe { *libc::__errno_location() = v }
}

/// `v` in decimal, in `buf` (20 digits and a sign fit any `i64`).
pub fn decimal(v: i64, buf: &mut [u8; 21]) -> &[u8] {
    let mut at = buf.len();
    let mut u = v.unsigned_abs();
    loop {
        at -= 1;
        if let Some(d) = buf.get_mut(at) {
            *d = b'0' + (u % 10) as u8;
        }
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if v < 0 {
        at -= 1;
        if let Some(d) = buf.get_mut(at) {
            *d = b'-';
        }
    }
    buf.get(at..).unwrap_or(b"")
}

/// Writes everything to `fd`, retrying short writes and EINTR. A write that
/// makes no progress ends it (EIO) rather than spinning. `Err(errno)`.
pub fn write_all(fd: c_int, mut data: &[u8]) -> Result<(), c_int> {
    while !data.is_empty() {
        // SAFETY: valid buffer.
        let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        if n < 0 && errno() == libc::EINTR {
            continue;
        }
        if n < 0 {
            return Err(errno());
        }
        if n == 0 {
            return Err(libc::EIO);
        }
        data = data.get(n as usize..).unwrap_or(&[]);
    }
    Ok(())
}

const PTHREAD_CANCEL_DISABLE: c_int = 1;

/// Thread cancellation held off while it lives; the caller's state (enabled
/// or not) is put back on drop.
///
/// Why: deferred cancellation acts at cancellation points (`connect`,
/// `poll`, `open`, `write`, `close`, `read`...), and the report and the
/// compiler plan call them while they hold a descriptor, a mapping or heap
/// blocks that a forced unwind through our frames would never give back
/// (no destructors run: panic=abort, no landing pads). With cancellation
/// disabled, a pending cancel waits for the caller's next cancellation
/// point, after our work is undone. It must be dropped before the real
/// exec: in a vfork child the thread descriptor is the parent's.
/// `pthread_setcancelstate` takes no lock (an atomic on the thread
/// descriptor), so this is fine in signal handlers and vfork children.
pub struct NoCancel(c_int);

impl NoCancel {
    pub fn new() -> NoCancel {
        let mut old: c_int = 0;
        let saved = errno();
        // SAFETY: valid out-pointer; glibc's function of this signature.
        unsafe { pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &mut old) };
        set_errno(saved);
        NoCancel(old)
    }
}

impl Drop for NoCancel {
    fn drop(&mut self) {
        let saved = errno();
        let mut ignored: c_int = 0;
        // SAFETY: as in `new`; restores what the caller had.
        unsafe { pthread_setcancelstate(self.0, &mut ignored) };
        set_errno(saved);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_prints_every_i64() {
        let mut b = [0u8; 21];
        for v in [0, 7, -7, 10, 1234567890, i64::MAX, i64::MIN] {
            assert_eq!(decimal(v, &mut b), v.to_string().as_bytes());
        }
    }
}
