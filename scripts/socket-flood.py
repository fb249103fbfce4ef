#!/usr/bin/env python3
"""Floods a live `pyrewrite trace` session's event socket and prints what the
driver did (RELIABILITY.md, "The event socket", the large flood's figures).

    scripts/build.sh && scripts/socket-flood.py [HELD [CHURNED [GARBAGE]]]

The build waits on a FIFO while HELD connections (default 10000) are opened
and held, CHURNED (50000) opened and closed and GARBAGE (1000) lines of
random bytes sent; then it runs 1000 real execs. The driver runs under
/usr/bin/time -v; its threads, descriptors and peak RSS are read from /proc
during the flood. Exits 1 unless all 1000 real execs were logged.
"""
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

REAL = 1000


def main():
    held_n, churn_n, garbage_n = (list(map(int, sys.argv[1:])) + [10000, 50000, 1000][len(sys.argv) - 1:])[:3]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    driver = os.path.join(root, "target/debug/pyrewrite")
    library = os.path.join(root, "target/debug/libpyrewrite.so")
    d = tempfile.mkdtemp(prefix="pyrewrite-flood-")
    os.mkfifo(os.path.join(d, "go"))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, held_n + 1000), hard))
    script = ('printf %s "$PYREWRITE_SOCKET" > sock.tmp && mv sock.tmp sock.path; read x < go; '
              f'i=0; while [ $i -lt {REAL} ]; do /bin/true; i=$((i+1)); done')
    env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(d, "xdg"))
    p = subprocess.Popen(
        ["/usr/bin/time", "-v", driver, "trace", "--all", "--preload", library,
         "--events", "events.jsonl", "--", "/bin/sh", "-c", script],
        cwd=d, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard)))
    while not os.path.exists(os.path.join(d, "sock.path")):
        time.sleep(0.02)
    path = open(os.path.join(d, "sock.path")).read()
    t0 = time.time()
    held = []
    for _ in range(held_n):
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        held.append(s)
    for _ in range(churn_n):
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        s.close()
    for _ in range(garbage_n):
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        s.sendall(os.urandom(200).replace(b"\n", b"x") + b"\n")
        s.close()
    t1 = time.time()
    pid = int(subprocess.check_output(["pgrep", "-P", str(p.pid)]).split()[0])
    status = open(f"/proc/{pid}/status").read()
    threads = re.search(r"Threads:\s+(\d+)", status).group(1)
    hwm = re.search(r"VmHWM:\s+(\d+)", status).group(1)
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    print(f"flood: {held_n} held + {churn_n} churned + {garbage_n} garbage lines in {t1 - t0:.2f} s; "
          f"driver: {threads} threads, {fds} descriptors, VmHWM {hwm} KiB")
    t2 = time.time()
    with open(os.path.join(d, "go"), "w") as go:
        go.write("go\n")
    _, err = p.communicate()
    print(f"session ended {time.time() - t2:.2f} s after the build was released")
    for line in err.decode(errors="replace").splitlines():
        if line.startswith("pyrewrite: warning: ") and "would fail" not in line or \
                "Maximum resident" in line or "Exit status" in line:
            print(line.strip())
    with open(os.path.join(d, "events.jsonl")) as log:
        real = sum(1 for line in log if '"path":"/bin/true"' in line)
    print(f"real execs logged: {real} of {REAL}")
    for s in held:
        s.close()
    shutil.rmtree(d, ignore_errors=True)
    sys.exit(0 if real == REAL else 1)


if __name__ == "__main__":
    main()
