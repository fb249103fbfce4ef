//! The environment handed to an exec.
//!
//! * Survival: a build step that clears or replaces the environment (`env -i`,
//!   `subprocess.run(env={...})`) would drop `LD_PRELOAD` and the session
//!   variables and escape the session; we put them back, keeping any other
//!   preload entries.
//! * Recursion guard: the rewritten compiler (emcc runs clang, wasm-ld, node)
//!   runs with this library removed from `LD_PRELOAD`.
//!
//! When nothing needs changing the caller's envp is passed on as is; otherwise
//! the new array lives in stack buffers owned by the caller's frame.

use crate::session::{is_ours, Session};
use crate::small::SmallVec;
use libc::c_char;
use std::ffi::CStr;

const LD_PRELOAD_EQ: &[u8] = b"LD_PRELOAD=";

/// The non-empty entries of an `LD_PRELOAD` value (separated by spaces or colons).
pub fn preload_entries(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b' ' || b == b':')
        .filter(|e| !e.is_empty())
}

/// Storage for a rebuilt envp; must outlive the exec that uses it.
pub struct EnvBuf {
    ptrs: SmallVec<*const c_char, 512>,
    preload: SmallVec<u8, 2048>,
}

impl EnvBuf {
    pub fn new() -> Self {
        EnvBuf {
            ptrs: SmallVec::new(),
            preload: SmallVec::new(),
        }
    }

    /// envp with our preload and the session variables present (for anything
    /// that runs unchanged).
    ///
    /// # Safety
    /// `envp` is NULL or a NULL-terminated array of C strings.
    pub unsafe fn keep(&mut self, envp: *const *const c_char, s: &Session) -> *const *const c_char {
        let entries = unsafe { entries(envp) };
        let mut preload_at = None;
        let mut has_ours = false;
        let mut missing = [false; 8];
        let mut any_missing = false;
        for (i, e) in entries.iter().enumerate() {
            if let Some(v) = e.to_bytes().strip_prefix(LD_PRELOAD_EQ) {
                preload_at = Some(i);
                has_ours = preload_entries(v).any(is_ours);
            }
        }
        for (k, want) in s.entries().enumerate() {
            let name = name_of(want.to_bytes());
            let present = entries.iter().any(|e| name_of(e.to_bytes()) == name);
            missing[k] = !present;
            any_missing |= !present;
        }
        let need_preload = !has_ours && s.preload.is_some();
        if !need_preload && !any_missing && !envp.is_null() {
            return envp;
        }
        for (i, e) in entries.iter().enumerate() {
            if Some(i) == preload_at && need_preload {
                continue;
            }
            self.ptrs.push(e.as_ptr());
        }
        if let (true, Some(ours)) = (need_preload, s.preload) {
            self.preload.extend_from_slice(LD_PRELOAD_EQ);
            self.preload.extend_from_slice(ours);
            if let Some(i) = preload_at {
                let old = &entries[i].to_bytes()[LD_PRELOAD_EQ.len()..];
                if !old.is_empty() {
                    self.preload.push(b' ');
                    self.preload.extend_from_slice(old);
                }
            }
            self.preload.push(0);
        }
        for (k, want) in s.entries().enumerate() {
            if missing[k] {
                self.ptrs.push(want.as_ptr());
            }
        }
        self.finish(need_preload)
    }

    /// envp without this library in `LD_PRELOAD` (for the rewritten compiler).
    ///
    /// # Safety
    /// As for [`EnvBuf::keep`].
    pub unsafe fn strip(&mut self, envp: *const *const c_char) -> *const *const c_char {
        let entries = unsafe { entries(envp) };
        let Some(at) = entries.iter().position(|e| {
            e.to_bytes()
                .strip_prefix(LD_PRELOAD_EQ)
                .is_some_and(|v| preload_entries(v).any(is_ours))
        }) else {
            return envp;
        };
        let old = &entries[at].to_bytes()[LD_PRELOAD_EQ.len()..];
        let mut kept_any = false;
        for entry in preload_entries(old).filter(|e| !is_ours(e)) {
            if kept_any {
                self.preload.push(b' ');
            } else {
                self.preload.extend_from_slice(LD_PRELOAD_EQ);
            }
            self.preload.extend_from_slice(entry);
            kept_any = true;
        }
        if kept_any {
            self.preload.push(0);
        }
        for (i, e) in entries.iter().enumerate() {
            if i != at {
                self.ptrs.push(e.as_ptr());
            }
        }
        self.finish(kept_any)
    }

    fn finish(&mut self, with_preload: bool) -> *const *const c_char {
        if with_preload {
            let p = self.preload.as_ptr().cast::<c_char>();
            self.ptrs.push(p);
        }
        self.ptrs.push(std::ptr::null());
        self.ptrs.as_ptr()
    }
}

fn name_of(entry: &[u8]) -> &[u8] {
    match entry.iter().position(|&b| b == b'=') {
        Some(i) => &entry[..i],
        None => entry,
    }
}

/// The entries of a NULL-terminated envp (NULL counts as empty).
struct Entries {
    ptr: *const *const c_char,
    len: usize,
}

impl Entries {
    fn iter(&self) -> impl Iterator<Item = &CStr> + '_ {
        // SAFETY: `len` entries were counted in `entries`.
        (0..self.len).map(move |i| unsafe { CStr::from_ptr(*self.ptr.add(i)) })
    }
}

impl std::ops::Index<usize> for Entries {
    type Output = CStr;
    fn index(&self, i: usize) -> &CStr {
        assert!(i < self.len);
        // SAFETY: bounds checked above.
        unsafe { CStr::from_ptr(*self.ptr.add(i)) }
    }
}

unsafe fn entries(envp: *const *const c_char) -> Entries {
    let mut len = 0;
    if !envp.is_null() {
        // SAFETY: caller promises a NULL-terminated array.
        while unsafe { !(*envp.add(len)).is_null() } {
            len += 1;
        }
    }
    Entries { ptr: envp, len }
}
