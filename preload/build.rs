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
}
