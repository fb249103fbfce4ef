//! Compiles the C shim that collects the variadic arguments of `execl`,
//! `execlp` and `execle` (stable Rust cannot define C-variadic functions).
//! `+whole-archive` keeps the shim's objects in the cdylib even though only
//! naked trampolines in src/variadic.rs refer to them.
fn main() {
    require_partial_relro();
    println!("cargo:rerun-if-changed=src/shim.c");
    cc::Build::new()
        .file("src/shim.c")
        .flag_if_supported("-fvisibility=hidden")
        .link_lib_modifier("+whole-archive")
        .compile("pyrewrite_shim");
    // Stand-ins for the unwinder symbols core/alloc refer to (src/no_unwind.c):
    // for the cdylib only; the unit tests link std's real ones.
    println!("cargo:rerun-if-changed=src/no_unwind.c");
    cc::Build::new()
        .file("src/no_unwind.c")
        .flag_if_supported("-fvisibility=hidden")
        .cargo_metadata(false)
        .compile("pyrewrite_no_unwind");
    let out = std::env::var("OUT_DIR").unwrap_or_default();
    println!("cargo:rustc-cdylib-link-arg={out}/libpyrewrite_no_unwind.a");
    // rustc links with `-z now` (full RELRO): every PLT symbol would be bound
    // when the library loads, in every process, although most processes call
    // none of them. Lazy binding, as a C preload gets, binds on first call.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,lazy");
}

/// The lazy binding above needs rustc to call libc through the PLT, which it
/// does only with `-C relro-level=partial` (preload/.cargo/config.toml).
/// Cargo reads that file only when run from preload/; from anywhere else the
/// library would silently bind eagerly, so the build stops here instead.
fn require_partial_relro() {
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let mut flags = flags.split('\x1f');
    let mut partial = false;
    while let Some(f) = flags.next() {
        let value = match f {
            "-C" => flags.next().unwrap_or_default(),
            _ => f.strip_prefix("-C").unwrap_or_default(),
        };
        partial |= value == "relro-level=partial";
    }
    if !partial {
        panic!(
            "libpyrewrite.so must be built with `-C relro-level=partial` (lazy binding), \
             which preload/.cargo/config.toml sets only when cargo runs from preload/: \
             use `cd preload && cargo build` (or test, clippy), or scripts/build.sh; \
             a RUSTFLAGS of your own must include `-C relro-level=partial`"
        );
    }
}
