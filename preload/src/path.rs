//! Program look-up, done by us so that only an exec that will really happen
//! is reported (a failed PATH probe produces no event and costs one `stat`).
//!
//! Semantics follow glibc 2.36 `execvpe`: PATH from the caller's environment
//! (default `/bin:/usr/bin`), an empty entry means the current directory, a
//! name with a `/` is not searched.

use crate::small::SmallVec;
use core::ffi::CStr;
use libc::c_char;

/// The longest candidate tried: a directory plus a file name (PATH_MAX +
/// NAME_MAX + 2); longer ones would fail with ENAMETOOLONG.
pub const CANDIDATE_MAX: usize = 4096 + 256 + 2;

/// Stack room for a candidate; a longer one moves to a mapping (and, built
/// in a vfork child that then execs, stays mapped in the parent: rare).
/// Small for the signal-stack budget (docs/preload.md).
pub const CANDIDATE_STACK: usize = 192;

/// A candidate path, NUL-terminated.
pub type PathBuf = SmallVec<u8, CANDIDATE_STACK>;

/// Default search path of glibc when PATH is unset (`_CS_PATH`).
const DEFAULT_PATH: &[u8] = b"/bin:/usr/bin";

/// True if `path` names a regular file the effective user may execute:
/// what an exec would need to get past the look-up.
///
/// # Safety
/// `path` is a valid C string.
pub unsafe fn is_executable(path: *const c_char) -> bool {
    unsafe { is_executable_at(libc::AT_FDCWD, path, 0) }
}

/// As [`is_executable`], relative to `dirfd` with `AT_*` `flags` (for execveat).
///
/// # Safety
/// `path` is a valid C string.
pub unsafe fn is_executable_at(
    dirfd: libc::c_int,
    path: *const c_char,
    flags: libc::c_int,
) -> bool {
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    let flags = flags & (libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW);
    if unsafe { libc::fstatat(dirfd, path, &mut st, flags) } != 0 {
        return false;
    }
    if st.st_mode & libc::S_IFMT != libc::S_IFREG {
        return false;
    }
    let aflags = libc::AT_EACCESS | (flags & libc::AT_EMPTY_PATH);
    unsafe { libc::faccessat(dirfd, path, libc::X_OK, aflags) == 0 }
}

/// The PATH to search: the caller's, or glibc's default.
pub fn search_path() -> &'static [u8] {
    // SAFETY: getenv reads environ without locking or allocating.
    let p = unsafe { libc::getenv(c"PATH".as_ptr()) };
    if p.is_null() {
        DEFAULT_PATH
    } else {
        // SAFETY: environment strings are NUL-terminated and outlive the call.
        unsafe { CStr::from_ptr(p) }.to_bytes()
    }
}

/// One candidate file for each PATH entry, built in a caller-provided buffer.
pub struct Candidates<'a> {
    file: &'a [u8],
    rest: Option<&'a [u8]>,
}

impl<'a> Candidates<'a> {
    pub fn new(file: &'a [u8], path: &'a [u8]) -> Self {
        Candidates {
            file,
            rest: Some(path),
        }
    }

    /// Writes the next candidate, NUL-terminated, into `buf`; `None` when done.
    /// Candidates longer than [`CANDIDATE_MAX`] are skipped (exec would fail
    /// with ENAMETOOLONG).
    pub fn next_into<'b, const N: usize>(
        &mut self,
        buf: &'b mut SmallVec<u8, N>,
    ) -> Option<&'b CStr> {
        loop {
            let mut parts = self.rest?.splitn(2, |&b| b == b':');
            let dir = parts.next().unwrap_or(b"");
            self.rest = parts.next();
            let slash: &[u8] = if dir.is_empty() { b"" } else { b"/" };
            if dir.len() + slash.len() + self.file.len() + 1 > CANDIDATE_MAX {
                continue;
            }
            buf.clear();
            buf.extend_from_slice(dir);
            buf.extend_from_slice(slash);
            buf.extend_from_slice(self.file);
            buf.push(0);
            return CStr::from_bytes_with_nul(buf.as_slice()).ok();
        }
    }
}

/// The first executable `file` on `path`, written into `buf`.
pub fn find_executable<'b, const N: usize>(
    file: &[u8],
    path: &[u8],
    buf: &'b mut SmallVec<u8, N>,
) -> Option<&'b CStr> {
    let mut walk = Candidates::new(file, path);
    loop {
        let c = walk.next_into(&mut *buf)?;
        // SAFETY: `c` is NUL-terminated.
        if unsafe { is_executable(c.as_ptr()) } {
            break;
        }
    }
    CStr::from_bytes_with_nul(buf.as_slice()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(file: &[u8], path: &[u8]) -> Vec<Vec<u8>> {
        let mut c = Candidates::new(file, path);
        let mut buf: PathBuf = SmallVec::new();
        let mut out = Vec::new();
        while let Some(s) = c.next_into(&mut buf) {
            out.push(s.to_bytes().to_vec());
        }
        out
    }

    #[test]
    fn empty_entries_mean_current_directory() {
        assert_eq!(
            all(b"gcc", b"/a::/b:"),
            vec![
                b"/a/gcc".to_vec(),
                b"gcc".to_vec(),
                b"/b/gcc".to_vec(),
                b"gcc".to_vec()
            ]
        );
    }

    #[test]
    fn finds_sh_on_default_path() {
        let mut buf: PathBuf = SmallVec::new();
        let found = find_executable(b"sh", DEFAULT_PATH, &mut buf).unwrap();
        assert!(found.to_bytes().ends_with(b"/sh"));
        assert!(find_executable(b"no-such-program-xyz", DEFAULT_PATH, &mut buf).is_none());
    }

    #[test]
    fn entries_too_long_for_the_buffer_are_skipped() {
        let long = vec![b'd'; CANDIDATE_MAX - 4];
        let mut path = b"/x:/".to_vec();
        path.extend_from_slice(&long);
        path.extend_from_slice(b":/y");
        // "/" + long + "/gcc" + NUL does not fit; "/x/gcc" and "/y/gcc" do.
        assert_eq!(
            all(b"gcc", &path),
            vec![b"/x/gcc".to_vec(), b"/y/gcc".to_vec()]
        );
        // The longest that fits: dir + "/" + file + NUL == CANDIDATE_MAX.
        let dir = vec![b'd'; CANDIDATE_MAX - 5];
        assert_eq!(all(b"gcc", &dir).len(), 1);
        let dir = vec![b'd'; CANDIDATE_MAX - 4];
        assert!(all(b"gcc", &dir).is_empty());
    }
}
