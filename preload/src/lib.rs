//! `libpyrewrite.so`: preloaded into every process of a build, it sees every
//! exec, rewrites compiler calls in flight to Emscripten (per
//! `pyrewrite-rules`) and reports each exec as one JSON line.
//!
//! | module | role |
//! |---|---|
//! | `hooks` | the interposed libc entry points |
//! | `variadic` + `shim.c` | `execl`, `execlp`, `execle` |
//! | `exec` | classify, decide, report, run one exec |
//! | `path` | PATH search and executability (no event for failed probes) |
//! | `envp` | environment survival and the recursion guard |
//! | `report` | the event line |
//! | `transport` | its delivery: the driver's socket (bounded wait, losses counted) or the events file |
//! | `session` | session variables captured at load; target profile |
//! | `real` | the real libc functions (`dlsym(RTLD_NEXT)`) |
//! | `small` | stack-first buffers that spill to `mmap`, never to the heap |
//! | `sys` | the leaf: C types, `errno`, decimal integers, `write_all`, holding off cancellation |
//! | `file` | whole-file read and write through libc |
//! | `rt` | what std would provide: allocator, panic handler |
//!
//! Why `no_std`: this library is loaded into every process of a build, most
//! of which never exec a compiler. Linking Rust's std made each of them pay
//! for it at load time (its relocations, symbol bindings and versions: about
//! 40k more loader instructions per process than the same hooks without std,
//! BENCHMARKS.md). Without std there is no unwinding either, so the code is
//! written not to panic (the lints below deny indexing, `unwrap` and friends),
//! and a panic that still happens aborts with a message instead of unwinding
//! into C.
//!
//! See docs/preload.md for the behaviours and the tests that prove them.

#![cfg_attr(not(test), no_std)]
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::todo,
    clippy::unimplemented,
    clippy::unreachable
)]
#![cfg_attr(
    test,
    allow(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

extern crate alloc;

mod envp;
mod exec;
mod file;
mod hooks;
mod path;
mod real;
mod report;
#[cfg(not(test))]
mod rt;
mod session;
mod small;
mod sys;
mod transport;
mod variadic;

/// Load-time work, kept to four `dlsym` and one pass over `environ`.
extern "C" fn on_load() {
    real::resolve_at_load();
    session::get();
}

#[used]
#[unsafe(link_section = ".init_array")]
static ON_LOAD: extern "C" fn() = on_load;
