//! The session this process belongs to, captured from its environment once at
//! load, and the target profile, read only when a compiler call needs it.
//!
//! Captured state is plain pointers into the process environment (the initial
//! environment strings live as long as the process; strings set later with
//! `setenv` are never freed by glibc), written once and only read after: no
//! lock, no allocation.
//!
//! A hook can run before the constructor (another library's constructor
//! exec'ing, maybe from two threads at once): then it captures the session
//! itself. Every field is an atomic and a capture is a pure function of
//! `environ`, so two captures at once store the same values without a data
//! race; each caller that did not see `CAPTURED` stores its own capture
//! before it reads, so it never reads a half-stored session. No lock, no
//! waiting (a waiting signal handler could deadlock the thread it
//! interrupted). Before, a plain struct was written by whoever came first
//! and read by everyone: two early hooks on two threads raced.

use alloc::{format, string::String};
use core::ffi::CStr;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, AtomicUsize, Ordering};
use libc::c_char;
use pyrewrite_protocol::{env, preload};
use pyrewrite_rules::{profile, Target};

/// How many `PYREWRITE_*` entries we can restore (one per session variable).
const MAX_ENTRIES: usize = 8;

/// The session as one capture finds it (plain values, built on the stack).
#[derive(Clone, Copy)]
struct Captured {
    socket: Option<&'static CStr>,
    events: Option<&'static CStr>,
    target: Option<&'static CStr>,
    trace: bool,
    debug: bool,
    preload: Option<&'static [u8]>,
    entries: [Option<&'static CStr>; MAX_ENTRIES],
}

impl Captured {
    const EMPTY: Captured = Captured {
        socket: None,
        events: None,
        target: None,
        trace: false,
        debug: false,
        preload: None,
        entries: [None; MAX_ENTRIES],
    };
}

const TRACE: u8 = 1;
const DEBUG: u8 = 2;

/// The session of this process. Every field is an atomic, so that two
/// captures storing (the same values) at once, or a capture and a reader,
/// never race; reads are plain loads on x86-64 and aarch64.
pub struct Session {
    /// `PYREWRITE_SOCKET` value (NULL: none).
    socket: AtomicPtr<c_char>,
    /// `PYREWRITE_EVENTS` value.
    events: AtomicPtr<c_char>,
    /// `PYREWRITE_TARGET` value.
    target: AtomicPtr<c_char>,
    /// [`TRACE`] (`PYREWRITE_MODE=trace`), [`DEBUG`] (`PYREWRITE_DEBUG` set).
    flags: AtomicU8,
    /// Path of this library as it should appear in `LD_PRELOAD`.
    preload: AtomicPtr<u8>,
    preload_len: AtomicUsize,
    /// Whole `NAME=value` entries of the session variables, for restoring.
    entries: [AtomicPtr<c_char>; MAX_ENTRIES],
}

fn cstr(p: *mut c_char) -> Option<&'static CStr> {
    // SAFETY: only pointers to environment strings are stored (they live for ever).
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) })
}

fn ptr(c: Option<&'static CStr>) -> *mut c_char {
    c.map_or(core::ptr::null_mut(), |c| c.as_ptr().cast_mut())
}

impl Session {
    const fn new() -> Session {
        Session {
            socket: AtomicPtr::new(core::ptr::null_mut()),
            events: AtomicPtr::new(core::ptr::null_mut()),
            target: AtomicPtr::new(core::ptr::null_mut()),
            flags: AtomicU8::new(0),
            preload: AtomicPtr::new(core::ptr::null_mut()),
            preload_len: AtomicUsize::new(0),
            entries: [const { AtomicPtr::new(core::ptr::null_mut()) }; MAX_ENTRIES],
        }
    }

    fn store(&self, c: &Captured) {
        let r = Ordering::Relaxed;
        self.socket.store(ptr(c.socket), r);
        self.events.store(ptr(c.events), r);
        self.target.store(ptr(c.target), r);
        let flags = if c.trace { TRACE } else { 0 } | if c.debug { DEBUG } else { 0 };
        self.flags.store(flags, r);
        let (p, n) = c.preload.map_or((core::ptr::null_mut(), 0), |p| {
            (p.as_ptr().cast_mut(), p.len())
        });
        self.preload_len.store(n, r);
        self.preload.store(p, r);
        for (slot, e) in self.entries.iter().zip(c.entries) {
            slot.store(ptr(e), r);
        }
    }

    /// A session with `preload` and the given `NAME=value` entries (unit tests).
    #[cfg(test)]
    pub fn for_test(preload: &'static [u8], entries: &[&'static CStr]) -> Session {
        let mut c = Captured::EMPTY;
        c.preload = Some(preload);
        for (slot, e) in c.entries.iter_mut().zip(entries) {
            *slot = Some(e);
        }
        let s = Session::new();
        s.store(&c);
        s
    }

    /// `PYREWRITE_SOCKET` value.
    pub fn socket(&self) -> Option<&'static CStr> {
        cstr(self.socket.load(Ordering::Relaxed))
    }

    /// `PYREWRITE_EVENTS` value.
    pub fn events(&self) -> Option<&'static CStr> {
        cstr(self.events.load(Ordering::Relaxed))
    }

    /// `PYREWRITE_TARGET` value.
    pub fn target(&self) -> Option<&'static CStr> {
        cstr(self.target.load(Ordering::Relaxed))
    }

    /// `PYREWRITE_MODE=trace`: report only.
    pub fn trace(&self) -> bool {
        self.flags.load(Ordering::Relaxed) & TRACE != 0
    }

    /// `PYREWRITE_DEBUG` set: explain on stderr.
    pub fn debug(&self) -> bool {
        self.flags.load(Ordering::Relaxed) & DEBUG != 0
    }

    /// Path of this library as it should appear in `LD_PRELOAD`.
    pub fn preload(&self) -> Option<&'static [u8]> {
        let p = self.preload.load(Ordering::Relaxed);
        let n = self.preload_len.load(Ordering::Relaxed);
        // SAFETY: a pointer and length stored together from one environment
        // string or the loader's name of this library (both live for ever).
        (!p.is_null()).then(|| unsafe { core::slice::from_raw_parts(p.cast_const(), n) })
    }

    pub fn reporting(&self) -> bool {
        self.socket().is_some() || self.events().is_some()
    }

    /// Whether an `LD_PRELOAD` entry is a pyrewrite library: named
    /// `libpyrewrite.so` (this one, or a stale copy elsewhere) or exactly the
    /// path we restore (a renamed copy). The protocol's rule, shared with
    /// the driver.
    pub fn is_ours(&self, entry: &[u8]) -> bool {
        preload::is_pyrewrite_library(entry, self.preload())
    }

    /// Whether an `LD_PRELOAD` entry is exactly the library this session
    /// preloads.
    pub fn is_own(&self, entry: &[u8]) -> bool {
        self.preload() == Some(entry)
    }

    /// Session variable entries (`NAME=value`) to restore into a new envp.
    pub fn entries(&self) -> impl Iterator<Item = &'static CStr> + '_ {
        self.entries
            .iter()
            .filter_map(|e| cstr(e.load(Ordering::Relaxed)))
    }
}

static SESSION: Session = Session::new();
/// Set (Release) once a capture has been stored whole.
static CAPTURED: AtomicBool = AtomicBool::new(false);

/// The session of this process, captured on first use: by the constructor,
/// or by a hook that runs before it (see the module doc).
pub fn get() -> &'static Session {
    if !CAPTURED.load(Ordering::Acquire) {
        // Our own capture, stored before we read: what we read is whole
        // whatever another thread stores at the same time (the same values).
        SESSION.store(&capture());
        CAPTURED.store(true, Ordering::Release);
    }
    &SESSION
}

/// Reads the session variables and `LD_PRELOAD` from `environ`: one pass, no allocation.
fn capture() -> Captured {
    let mut s = Captured::EMPTY;
    let mut ld_preload: Option<&'static [u8]> = None;
    let mut n = 0;
    // SAFETY: environ is a NULL-terminated array of C strings.
    unsafe {
        let mut p = crate::sys::environ_now();
        while !p.is_null() && !(*p).is_null() {
            let entry = CStr::from_ptr(*p);
            p = p.add(1);
            let bytes = entry.to_bytes();
            if let Some(v) = bytes.strip_prefix(b"LD_PRELOAD=") {
                ld_preload = Some(v);
                continue;
            }
            if !bytes.starts_with(b"PYREWRITE_") {
                continue;
            }
            let mut parts = bytes.splitn(2, |&b| b == b'=');
            let (Some(name), Some(value)) = (parts.next(), parts.next()) else {
                continue;
            };
            if !env::SESSION_VARS.iter().any(|v| v.as_bytes() == name) {
                continue;
            }
            if let Some(slot) = s.entries.get_mut(n) {
                *slot = Some(entry);
                n += 1;
            }
            if value.is_empty() {
                continue;
            }
            let value_c = CStr::from_ptr(entry.as_ptr().add(name.len() + 1));
            match name {
                n if n == env::SOCKET.as_bytes() => s.socket = Some(value_c),
                n if n == env::EVENTS.as_bytes() => s.events = Some(value_c),
                n if n == env::TARGET.as_bytes() => s.target = Some(value_c),
                n if n == env::MODE.as_bytes() => s.trace = value == b"trace",
                n if n == env::DEBUG.as_bytes() => s.debug = true,
                n if n == env::PRELOAD.as_bytes() => s.preload = Some(value),
                _ => {}
            }
        }
    }
    if s.preload.is_none() {
        s.preload = ld_preload
            .and_then(|v| preload::entries(v).find(|e| preload::is_pyrewrite_library(e, None)))
            .or_else(own_path);
    }
    s
}

/// Path of this library from the dynamic loader (loaded by other means than LD_PRELOAD).
fn own_path() -> Option<&'static [u8]> {
    let mut info: libc::Dl_info = unsafe { core::mem::zeroed() };
    // SAFETY: any address inside this library will do.
    let ok = unsafe { libc::dladdr(capture as *const libc::c_void, &mut info) };
    if ok == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: the loader keeps the name for as long as the library is loaded (for ever).
    let name = unsafe { CStr::from_ptr(info.dli_fname) }.to_bytes();
    (name.first() == Some(&b'/')).then_some(name)
}

/// Why a compiler call cannot be rewritten: no usable profile. The message
/// (prefixed `pyrewrite: error: `) names the file and the next step.
pub struct TargetError(pub String);

/// The target profile, found by the one lookup order of
/// [`pyrewrite_rules::profile`]: `PYREWRITE_TARGET`, else the user's default
/// profile (`$XDG_CONFIG_HOME/pyrewrite/target.json`, else
/// `$HOME/.config/pyrewrite/target.json`); there is no built-in one.
/// Read on every compiler call (no cache: a cache would need a lock or leave
/// allocations behind in a vfork parent); a compile dwarfs the cost.
pub fn load_target(session: &Session) -> Result<Target, TargetError> {
    // SAFETY: getenv reads environ; getuid is a plain syscall.
    let (xdg_config, xdg_cache, home, fast_path, uid) = unsafe {
        (
            env_value(c"XDG_CONFIG_HOME"),
            env_value(c"XDG_CACHE_HOME"),
            env_value(c"HOME"),
            env_value(c"PYREWRITE_FAST_PATH"),
            libc::getuid(),
        )
    };
    let lookup = profile::Env {
        target: session.target().map(CStr::to_bytes),
        xdg_config_home: xdg_config,
        home,
        fast_path,
    };
    let fail = |e: profile::ProfileError| TargetError(format!("pyrewrite: error: {e}"));
    let location = profile::locate(None, "--target", &lookup).map_err(fail)?;
    let contents = crate::file::read(&location.path).map_err(|e| {
        if e.0 == libc::ENOENT {
            profile::ReadError::NotFound
        } else {
            profile::ReadError::Other(e.describe())
        }
    });
    let mut target = location.load(contents).map_err(fail)?;
    target.generated_dir = pyrewrite_rules::generated_dir(xdg_cache, home, uid);
    target.fast_cc = fast_cc(session.preload());
    Ok(target)
}

/// `pyrewrite-cc` next to this library (the fast path's runner), if it is
/// there and executable; empty otherwise (compiles then always run emcc).
fn fast_cc(library: Option<&[u8]>) -> String {
    let dir = library.and_then(|l| l.iter().rposition(|&b| b == b'/').and_then(|i| l.get(..i)));
    let Some(dir) = dir.filter(|d| !d.is_empty()) else {
        return String::new();
    };
    let path = format!("{}/pyrewrite-cc", String::from_utf8_lossy(dir));
    if crate::exec::is_exec(path.as_bytes()) {
        path
    } else {
        String::new()
    }
}

/// The value of an environment variable, if set.
///
/// # Safety
/// Reads `environ` (as getenv does).
pub unsafe fn env_value(name: &CStr) -> Option<&'static [u8]> {
    let p = unsafe { libc::getenv(name.as_ptr()) };
    // SAFETY: environment strings outlive the call.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_bytes())
}
