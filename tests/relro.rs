//! RELRO of what we build, read from the ELF files themselves: the driver
//! (it opens untrusted wheels) and the test binaries have full RELRO (a
//! `PT_GNU_RELRO` segment and every symbol bound at load, `BIND_NOW`), the
//! preload library partial RELRO only (`PT_GNU_RELRO`, lazy binding: no
//! `BIND_NOW`), as `.cargo/config.toml` and `preload/.cargo/config.toml` set.

mod common;

use common::*;
use std::path::Path;

const PT_DYNAMIC: u32 = 2;
const PT_GNU_RELRO: u32 = 0x6474_e552;
const DT_NULL: u64 = 0;
const DT_BIND_NOW: u64 = 24;
const DT_FLAGS: u64 = 30;
const DF_BIND_NOW: u64 = 0x8;
const DT_FLAGS_1: u64 = 0x6fff_fffb;
const DF_1_NOW: u64 = 0x1;

/// What an ELF file says about its relocation read-only-ness.
#[derive(Debug, PartialEq)]
struct Relro {
    gnu_relro: bool,
    /// `DT_BIND_NOW`, `DT_FLAGS` `BIND_NOW` or `DT_FLAGS_1` `NOW`.
    bind_now: bool,
}

fn relro(path: &Path) -> Relro {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        b.starts_with(b"\x7fELF\x02\x01"),
        "{}: not a little-endian ELF64 file",
        path.display()
    );
    let u16_at = |o: usize| u16::from_le_bytes(b[o..o + 2].try_into().unwrap()) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    let (phoff, phentsize, phnum) = (u64_at(0x20) as usize, u16_at(0x36), u16_at(0x38));
    let mut r = Relro {
        gnu_relro: false,
        bind_now: false,
    };
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        match u32_at(ph) {
            PT_GNU_RELRO => r.gnu_relro = true,
            PT_DYNAMIC => {
                let (off, size) = (u64_at(ph + 8) as usize, u64_at(ph + 32) as usize);
                for d in (off..off + size).step_by(16) {
                    let (tag, val) = (u64_at(d), u64_at(d + 8));
                    match tag {
                        DT_NULL => break,
                        DT_BIND_NOW => r.bind_now = true,
                        DT_FLAGS if val & DF_BIND_NOW != 0 => r.bind_now = true,
                        DT_FLAGS_1 if val & DF_1_NOW != 0 => r.bind_now = true,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    r
}

const FULL: Relro = Relro {
    gnu_relro: true,
    bind_now: true,
};

#[test]
fn the_driver_has_full_relro() {
    assert_eq!(relro(&driver_bin()), FULL, "{}", driver_bin().display());
}

#[test]
fn test_binaries_have_full_relro() {
    let me = std::env::current_exe().unwrap();
    assert_eq!(relro(&me), FULL, "{}", me.display());
}

#[test]
fn the_preload_library_has_partial_relro_and_binds_lazily() {
    assert_eq!(
        relro(&preload_lib()),
        Relro {
            gnu_relro: true,
            bind_now: false,
        },
        "{}",
        preload_lib().display()
    );
}
