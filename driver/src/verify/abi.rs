//! The ABI facts verify relies on, kept in this one place: which Emscripten
//! versions changed what, which libc imports depend on each fact, and which
//! C libraries a missing symbol most likely belongs to.
//!
//! Sources: emscripten PR #17401 "Use 64 bits for time_t" (merged 2022-07-08,
//! released in 3.1.16; rust-lang/libc#3569 records the same boundary: 32-bit up
//! to 3.1.15, 64-bit from 3.1.16). Pyodide's `repodata.json` names its
//! Emscripten (`info.platform`, e.g. `emscripten_3_1_32` for 0.23.4).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// An Emscripten version `major.minor.patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct EmVersion(pub u32, pub u32, pub u32);

impl fmt::Display for EmVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

impl FromStr for EmVersion {
    type Err = String;
    /// Accepts `3.1.32`, `3_1_32` and `emscripten_3_1_32[_wasm32]`.
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim().trim_start_matches("emscripten_");
        let t = t.trim_end_matches("_wasm32");
        let parts: Vec<&str> = t.split(['.', '_']).collect();
        let num = |i: usize| parts.get(i).and_then(|p| p.parse::<u32>().ok());
        match (parts.len(), num(0), num(1), num(2)) {
            (3, Some(a), Some(b), Some(c)) => Ok(EmVersion(a, b, c)),
            _ => Err(format!(
                "`{s}` is not an Emscripten version (expected e.g. 3.1.32)"
            )),
        }
    }
}

/// The version `EMCC --version` prints on its first line, if it runs.
pub fn emcc_version(emcc: &str) -> Option<EmVersion> {
    let out = std::process::Command::new(emcc)
        .arg("--version")
        .output()
        .ok()?;
    parse_emcc_version(&String::from_utf8_lossy(&out.stdout))
}

/// The version on the first line of `emcc --version`'s output
/// (`emcc (Emscripten gcc/clang-like replacement + linker emulating GNU ld) 3.1.6`).
pub fn parse_emcc_version(text: &str) -> Option<EmVersion> {
    text.lines()
        .next()?
        .split_whitespace()
        .find_map(|w| w.parse::<EmVersion>().ok())
}

/// First Emscripten version whose `time_t` is 64-bit (PR #17401).
pub const TIME_T_64_SINCE: EmVersion = EmVersion(3, 1, 16);

/// Width of `time_t` in bits for an Emscripten version.
pub fn time_t_bits(v: EmVersion) -> u32 {
    match v.cmp(&TIME_T_64_SINCE) {
        Ordering::Less => 32,
        _ => 64,
    }
}

/// libc functions that pass or return `time_t` BY VALUE: their wasm signature
/// changes with the width (i32 vs i64), so a mismatch is a LinkError at load.
pub const TIME_T_BY_VALUE: &[&str] =
    &["time", "mktime", "timegm", "difftime", "stime", "timelocal"];

/// libc functions that take a struct holding a `time_t` (or `struct timespec`/
/// `timeval`/`tm`-with-time_t) through a pointer: the signature does not change,
/// the layout does, so the module loads and then reads garbage.
pub const TIME_T_LAYOUT: &[&str] = &[
    // struct stat (st_atim/st_mtim/st_ctim are timespecs)
    "stat",
    "fstat",
    "lstat",
    "fstatat",
    "stat64",
    "fstat64",
    "lstat64",
    "fstatat64",
    // struct timespec
    "clock_gettime",
    "clock_settime",
    "clock_getres",
    "clock_nanosleep",
    "nanosleep",
    "timespec_get",
    "utimensat",
    "futimens",
    "ppoll",
    "pselect",
    "sigtimedwait",
    "sem_timedwait",
    "pthread_cond_timedwait",
    "pthread_mutex_timedlock",
    "pthread_rwlock_timedrdlock",
    "pthread_rwlock_timedwrlock",
    "sched_rr_get_interval",
    "timer_settime",
    "timer_gettime",
    "mtx_timedlock",
    "cnd_timedwait",
    "thrd_sleep",
    // struct timeval
    "gettimeofday",
    "settimeofday",
    "select",
    "utimes",
    "futimes",
    "lutimes",
    "futimesat",
    "adjtime",
    "getitimer",
    "setitimer",
    "getrusage",
    "wait3",
    "wait4",
    // const time_t * / struct utimbuf / struct timeb
    "gmtime",
    "localtime",
    "gmtime_r",
    "localtime_r",
    "ctime",
    "ctime_r",
    "utime",
    "ftime",
];

/// Emscripten used by Pyodide releases that predate `repodata.json`'s
/// `info.platform`; only consulted when the distribution does not say.
pub fn pyodide_emscripten(pyodide_version: &str) -> Option<EmVersion> {
    let minor = pyodide_version
        .split('.')
        .take(2)
        .collect::<Vec<_>>()
        .join(".");
    Some(match minor.as_str() {
        "0.21" => EmVersion(3, 1, 14),
        "0.22" => EmVersion(3, 1, 27),
        "0.23" => EmVersion(3, 1, 32),
        "0.24" => EmVersion(3, 1, 45),
        "0.25" => EmVersion(3, 1, 46),
        "0.26" => EmVersion(3, 1, 58),
        "0.27" => EmVersion(3, 1, 58),
        _ => return None,
    })
}

/// libc++ symbols the runtime lacks come from a libc++ of another version: each
/// Emscripten release ships its own (3.1.6's `__vector_base_common` is gone in
/// the libc++ of Pyodide 0.23.4's 3.1.32).
pub const LIBCXX: &str = "libc++ (a different version than the runtime's)";

/// A C library a symbol most likely comes from, by name pattern: used to turn
/// "missing symbol" into "missing library" with a next step.
pub fn library_of(symbol: &str) -> Option<&'static str> {
    const PREFIXES: &[(&str, &str)] = &[
        ("deflate", "zlib"),
        ("inflate", "zlib"),
        ("compress", "zlib"),
        ("uncompress", "zlib"),
        ("crc32", "zlib"),
        ("adler32", "zlib"),
        ("zlibVersion", "zlib"),
        ("gz", "zlib"),
        ("ffi_", "libffi"),
        ("BZ2_", "bzip2"),
        ("lzma_", "liblzma (xz)"),
        ("ZSTD_", "zstd"),
        ("LZ4", "lz4"),
        ("SSL_", "OpenSSL (libssl)"),
        ("EVP_", "OpenSSL (libcrypto)"),
        ("BIO_", "OpenSSL (libcrypto)"),
        ("X509", "OpenSSL (libcrypto)"),
        ("CRYPTO_", "OpenSSL (libcrypto)"),
        ("OPENSSL_", "OpenSSL (libcrypto)"),
        ("png_", "libpng"),
        ("jpeg_", "libjpeg"),
        ("TIFF", "libtiff"),
        ("FT_", "FreeType"),
        ("sqlite3_", "SQLite"),
        ("xml", "libxml2"),
        ("xslt", "libxslt"),
        ("XML_", "expat"),
        ("yaml_", "libyaml"),
        ("cblas_", "a BLAS library (OpenBLAS)"),
        ("LAPACKE_", "LAPACK (OpenBLAS)"),
        ("__gmp", "GMP"),
        ("mpfr_", "MPFR"),
        ("uuid_", "libuuid"),
        ("curl_", "libcurl"),
        ("hb_", "HarfBuzz"),
        ("_ZNSt3__2", LIBCXX),
        ("_ZNKSt3__2", LIBCXX),
    ];
    PREFIXES
        .iter()
        .find(|(p, _)| symbol.starts_with(p))
        .map(|(_, lib)| *lib)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_t_boundary_is_3_1_16() {
        assert_eq!(time_t_bits("3.1.6".parse().unwrap()), 32);
        assert_eq!(time_t_bits("3.1.15".parse().unwrap()), 32);
        assert_eq!(time_t_bits("3.1.16".parse().unwrap()), 64);
        assert_eq!(time_t_bits("emscripten_3_1_32".parse().unwrap()), 64);
        assert!("3.1".parse::<EmVersion>().is_err());
    }

    #[test]
    fn libraries_by_prefix() {
        assert_eq!(library_of("deflateInit2_"), Some("zlib"));
        assert_eq!(library_of("ffi_prep_cif"), Some("libffi"));
        assert_eq!(library_of("strlen"), None);
        // Measured: referenced by emcc 3.1.6's vector<string> growth, absent from
        // Pyodide 0.23.4's libc++.
        assert_eq!(
            library_of("_ZNKSt3__220__vector_base_commonILb1EE20__throw_length_errorEv"),
            Some(LIBCXX)
        );
    }
}
