//! Exported `execl`, `execlp`, `execle`: naked trampolines into the C shim.
//!
//! The shim (src/shim.c) does the variadic work; these exist because a rustc
//! cdylib exports only Rust `#[no_mangle]` items, so C symbols linked into it
//! stay local. A jump leaves every argument register (and `%al`) untouched.

unsafe extern "C" {
    fn pyrewrite_shim_execl();
    fn pyrewrite_shim_execlp();
    fn pyrewrite_shim_execle();
}

macro_rules! trampoline {
    ($name:ident, $target:ident) => {
        #[unsafe(naked)]
        #[no_mangle]
        pub unsafe extern "C" fn $name() {
            #[cfg(target_arch = "x86_64")]
            core::arch::naked_asm!("jmp {}", sym $target);
            #[cfg(target_arch = "aarch64")]
            core::arch::naked_asm!("b {}", sym $target);
        }
    };
}

trampoline!(execl, pyrewrite_shim_execl);
trampoline!(execlp, pyrewrite_shim_execlp);
trampoline!(execle, pyrewrite_shim_execle);
