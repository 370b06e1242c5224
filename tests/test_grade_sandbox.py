"""The grader's sandbox (bubblewrap): what a submission's kernel can and cannot do.

Each test runs a short Python program with the exact command prefix that the grader puts
before the kernel (``Sandbox.command``), in a fresh working folder.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from aigc_course import grade

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    shutil.which("bwrap") is None, reason="bubblewrap is not installed (.ci/run installs it)"
)


def _in_sandbox(tmp_path: Path, code: str, **limits) -> subprocess.CompletedProcess:
    workdir = tmp_path / "work"
    workdir.mkdir(exist_ok=True)
    cmd = grade.Sandbox(**limits).command(str(workdir)) + [sys.executable, "-c", code]
    env = grade._kernel_environment(str(workdir))
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=workdir)


def test_the_sandbox_starts_here():
    assert grade.Sandbox().problem() is None


def test_writes_go_to_the_working_folder_only(tmp_path):
    outside = tmp_path / "outside.txt"
    code = (
        "import os\n"
        "open('mine.txt', 'w').write('ok')\n"
        f"for path in [{str(outside)!r}, {str(ROOT / 'planted.txt')!r}, '/usr/planted.txt']:\n"
        "    try:\n"
        "        open(path, 'w').write('planted')\n"
        "        print('WROTE', path)\n"
        "    except OSError as e:\n"
        "        print('refused', type(e).__name__)\n"
    )
    proc = _in_sandbox(tmp_path, code)
    assert proc.returncode == 0, proc.stderr
    # /usr refuses, and so does the repository, unless it lives under /tmp: then its path
    # exists inside the sandbox's own private /tmp (a tmpfs), and a write lands there, never
    # in the real repository (checked below)
    assert "refused" in proc.stdout.splitlines()[-1]  # /usr
    if not str(ROOT).startswith("/tmp/"):
        assert proc.stdout.count("refused") >= 2 and f"WROTE {ROOT}" not in proc.stdout
    assert (tmp_path / "work" / "mine.txt").read_text() == "ok"
    assert not outside.exists() and not (ROOT / "planted.txt").exists()


def test_the_instructors_files_are_not_visible(tmp_path):
    secret = tmp_path / "answers.txt"
    secret.write_text("the answers")
    code = (
        "import os\n"
        f"print(os.path.exists({str(secret)!r}), os.path.exists({str(ROOT / 'chapters')!r}),"
        f" os.path.exists({str(ROOT / 'tests')!r}))\n"
        "import aigc_course; print('package ok')\n"
    )
    proc = _in_sandbox(tmp_path, code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["False False False", "package ok"]


def test_no_connection_to_a_loopback_server(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    accepted = []
    server.settimeout(15)

    def accept():
        try:
            accepted.append(server.accept())
        except OSError:
            pass

    thread = threading.Thread(target=accept)
    thread.start()
    code = (
        "import socket\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=5)\n"
        "    print('CONNECTED')\n"
        "except OSError as e:\n"
        "    print('refused', type(e).__name__)\n"
    )
    try:
        proc = _in_sandbox(tmp_path, code)
        # the same program outside the sandbox does connect: the server is really there
        outside = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    finally:
        thread.join()
        server.close()
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("refused")
    assert outside.stdout.startswith("CONNECTED")


def test_memory_is_limited(tmp_path):
    code = (
        "import numpy as np\n"
        "try:\n"
        "    x = np.ones(3 * 2**30 // 8)  # 3 GiB\n"
        "    print('ALLOCATED', x.nbytes)\n"
        "except MemoryError:\n"
        "    print('MemoryError')\n"
    )
    proc = _in_sandbox(tmp_path, code, memory_mb=1536)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "MemoryError"


def test_cpu_time_is_limited(tmp_path):
    proc = _in_sandbox(tmp_path, "while True:\n    pass\n", cpu_seconds=1)
    assert proc.returncode != 0  # killed by SIGXCPU/SIGKILL after one CPU second


def test_the_grader_refuses_without_a_sandbox(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(grade.shutil, "which", lambda name: None)
    (tmp_path / "a.ipynb").write_text("{}")
    out = tmp_path / "gradebook.csv"
    assert grade.main([str(tmp_path / "a.ipynb"), "--out", str(out)]) == 2
    assert "the sandbox cannot start" in capsys.readouterr().err
    assert not out.exists()


def test_no_sandbox_says_so_in_every_row(tmp_path):
    (tmp_path / "a.ipynb").write_text(json.dumps({"cells": []}))
    out = tmp_path / "gradebook.csv"
    argv = [str(tmp_path / "a.ipynb"), "--chapter", "1", "--out", str(out), "--no-sandbox"]
    assert grade.main(argv) == 0
    rows = out.read_text(encoding="utf-8").splitlines()[1:]
    n = len(grade.load_references()["01"].exercises)
    assert len(rows) == n and all("WITHOUT the sandbox" in row for row in rows)
