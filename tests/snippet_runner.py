"""Run snippets as `python snippet.py` would, without paying for Python, torch and
difflearn to start up once per snippet.

A *zygote* process imports the heavy modules once and runs no tensor code itself; for
each snippet it forks, and the child runs the file as `__main__` with the snippet's
folder first on `sys.path`, the repository as working directory and its stdout and
stderr sent to files. The state the child starts from is that of a fresh interpreter
that has imported those modules: no random numbers drawn, no threads started. A test
run of ~190 snippets saves about two seconds of start-up each.

    with Zygote() as z:
        code, out, err = z.run("snippets/notes/ddim.py", timeout=300)

Set DIFFLEARN_SNIPPET_SUBPROCESS=1 to run every snippet in a fresh `python` instead.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {"OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}

# the zygote: imports, then forks one child per request line "<path>\t<out>\t<err>"
SERVER = r"""
import os, runpy, sys, traceback
proto_in, proto_out = os.fdopen(os.dup(0), "r"), os.dup(1)
import importlib
for name in ("numpy", "torch", "matplotlib.pyplot", "scipy.linalg", "scipy.integrate", "difflearn",
             "difflearn.pretrained", "safetensors.torch"):
    try:
        importlib.import_module(name)
    except ImportError:
        pass
root = sys.argv[1]
for line in proto_in:
    path, out, err = line.rstrip("\n").split("\t")
    sys.stdout.flush(); sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: a snippet run as `python path`
        code = 1
        try:
            os.close(proto_out)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.close(null)
            for fd, name in ((1, out), (2, err)):
                f = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(f, fd)
                os.close(f)
            os.chdir(root)
            full = os.path.join(root, path)
            sys.argv = [path]
            sys.path[0] = os.path.dirname(full)
            runpy.run_path(full, run_name="__main__")
            code = 0
        except SystemExit as e:
            if e.code is None or isinstance(e.code, int):
                code = e.code or 0
            else:
                print(e.code, file=sys.stderr)
                code = 1
        except BaseException:
            traceback.print_exc()
        finally:
            try:
                sys.stdout.flush(); sys.stderr.flush()
            finally:
                os._exit(code)
    os.write(proto_out, f"pid {pid}\n".encode())
    _, status = os.waitpid(pid, 0)
    os.write(proto_out, f"code {os.waitstatus_to_exitcode(status)}\n".encode())
"""


class Zygote:
    """One zygote process; `run(path)` -> (exit code, stdout, stderr)."""

    def __init__(self):
        self.proc = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def start(self):
        env = {**os.environ, **ENV}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(ROOT)], cwd=ROOT, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
        )
        self.tmp = tempfile.mkdtemp(prefix="snippets-")

    def close(self):
        if self.proc is not None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None

    def _readline(self, deadline: float) -> str | None:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
            return None
        return self.proc.stdout.readline()

    def run(self, path: str, timeout: float = 300) -> tuple[int, str, str]:
        if os.environ.get("DIFFLEARN_SNIPPET_SUBPROCESS") == "1":
            proc = subprocess.run([sys.executable, path], cwd=ROOT, capture_output=True, text=True,
                                  timeout=timeout, env={**os.environ, **ENV})
            return proc.returncode, proc.stdout, proc.stderr
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        out, err = (os.path.join(self.tmp, f"{i}.txt") for i in ("out", "err"))
        deadline = time.monotonic() + timeout
        self.proc.stdin.write(f"{path}\t{out}\t{err}\n")
        self.proc.stdin.flush()
        line = self._readline(deadline)
        if not line or not line.startswith("pid "):
            self.close()
            raise RuntimeError(f"the snippet zygote died before running {path}")
        pid = int(line.split()[1])
        line = self._readline(deadline)
        if line is None:  # a hang: kill the child, the zygote then reports it
            os.kill(pid, signal.SIGKILL)
            self._readline(time.monotonic() + 10)
            raise subprocess.TimeoutExpired(path, timeout)
        code = int(line.split()[1])
        return code, Path(out).read_text(), Path(err).read_text()
