/* Exec a program N times by one spawning method and print the mean cost of one
 * spawn+wait in microseconds. Used by bench/run.py; the same binary runs bare
 * and under each preload so that only the preload differs. */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s fork|vfork|spawn N PROG [ARGS...]\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1];
    long n = atol(argv[2]);
    char **child_argv = argv + 3;
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
    printf("%.3f\n", (now() - t0) / n * 1e6);
    return 0;
}
