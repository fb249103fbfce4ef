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
