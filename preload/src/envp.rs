//! The environment handed to an exec.
//!
//! * Survival: a build step that clears or replaces the environment (`env -i`,
//!   `subprocess.run(env={...})`) would drop `LD_PRELOAD` and the session
//!   variables and escape the session; we put them back, keeping any other
//!   preload entries. Another copy of the library (another path, by the
//!   protocol's rule `pyrewrite_protocol::preload::is_pyrewrite_library`)
//!   is replaced by this session's own: two copies in one process would
//!   each hook and report every exec.
//! * Recursion guard: the rewritten compiler (emcc runs clang, wasm-ld, node)
//!   runs with this library removed from `LD_PRELOAD`.
//! * Profile environment: the rewritten compiler also gets the target
//!   profile's `env` entries (composed in `exec.rs`), replacing the caller's
//!   variables of the same names. Passthrough execs never do.
//!
//! When nothing needs changing the caller's envp is passed on as is; otherwise
//! the new array lives in stack buffers owned by the caller's frame.

use crate::session::Session;
use crate::small::SmallVec;
use core::ffi::CStr;
use libc::c_char;
use pyrewrite_protocol::preload::entries as preload_entries;

const LD_PRELOAD_EQ: &[u8] = b"LD_PRELOAD=";

/// Storage for a rebuilt envp; must outlive the exec that uses it. Small
/// for the signal-stack budget (docs/preload.md): a larger envp moves to a
/// mapping, which a vfork child that then execs leaves in its parent (only
/// for an envp that lacks the session and has more than 96 entries).
pub struct EnvBuf {
    ptrs: SmallVec<*const c_char, 96>,
    preload: SmallVec<u8, 256>,
}

impl EnvBuf {
    #[inline(always)]
    pub fn new() -> Self {
        EnvBuf {
            ptrs: SmallVec::new(),
            preload: SmallVec::new(),
        }
    }

    /// envp with our preload and the session variables present (for anything
    /// that runs in the session), plus `extra` (`NAME=VALUE` C strings that
    /// replace every caller entry of the same name; empty for what runs
    /// unchanged).
    ///
    /// # Safety
    /// `envp` is NULL or a NULL-terminated array of C strings; `extra` holds
    /// valid C strings that outlive the exec.
    pub unsafe fn keep(
        &mut self,
        envp: *const *const c_char,
        s: &Session,
        extra: &[*const c_char],
    ) -> *const *const c_char {
        let entries = unsafe { entries(envp) };
        let need = survey(&entries, s);
        if !need.any() && !envp.is_null() && extra.is_empty() {
            return envp;
        }
        // SAFETY: the caller passes valid C strings.
        let extra_name = |p: &*const c_char| name_of(unsafe { CStr::from_ptr(*p) }.to_bytes());
        let replaced = |e: &CStr| extra.iter().any(|p| extra_name(p) == name_of(e.to_bytes()));
        for (i, e) in entries.iter().enumerate() {
            if (Some(i) == need.preload_at && need.preload) || replaced(e) {
                continue;
            }
            self.ptrs.push(e.as_ptr());
        }
        if let (true, Some(ours)) = (need.preload, s.preload()) {
            self.preload.extend_from_slice(LD_PRELOAD_EQ);
            self.preload.extend_from_slice(ours);
            if let Some(i) = need.preload_at {
                // Other entries kept in order; pyrewrite libraries (stale
                // copies, or our own spelled otherwise) give way to ours.
                for e in preload_entries(entries.preload_value(i)).filter(|e| !s.is_ours(e)) {
                    self.preload.push(b' ');
                    self.preload.extend_from_slice(e);
                }
            }
            self.preload.push(0);
        }
        for (want, missing) in s.entries().zip(need.missing) {
            if missing {
                self.ptrs.push(want.as_ptr());
            }
        }
        for &e in extra {
            self.ptrs.push(e);
        }
        self.finish(need.preload)
    }

    /// envp without this library in `LD_PRELOAD`, plus `extra` (`NAME=VALUE`
    /// C strings that replace every caller entry of the same name): for the
    /// rewritten compiler.
    ///
    /// # Safety
    /// As for [`EnvBuf::keep`]; `extra` holds valid C strings that outlive the exec.
    pub unsafe fn strip(
        &mut self,
        envp: *const *const c_char,
        s: &Session,
        extra: &[*const c_char],
    ) -> *const *const c_char {
        let entries = unsafe { entries(envp) };
        let at = entries.iter().position(|e| {
            e.to_bytes()
                .strip_prefix(LD_PRELOAD_EQ)
                .is_some_and(|v| preload_entries(v).any(|e| s.is_ours(e)))
        });
        if at.is_none() && extra.is_empty() {
            return envp;
        }
        // SAFETY: the caller passes valid C strings.
        let extra_name = |p: &*const c_char| name_of(unsafe { CStr::from_ptr(*p) }.to_bytes());
        let replaced = |e: &CStr| extra.iter().any(|p| extra_name(p) == name_of(e.to_bytes()));
        let mut kept_any = false;
        if let Some(at) = at {
            let old = entries.preload_value(at);
            kept_any = self.push_preload_without_us(old, s);
        }
        for (i, e) in entries.iter().enumerate() {
            if Some(i) != at && !replaced(e) {
                self.ptrs.push(e.as_ptr());
            }
        }
        for &e in extra {
            self.ptrs.push(e);
        }
        self.finish(kept_any)
    }

    /// Writes `LD_PRELOAD=` with the entries of `old` that are not this
    /// library into `self.preload`; `false` (nothing written) if none is left.
    fn push_preload_without_us(&mut self, old: &[u8], s: &Session) -> bool {
        let mut kept_any = false;
        for entry in preload_entries(old).filter(|e| !s.is_ours(e)) {
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
        kept_any
    }

    fn finish(&mut self, with_preload: bool) -> *const *const c_char {
        if with_preload {
            let p = self.preload.as_ptr().cast::<c_char>();
            self.ptrs.push(p);
        }
        self.ptrs.push(core::ptr::null());
        self.ptrs.as_ptr()
    }
}

/// What an envp lacks of the session.
struct Needs {
    /// Index of its `LD_PRELOAD` entry.
    preload_at: Option<usize>,
    /// Our library must be added to `LD_PRELOAD` (it is missing, or another
    /// copy is there).
    preload: bool,
    /// Which of `Session::entries` are missing.
    missing: [bool; 8],
}

impl Needs {
    fn any(&self) -> bool {
        self.preload || self.missing.iter().any(|&m| m)
    }
}

fn survey(entries: &Entries, s: &Session) -> Needs {
    let mut need = Needs {
        preload_at: None,
        preload: false,
        missing: [false; 8],
    };
    let (mut has_own, mut has_other_copy) = (false, false);
    for (i, e) in entries.iter().enumerate() {
        if let Some(v) = e.to_bytes().strip_prefix(LD_PRELOAD_EQ) {
            need.preload_at = Some(i);
            has_own = preload_entries(v).any(|e| s.is_own(e));
            has_other_copy = preload_entries(v).any(|e| s.is_ours(e) && !s.is_own(e));
        }
    }
    need.preload = (!has_own || has_other_copy) && s.preload().is_some();
    for (want, missing) in s.entries().zip(need.missing.iter_mut()) {
        let name = name_of(want.to_bytes());
        *missing = !entries.iter().any(|e| name_of(e.to_bytes()) == name);
    }
    need
}

/// Calls `f` with `envp`, or with a copy restored to the session when it
/// lacks something. The copy's buffers live in a separate frame, so the
/// common case (nothing missing) does not even reserve their stack.
///
/// # Safety
/// `envp` is NULL or a NULL-terminated array of C strings.
pub unsafe fn with_session_env<R>(
    envp: *const *const c_char,
    s: &Session,
    f: impl FnOnce(*const *const c_char) -> R,
) -> R {
    let entries = unsafe { entries(envp) };
    if !envp.is_null() && !survey(&entries, s).any() {
        return f(envp);
    }
    unsafe { with_rebuilt_env(envp, s, f) }
}

/// [`with_session_env`], plus `extra` entries (the decision's own
/// environment for a command that stays in the session, e.g. a build
/// backend's `_PYTHON_HOST_PLATFORM`).
///
/// # Safety
/// As for [`with_session_env`]; `extra` holds valid C strings.
pub unsafe fn with_session_env_and<R>(
    envp: *const *const c_char,
    s: &Session,
    extra: &[*const c_char],
    f: impl FnOnce(*const *const c_char) -> R,
) -> R {
    if extra.is_empty() {
        return unsafe { with_session_env(envp, s, f) };
    }
    let mut buf = EnvBuf::new();
    f(unsafe { buf.keep(envp, s, extra) })
}

#[inline(never)]
unsafe fn with_rebuilt_env<R>(
    envp: *const *const c_char,
    s: &Session,
    f: impl FnOnce(*const *const c_char) -> R,
) -> R {
    let mut buf = EnvBuf::new();
    f(unsafe { buf.keep(envp, s, &[]) })
}

/// The value of the first `name=` entry of `envp` (what `getenv` would give
/// the program that is about to run).
///
/// # Safety
/// `envp` is NULL or a NULL-terminated array of C strings that outlive `'a`.
pub unsafe fn lookup<'a>(envp: *const *const c_char, name: &[u8]) -> Option<&'a [u8]> {
    let entries = unsafe { entries(envp) };
    (0..entries.len).find_map(|i| {
        // SAFETY: `i < len`; the strings outlive 'a by the caller's promise.
        let e = unsafe { CStr::from_ptr(*entries.ptr.add(i)) }.to_bytes();
        e.strip_prefix(name).and_then(|v| v.strip_prefix(b"="))
    })
}

fn name_of(entry: &[u8]) -> &[u8] {
    entry.split(|&b| b == b'=').next().unwrap_or(entry)
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

impl Entries {
    /// The value of entry `i`, known to be an `LD_PRELOAD=` entry (empty if
    /// `i` is out of range or the entry is something else).
    fn preload_value(&self, i: usize) -> &[u8] {
        self.iter()
            .nth(i)
            .and_then(|e| e.to_bytes().strip_prefix(LD_PRELOAD_EQ))
            .unwrap_or(b"")
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

#[cfg(test)]
mod tests {
    use super::*;

    fn envp(v: &[&'static CStr]) -> Vec<*const c_char> {
        let mut p: Vec<_> = v.iter().map(|c| c.as_ptr()).collect();
        p.push(std::ptr::null());
        p
    }

    fn read(p: *const *const c_char) -> Vec<String> {
        let mut out = Vec::new();
        let mut i = 0;
        // SAFETY: NULL-terminated arrays built by the tests or EnvBuf.
        unsafe {
            while !(*p.add(i)).is_null() {
                out.push(CStr::from_ptr(*p.add(i)).to_string_lossy().into_owned());
                i += 1;
            }
        }
        out
    }

    fn session() -> Session {
        Session::for_test(
            b"/lib/libpyrewrite.so",
            &[c"PYREWRITE_EVENTS=/tmp/e", c"PYREWRITE_MODE=trace"],
        )
    }

    #[test]
    fn complete_envp_is_passed_on_untouched() {
        let s = session();
        let e = envp(&[
            c"A=1",
            c"LD_PRELOAD=libm.so.6:/lib/libpyrewrite.so",
            c"PYREWRITE_EVENTS=/other",
            c"PYREWRITE_MODE=trace",
        ]);
        let mut b = EnvBuf::new();
        assert_eq!(unsafe { b.keep(e.as_ptr(), &s, &[]) }, e.as_ptr());
    }

    #[test]
    fn another_copy_of_the_library_is_replaced_by_ours() {
        let s = session();
        let e = envp(&[
            c"LD_PRELOAD=/old/libpyrewrite.so:libm.so.6 /lib/libpyrewrite.so",
            c"PYREWRITE_EVENTS=/other",
            c"PYREWRITE_MODE=trace",
        ]);
        let mut b = EnvBuf::new();
        let got = read(unsafe { b.keep(e.as_ptr(), &s, &[]) });
        assert_eq!(
            got,
            [
                "PYREWRITE_EVENTS=/other",
                "PYREWRITE_MODE=trace",
                "LD_PRELOAD=/lib/libpyrewrite.so libm.so.6"
            ]
        );
    }

    #[test]
    fn missing_preload_and_session_vars_are_restored_keeping_others() {
        let s = session();
        let e = envp(&[c"A=1", c"LD_PRELOAD=libm.so.6", c"PYREWRITE_MODE=rewrite"]);
        let mut b = EnvBuf::new();
        let got = read(unsafe { b.keep(e.as_ptr(), &s, &[]) });
        assert_eq!(
            got,
            [
                "A=1",
                "PYREWRITE_MODE=rewrite",
                "PYREWRITE_EVENTS=/tmp/e",
                "LD_PRELOAD=/lib/libpyrewrite.so libm.so.6"
            ]
        );
        let mut b = EnvBuf::new();
        let got = read(unsafe { b.keep(std::ptr::null(), &s, &[]) });
        assert_eq!(
            got,
            [
                "PYREWRITE_EVENTS=/tmp/e",
                "PYREWRITE_MODE=trace",
                "LD_PRELOAD=/lib/libpyrewrite.so"
            ]
        );
    }

    #[test]
    fn kept_envp_takes_extra_entries_over_the_callers() {
        let s = session();
        let e = envp(&[
            c"A=1",
            c"_PYTHON_HOST_PLATFORM=linux-x86_64",
            c"LD_PRELOAD=/lib/libpyrewrite.so",
            c"PYREWRITE_EVENTS=/other",
            c"PYREWRITE_MODE=trace",
        ]);
        let extra = [c"_PYTHON_HOST_PLATFORM=emscripten_3_1_32_wasm32".as_ptr()];
        let mut b = EnvBuf::new();
        assert_eq!(
            read(unsafe { b.keep(e.as_ptr(), &s, &extra) }),
            [
                "A=1",
                "LD_PRELOAD=/lib/libpyrewrite.so",
                "PYREWRITE_EVENTS=/other",
                "PYREWRITE_MODE=trace",
                "_PYTHON_HOST_PLATFORM=emscripten_3_1_32_wasm32"
            ]
        );
    }

    #[test]
    fn strip_removes_only_this_library() {
        let s = session();
        let e = envp(&[c"LD_PRELOAD=libm.so.6:/lib/libpyrewrite.so libz.so", c"B=2"]);
        let mut b = EnvBuf::new();
        assert_eq!(
            read(unsafe { b.strip(e.as_ptr(), &s, &[]) }),
            ["B=2", "LD_PRELOAD=libm.so.6 libz.so"]
        );
        let e = envp(&[c"LD_PRELOAD=/lib/libpyrewrite.so", c"B=2"]);
        let mut b = EnvBuf::new();
        assert_eq!(read(unsafe { b.strip(e.as_ptr(), &s, &[]) }), ["B=2"]);
        let e = envp(&[c"B=2"]);
        let mut b = EnvBuf::new();
        assert_eq!(unsafe { b.strip(e.as_ptr(), &s, &[]) }, e.as_ptr());
    }

    #[test]
    fn strip_adds_extra_entries_replacing_the_callers() {
        let s = session();
        let extra = [
            c"NODE_PATH=/usr/share/nodejs:/mine".as_ptr(),
            c"EM_X=1".as_ptr(),
        ];
        let e = envp(&[
            c"NODE_PATH=/mine",
            c"LD_PRELOAD=/lib/libpyrewrite.so",
            c"B=2",
            c"NODE_PATH=/dup",
        ]);
        let mut b = EnvBuf::new();
        assert_eq!(
            read(unsafe { b.strip(e.as_ptr(), &s, &extra) }),
            ["B=2", "NODE_PATH=/usr/share/nodejs:/mine", "EM_X=1"]
        );
        // Nothing of ours to strip: the extras still make a new envp.
        let e = envp(&[c"B=2", c"NODE_PATHX=keep"]);
        let mut b = EnvBuf::new();
        assert_eq!(
            read(unsafe { b.strip(e.as_ptr(), &s, &extra) }),
            [
                "B=2",
                "NODE_PATHX=keep",
                "NODE_PATH=/usr/share/nodejs:/mine",
                "EM_X=1"
            ]
        );
    }

    #[test]
    fn lookup_finds_the_first_exact_name() {
        let e = envp(&[
            c"NODE_PATHX=no",
            c"NODE_PATH=/a",
            c"NODE_PATH=/b",
            c"EMPTY=",
        ]);
        assert_eq!(
            unsafe { lookup(e.as_ptr(), b"NODE_PATH") },
            Some(&b"/a"[..])
        );
        assert_eq!(unsafe { lookup(e.as_ptr(), b"EMPTY") }, Some(&b""[..]));
        assert_eq!(unsafe { lookup(e.as_ptr(), b"NODE") }, None);
        assert_eq!(unsafe { lookup(std::ptr::null(), b"NODE_PATH") }, None);
    }
}
