/*
 * The two unwinding symbols Rust's precompiled `core` and `alloc` still refer
 * to (their cleanup paths were compiled for panic=unwind). libpyrewrite.so is
 * built with panic=abort and links no unwinder, so nothing in it ever starts
 * unwinding; without definitions the library would not load at all.
 *
 * Linked into the cdylib only (build.rs, `rustc-cdylib-link-arg`), never into
 * the unit-test binary, whose std brings the real ones. rustc's version script
 * keeps these symbols local: they never interpose the process's own unwinder.
 */
#include <stdlib.h>

/* The only unwinding that can cross our frames is a forced one started by
 * someone else (pthread_cancel, pthread_exit in a cancellation point we call):
 * let it through as if our frames were C frames without cleanups. */
int rust_eh_personality(int version, int actions, unsigned long exception_class,
                        void *exception, void *context) {
    (void)version; (void)actions; (void)exception_class; (void)exception; (void)context;
    return 8; /* _URC_CONTINUE_UNWIND */
}

/* Called only from a cleanup path, which the personality above never enters. */
void _Unwind_Resume(void *exception) {
    (void)exception;
    abort();
}
