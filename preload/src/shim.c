/* Variadic exec entry points of libpyrewrite.so.
 *
 * Stable Rust cannot define C-variadic functions, so these collect their
 * arguments into an argv array on the stack (as glibc's own execl does) and
 * hand it to the Rust side. The exported symbols `execl`, `execlp`, `execle`
 * are naked Rust trampolines (src/variadic.rs) that jump here with the
 * caller's registers untouched: a rustc cdylib exports only Rust items.
 *
 * Semantics mirror glibc 2.36 posix/execl.c, execle.c, execlp.c: count the
 * arguments up to the terminating NULL (E2BIG past INT_MAX), copy them into a
 * variable-length array, then call the vector form.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>

extern char **environ;

/* Implemented in Rust (src/hooks.rs). `which`: 0 execl, 1 execlp, 2 execle. */
int pyrewrite_execl_family(int which, const char *path, char *const argv[],
                           char *const envp[]);

#define PYREWRITE_COLLECT(which, path, arg, with_env)                          \
  do {                                                                         \
    ptrdiff_t argc;                                                            \
    va_list ap;                                                                \
    va_start(ap, arg);                                                         \
    for (argc = 1; va_arg(ap, const char *); argc++) {                         \
      if (argc == INT_MAX) {                                                   \
        va_end(ap);                                                            \
        errno = E2BIG;                                                         \
        return -1;                                                             \
      }                                                                        \
    }                                                                          \
    va_end(ap);                                                                \
    char *argv[argc + 1];                                                      \
    char **envp = environ;                                                     \
    va_start(ap, arg);                                                         \
    argv[0] = (char *)arg;                                                     \
    for (ptrdiff_t i = 1; i <= argc; i++)                                      \
      argv[i] = va_arg(ap, char *);                                            \
    if (with_env)                                                              \
      envp = va_arg(ap, char **);                                              \
    va_end(ap);                                                                \
    return pyrewrite_execl_family(which, path, argv, envp);                    \
  } while (0)

int pyrewrite_shim_execl(const char *path, const char *arg, ...) {
  PYREWRITE_COLLECT(0, path, arg, 0);
}

int pyrewrite_shim_execlp(const char *file, const char *arg, ...) {
  PYREWRITE_COLLECT(1, file, arg, 0);
}

int pyrewrite_shim_execle(const char *path, const char *arg, ...) {
  PYREWRITE_COLLECT(2, path, arg, 1);
}
