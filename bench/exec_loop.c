/* Exec a program N times by one spawning method and print, per spawn+wait:
 *   wall-clock µs, CPU µs (user+sys of this process and all its children),
 *   minor page faults (this process and all its children).
 * Used by bench/run.py; the same binary runs bare and under each preload so
 * that only the preload differs. CPU time and page faults are counted per
 * process by the kernel, so unlike wall-clock time they do not include time
 * spent waiting for a CPU on a loaded machine. */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds and minor faults of this process plus its waited-for children. */
static double cpu(long *minflt) {
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    *minflt = self.ru_minflt + kids.ru_minflt;
    return self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec +
           kids.ru_stime.tv_sec +
           (self.ru_utime.tv_usec + self.ru_stime.tv_usec + kids.ru_utime.tv_usec +
            kids.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s fork|vfork|spawn N PROG [ARGS...]\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1];
    long n = atol(argv[2]);
    char **child_argv = argv + 3;
    long f0;
    double c0 = cpu(&f0);
    double t0 = now();
    for (long i = 0; i < n; i++) {
        pid_t pid;
        if (strcmp(mode, "fork") == 0) {
            pid = fork();
            if (pid == 0) {
                execve(child_argv[0], child_argv, environ);
                _exit(127);
            }
        } else if (strcmp(mode, "vfork") == 0) {
            pid = vfork();
            if (pid == 0) {
                execv(child_argv[0], child_argv);
                _exit(127);
            }
        } else {
            if (posix_spawnp(&pid, child_argv[0], NULL, NULL, child_argv, environ) != 0) {
                perror("posix_spawnp");
                return 1;
            }
        }
        int status;
        if (pid < 0 || waitpid(pid, &status, 0) < 0) {
            perror("spawn");
            return 1;
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "child failed: status %d\n", status);
            return 1;
        }
    }
    double t1 = now();
    long f1;
    double c1 = cpu(&f1);
    printf("%.3f %.3f %.3f\n", (t1 - t0) / n * 1e6, (c1 - c0) / n * 1e6,
           (double)(f1 - f0) / n);
    return 0;
}
