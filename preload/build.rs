//! Compiles the C shim that collects the variadic arguments of `execl`,
//! `execlp` and `execle` (stable Rust cannot define C-variadic functions).
//! `+whole-archive` keeps the shim's objects in the cdylib even though only
//! naked trampolines in src/variadic.rs refer to them.
fn main() {
    println!("cargo:rerun-if-changed=src/shim.c");
    cc::Build::new()
        .file("src/shim.c")
        .flag_if_supported("-fvisibility=hidden")
        .link_lib_modifier("+whole-archive")
        .compile("pyrewrite_shim");
    link_unwinder_statically();
    // rustc links with `-z now` (full RELRO): every PLT symbol would be bound
    // when the library loads, in every process, although most processes call
    // none of them. Lazy binding, as a C preload gets, binds on first call.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,lazy");
    // ~1 500 relative relocations (vtables, static strings of std) packed as
    // DT_RELR (glibc >= 2.36, binutils >= 2.38): the loader reads a few
    // hundred bytes instead of ~36 KiB of RELA entries in every process.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,pack-relative-relocs");
}

/// Links libgcc's unwinder (`libgcc_eh.a`) into the library so that, with the
/// linker's `--as-needed`, `libgcc_s.so.1` is no longer a dependency: one
/// library less to find, map and relocate in every process of a build.
/// `catch_unwind` keeps working (the unwinder is inside). If the archive is
/// not found, the normal dynamic libgcc_s is used.
fn link_unwinder_statically() {
    let target = std::env::var("TARGET").unwrap_or_default();
    if !target.ends_with("linux-gnu") {
        return;
    }
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let Ok(out) = std::process::Command::new(cc)
        .arg("-print-file-name=libgcc_eh.a")
        .output()
    else {
        return;
    };
    let path = std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if !path.is_absolute() || !path.is_file() {
        return;
    }
    if let Some(dir) = path.parent() {
        println!("cargo:rustc-link-search=native={}", dir.display());
        println!("cargo:rustc-link-lib=static:+whole-archive,-bundle=gcc_eh");
    }
}
