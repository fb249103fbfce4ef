//! Whole files through libc (there is no `std::fs` here): the target profile,
//! response files the rules read, and rewritten response files.
//! Only compiler calls come here, never the plain exec path.

use alloc::{string::String, vec::Vec};
use libc::c_int;

use crate::small::SmallVec;
use crate::sys::{errno, write_all};

/// An OS error number, shown as std shows an `io::Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OsError(pub c_int);

impl OsError {
    /// "No such file or directory (os error 2)".
    pub fn describe(self) -> String {
        let mut buf = [0u8; 128];
        // SAFETY: buffer and length match; XSI strerror_r NUL-terminates on success.
        let ok = unsafe { libc::strerror_r(self.0, buf.as_mut_ptr().cast(), buf.len()) } == 0;
        let text = if ok {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            buf.get(..end).unwrap_or(&[])
        } else {
            b"unknown error".as_slice()
        };
        let mut out: SmallVec<u8, 160> = SmallVec::new();
        out.extend_from_slice(text);
        out.extend_from_slice(b" (os error ");
        out.push_int(i64::from(self.0));
        out.push(b')');
        String::from_utf8_lossy(out.as_slice()).into_owned()
    }
}

/// `path` as a C string (`None` if it holds a NUL: no file has that name).
fn c_path(path: &[u8]) -> Result<Vec<u8>, OsError> {
    if path.contains(&0) {
        return Err(OsError(libc::EINVAL));
    }
    let mut c = Vec::with_capacity(path.len() + 1);
    c.extend_from_slice(path);
    c.push(0);
    Ok(c)
}

/// The whole contents of `path`.
pub fn read(path: &[u8]) -> Result<Vec<u8>, OsError> {
    let c = c_path(path)?;
    // SAFETY: NUL-terminated path; the fd is closed on every path below.
    let fd = unsafe { libc::open(c.as_ptr().cast(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(OsError(errno()));
    }
    let mut out = Vec::new();
    let mut chunk = [0u8; 8192];
    let result = loop {
        // SAFETY: valid buffer of the given length.
        let n = unsafe { libc::read(fd, chunk.as_mut_ptr().cast(), chunk.len()) };
        if n < 0 {
            if errno() == libc::EINTR {
                continue;
            }
            break Err(OsError(errno()));
        }
        if n == 0 {
            break Ok(());
        }
        out.extend_from_slice(chunk.get(..n as usize).unwrap_or(&[]));
    };
    // SAFETY: our own fd.
    unsafe { libc::close(fd) };
    result.map(|()| out)
}

/// Writes `contents` to `path` whole or not at all: a temporary file next to
/// it (`PATH.pyrewrite-tmp-PID`), then `rename`.
pub fn write_atomic(path: &[u8], contents: &[u8]) -> Result<(), OsError> {
    let dest = c_path(path)?;
    let mut tmp_name: SmallVec<u8, 64> = SmallVec::new();
    tmp_name.extend_from_slice(path);
    tmp_name.extend_from_slice(b".pyrewrite-tmp-");
    // SAFETY: plain syscall.
    tmp_name.push_int(i64::from(unsafe { libc::getpid() }));
    let tmp = c_path(tmp_name.as_slice())?;
    // SAFETY: NUL-terminated paths; the fd is closed on every path below.
    unsafe {
        let fd = libc::open(
            tmp.as_ptr().cast(),
            libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC,
            0o666 as libc::c_uint,
        );
        if fd < 0 {
            return Err(OsError(errno()));
        }
        let written = write_all(fd, contents).map_err(OsError);
        libc::close(fd);
        let result = written.and_then(|()| {
            if libc::rename(tmp.as_ptr().cast(), dest.as_ptr().cast()) == 0 {
                Ok(())
            } else {
                Err(OsError(errno()))
            }
        });
        if result.is_err() {
            libc::unlink(tmp.as_ptr().cast());
        }
        result
    }
}

/// Writes a generated build-system file (meson cross file, CMake toolchain)
/// under the profile's generated dir: its missing directories are made
/// private (0700), and the directory holding the file must belong to this
/// user and be writable by nobody else, so no other user can have planted or
/// swap the file a configure step will read (the `/tmp` fallback).
pub fn write_private(path: &[u8], contents: &[u8]) -> Result<(), OsError> {
    let parent = match path.iter().rposition(|&b| b == b'/') {
        Some(0) | None => return Err(OsError(libc::EINVAL)),
        Some(at) => path.get(..at).unwrap_or(b"/"),
    };
    make_dirs(parent)?;
    let c = c_path(parent)?;
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: NUL-terminated path, zeroed out-struct.
    if unsafe { libc::lstat(c.as_ptr().cast(), &mut st) } != 0 {
        return Err(OsError(errno()));
    }
    // SAFETY: plain syscall.
    let me = unsafe { libc::geteuid() };
    if st.st_mode & libc::S_IFMT != libc::S_IFDIR || st.st_uid != me || st.st_mode & 0o022 != 0 {
        return Err(OsError(libc::EPERM));
    }
    write_atomic(path, contents)
}

/// `mkdir -p` (missing directories made with mode 0700).
fn make_dirs(parent: &[u8]) -> Result<(), OsError> {
    for (i, &b) in parent.iter().enumerate().skip(1) {
        if b == b'/' {
            mkdir(parent.get(..i).unwrap_or(parent))?;
        }
    }
    mkdir(parent)
}

fn mkdir(path: &[u8]) -> Result<(), OsError> {
    let c = c_path(path)?;
    // SAFETY: NUL-terminated path.
    if unsafe { libc::mkdir(c.as_ptr().cast(), 0o700) } == 0 || errno() == libc::EEXIST {
        Ok(())
    } else {
        Err(OsError(errno()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_then_reads_back() {
        let dir = std::env::temp_dir().join(format!("pyrewrite-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("resp.rsp");
        let path = p.to_str().unwrap().as_bytes();
        write_atomic(path, b"-c x.c\n").unwrap();
        assert_eq!(read(path).unwrap(), b"-c x.c\n");
        write_atomic(path, b"-O2").unwrap();
        assert_eq!(read(path).unwrap(), b"-O2");
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file left: {left:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn errors_read_as_std_shows_them() {
        let e = read(b"/nonexistent/pyrewrite").unwrap_err();
        assert_eq!(e, OsError(libc::ENOENT));
        assert_eq!(e.describe(), "No such file or directory (os error 2)");
        assert_eq!(read(b"a\0b").unwrap_err(), OsError(libc::EINVAL));
        let e = write_atomic(b"/nonexistent/dir/x", b"").unwrap_err();
        assert_eq!(e, OsError(libc::ENOENT));
    }
}
