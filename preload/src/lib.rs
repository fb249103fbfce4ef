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
//! | `report` | the event line and its transport |
//! | `session` | session variables captured at load; target profile |
//! | `real` | the real libc functions, resolved at load |
//! | `small` | stack-first buffers (nothing left behind in a vfork parent) |
//!
//! See docs/preload.md for the behaviours and the tests that prove them.

mod envp;
mod exec;
mod hooks;
mod path;
mod real;
mod report;
mod session;
mod small;
mod variadic;

/// Load-time work, kept to a dozen `dlsym` and one pass over `environ`.
extern "C" fn on_load() {
    let _ = std::panic::catch_unwind(|| {
        // A zero-sized hook: no allocation. Panics stay silent (rule: silent
        // unless PYREWRITE_DEBUG); hooks then run the real call unchanged.
        std::panic::set_hook(Box::new(|_| {}));
        real::resolve_all();
        session::capture();
    });
}

#[used]
#[unsafe(link_section = ".init_array")]
static ON_LOAD: extern "C" fn() = on_load;
