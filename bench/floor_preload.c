/* The floor of the technique: the least an LD_PRELOAD exec interceptor can do.
 * It hooks the same exec entry points as libpyrewrite.so and appends one line
 * per exec to $FLOOR_LOG, then calls the real function. No rewriting, no
 * environment restoration, no PATH search. bench/run.py compares our added cost
 * per exec against this one's. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*execve_t)(const char *, char *const[], char *const[]);
typedef int (*execv_t)(const char *, char *const[]);
typedef int (*spawn_t)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                       const posix_spawnattr_t *, char *const[], char *const[]);

static execve_t real_execve;
static execv_t real_execv, real_execvp;
static spawn_t real_spawn, real_spawnp;

__attribute__((constructor)) static void init(void) {
    real_execve = (execve_t)dlsym(RTLD_NEXT, "execve");
    real_execv = (execv_t)dlsym(RTLD_NEXT, "execv");
    real_execvp = (execv_t)dlsym(RTLD_NEXT, "execvp");
    real_spawn = (spawn_t)dlsym(RTLD_NEXT, "posix_spawn");
    real_spawnp = (spawn_t)dlsym(RTLD_NEXT, "posix_spawnp");
}

static void log_exec(const char *fn, const char *path) {
    const char *file = getenv("FLOOR_LOG");
    if (!file) return;
    char line[4096];
    int n = snprintf(line, sizeof line, "%d %s %s\n", (int)getpid(), fn, path);
    if (n < 0) return;
    if (n >= (int)sizeof line) n = sizeof line - 1;
    int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return;
    (void)!write(fd, line, n);
    close(fd);
}

int execve(const char *p, char *const a[], char *const e[]) { log_exec("execve", p); return real_execve(p, a, e); }
int execv(const char *p, char *const a[]) { log_exec("execv", p); return real_execv(p, a); }
int execvp(const char *p, char *const a[]) { log_exec("execvp", p); return real_execvp(p, a); }
int posix_spawn(pid_t *pid, const char *p, const posix_spawn_file_actions_t *fa,
                const posix_spawnattr_t *at, char *const a[], char *const e[]) {
    log_exec("posix_spawn", p);
    return real_spawn(pid, p, fa, at, a, e);
}
int posix_spawnp(pid_t *pid, const char *p, const posix_spawn_file_actions_t *fa,
                 const posix_spawnattr_t *at, char *const a[], char *const e[]) {
    log_exec("posix_spawnp", p);
    return real_spawnp(pid, p, fa, at, a, e);
}
