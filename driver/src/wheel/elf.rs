//! Just enough ELF reading to say what a native binary is: its machine, the
//! compiler that left its name in `.comment`, and whether it is statically
//! linked (no `PT_INTERP`: the dynamic loader never runs, so `LD_PRELOAD`
//! has no effect on it). Used to explain a native extension found in a wheel
//! and the programs of a build the hooks cannot follow.
//!
//! Little-endian ELF32 and ELF64 only (every Linux target a build host runs);
//! anything else is `None`. Every offset is bounds-checked: the input is
//! whatever a wheel or a build put there.

/// `PT_INTERP`: the program header naming the dynamic loader.
const PT_INTERP: u32 = 3;

/// What the headers say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfInfo {
    /// `x86_64`, `aarch64`, ... or `machine N`.
    pub machine: String,
    /// The first entry of `.comment` (`GCC: (Debian 12.2.0-14) 12.2.0`).
    pub compiler: Option<String>,
    /// Has a `PT_INTERP` program header (false for static executables and
    /// for most shared objects, which do not name a loader).
    pub has_interpreter: bool,
}

struct Reader<'a> {
    bytes: &'a [u8],
    wide: bool,
}

impl Reader<'_> {
    fn u16(&self, at: usize) -> Option<u16> {
        let b = self.bytes.get(at..at.checked_add(2)?)?;
        Some(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&self, at: usize) -> Option<u32> {
        let b = self.bytes.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&self, at: usize) -> Option<u64> {
        let b = self.bytes.get(at..at.checked_add(8)?)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Some(u64::from_le_bytes(a))
    }
    /// An address-sized field: 8 bytes in ELF64, 4 in ELF32.
    fn word(&self, at: usize) -> Option<usize> {
        if self.wide {
            usize::try_from(self.u64(at)?).ok()
        } else {
            Some(self.u32(at)? as usize)
        }
    }
}

/// Reads the ELF header, program headers and `.comment` of `bytes`.
pub fn inspect(bytes: &[u8]) -> Option<ElfInfo> {
    if !bytes.starts_with(b"\x7fELF") || bytes.get(5) != Some(&1) {
        return None;
    }
    let wide = match bytes.get(4)? {
        1 => false,
        2 => true,
        _ => return None,
    };
    let r = Reader { bytes, wide };
    let machine = machine_name(r.u16(0x12)?);
    // e_phoff, e_shoff, then e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx.
    let (phoff, shoff, rest) = if wide {
        (r.word(0x20)?, r.word(0x28)?, 0x36)
    } else {
        (r.word(0x1C)?, r.word(0x20)?, 0x2A)
    };
    let phentsize = r.u16(rest)? as usize;
    let phnum = r.u16(rest + 2)? as usize;
    let shentsize = r.u16(rest + 4)? as usize;
    let shnum = r.u16(rest + 6)? as usize;
    let shstrndx = r.u16(rest + 8)? as usize;

    let p_type = |i: usize| r.u32(phoff.checked_add(i.checked_mul(phentsize)?)?);
    let has_interpreter = (0..phnum).any(|i| p_type(i) == Some(PT_INTERP));
    Some(ElfInfo {
        machine,
        compiler: comment(&r, shoff, shentsize, shnum, shstrndx),
        has_interpreter,
    })
}

/// The first NUL-terminated string of the `.comment` section.
fn comment(
    r: &Reader,
    shoff: usize,
    shentsize: usize,
    shnum: usize,
    shstrndx: usize,
) -> Option<String> {
    // (sh_name, sh_offset, sh_size) of section `i`.
    let section = |i: usize| -> Option<(usize, usize, usize)> {
        let at = shoff.checked_add(i.checked_mul(shentsize)?)?;
        let name = r.u32(at)? as usize;
        let (offset, size) = if r.wide {
            (r.word(at + 0x18)?, r.word(at + 0x20)?)
        } else {
            (r.word(at + 0x10)?, r.word(at + 0x14)?)
        };
        Some((name, offset, size))
    };
    let data = |offset: usize, size: usize| r.bytes.get(offset..offset.checked_add(size)?);
    let (_, str_off, str_size) = section(shstrndx)?;
    let names = data(str_off, str_size)?;
    (0..shnum.min(4096)).find_map(|i| {
        let (name, offset, size) = section(i)?;
        let n = names.get(name..)?;
        let end = n.iter().position(|&b| b == 0)?;
        if &n[..end] != b".comment" {
            return None;
        }
        let text = data(offset, size)?;
        let first = text.split(|&b| b == 0).find(|s| !s.is_empty())?;
        Some(String::from_utf8_lossy(first).trim().to_string())
    })
}

fn machine_name(m: u16) -> String {
    match m {
        3 => "i386".into(),
        8 => "mips".into(),
        20 => "ppc".into(),
        21 => "ppc64".into(),
        22 => "s390".into(),
        40 => "arm".into(),
        62 => "x86_64".into(),
        183 => "aarch64".into(),
        243 => "riscv".into(),
        other => format!("machine {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// Compiles `main` with gcc and `flags` in a scratch dir; the output's bytes.
    fn gcc(flags: &[&str], source: &str) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("m.c"), source).unwrap();
        let out = Command::new("gcc")
            .args(flags)
            .args(["m.c", "-o", "m.out"])
            .current_dir(dir.path())
            .env_remove("LD_PRELOAD")
            .output()
            .expect("gcc");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read(dir.path().join("m.out")).unwrap()
    }

    #[test]
    fn a_gcc_shared_object_names_its_machine_and_compiler() {
        let info = inspect(&super::super::fixtures::elf_shared_object()).unwrap();
        assert_eq!(info.machine, "x86_64");
        let compiler = info.compiler.unwrap();
        assert!(compiler.starts_with("GCC: "), "{compiler}");
        assert!(!info.has_interpreter);
    }

    #[test]
    fn static_and_dynamic_executables_are_told_apart() {
        let main = "int main(void) { return 0; }\n";
        assert!(inspect(&gcc(&[], main)).unwrap().has_interpreter);
        assert!(!inspect(&gcc(&["-static"], main)).unwrap().has_interpreter);
    }

    #[test]
    fn truncated_or_foreign_bytes_are_not_elf() {
        let so = super::super::fixtures::elf_shared_object();
        assert_eq!(inspect(b"\0asm\x01\0\0\0"), None);
        assert_eq!(inspect(&so[..3]), None);
        // Headers cut off: still no panic, at most no details.
        for cut in [16, 40, 64, 200] {
            let _ = inspect(&so[..cut]);
        }
        let mut big_endian = so.clone();
        big_endian[5] = 2;
        assert_eq!(inspect(&big_endian), None);
    }
}
