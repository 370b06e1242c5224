"""Grade a class's notebooks: ``python -m aigc_course.grade SUBMISSIONS... --out gradebook.csv``.

Each SUBMISSION is a notebook, or a folder of notebooks; the student's name is the file's
stem, or the folder's name. For every notebook the grader

1. reads it (a corrupt file is an error for that student, never the end of the run);
2. finds its chapter from its title, and reports a notebook of another chapter than
   ``--chapter`` as an error;
3. checks that the reference notebook's code cells (``chapters/NN_*.ipynb``; solutions,
   skeletons and checker calls aside) are all there and in order, matched by cell id, or by
   their text where a tool such as Colab dropped the ids. Markdown cells are not checked, and
   added cells are fine: learners add notes and experiments;
4. starts a fresh kernel **in a sandbox** (below), where a first cell imports the chapter's
   checkers and forks the **judge**, a process that never runs student code, before anything
   of the student's runs. The judge connects to the grader over a Unix socket; the grader then
   stops listening, so nothing started later can reach it;
5. runs the student's code cells, offline, without the checker calls (the student's copies
   are not trusted: they may be edited, or print a fake ``✓``);
6. grades each exercise, with its own time limit enforced from outside the kernel: the grader
   tells the judge which checker to call, with the run's **secret seed** (``secrets.randbits``,
   drawn per notebook in the grader and sent only to the judge: never in the kernel's
   environment, files, arguments or memory), from which the judge draws the inputs. A
   *function* exercise: the judge calls the checker on a proxy of the learner's function, which
   sends the inputs to the kernel and gets the outputs back as plain data (JSON: numbers,
   strings, lists, arrays as base64 bytes; no pickle). A *class* exercise with a ``Protocol``
   (``exercises/_checking.py``; the same definition the notebook's checker uses): the kernel
   runs the fixed protocol on the judge's inputs (30 optimizer steps, sampler cases...) and
   sends back its outputs as plain data; the judge compares them with the reference and writes
   the hint. The verdict is computed in the judge and sent to the grader; nothing the kernel
   prints or sends is read as a verdict. Exercises with neither (a checker that hands the
   learner's code a module) are still judged in the kernel, and their feedback says so. An
   exercise that runs over its time is interrupted by killing the kernel; the grader starts a
   new one, runs the student's cells again, and goes on with the next exercise, so a runaway
   exercise (even one whose loop catches ``BaseException``) loses only itself;
7. flags a solution that hands the work to the library being rebuilt (it subclasses
   ``aigc_course.optim.Adam``, calls torch's ``scaled_dot_product_attention``, reads torch's
   scheduler...) as "uses the library's implementation", not passed (``--allow-library``
   counts it). This is a static check of the definitions of the exercise's names (ast).

The sandbox (bubblewrap, ``bwrap``): the kernel sees the system's ``/usr``, a few files of
``/etc`` and the Python environment read-only, a private writable temporary folder as its
working directory (with a copy of the submission), none of the instructor's other files, no
network at all (its own network namespace: not even loopback to the host's servers; the kernel
talks to the grader over Unix sockets in its folder), no capabilities, and limits on memory
(address space, ``--memory``) and CPU time. If ``bwrap`` cannot start (no user namespaces),
the grader refuses to run; ``--no-sandbox`` runs anyway and says so in every row.

Outputs: ``--out`` (long format: one row per notebook and exercise, with ★, points, status and
feedback), ``--wide`` (one row per student: points per exercise, total, percentage), ``--report``
(one self-contained HTML page) and ``--feedback DIR`` (one markdown file per student). Points
are the exercise's ★ count (1, 2 or 3), or 3 for a milestone (``check_milestone_*``), and only
for a pass. **Policy for two notebooks of one chapter by one student: both are graded, and the
one with the most points counts** (the first in path order on a tie); the long CSV marks which
one counts, and every other output uses only that one, with a note naming both.

What is prevented, and what is not:

- prevented: a fake ``✓`` printed or saved in the notebook; edited checker calls; fake verdict
  lines printed by the student's code or by an IPython hook (stdout is not read), or sent to
  the judge in place of data; rewriting the kernel's registry of checkers; an ``int`` subclass
  (or any object) whose ``__eq__`` always says yes (outputs cross as plain data, rebuilt from
  exact types); answers precomputed for the notebook's fixed seeds (the grader's inputs come
  from the secret seed); writes outside the sandbox's folder, network connections, memory hogs;
- caught, not prevented: the kernel's half of a protocol (or a checker, helper, or
  ``torch``/``numpy``/``aigc_course`` function) replaced by code that computes the reference's
  answer: a static check of the cells (:func:`grader_internals`) and a check of the protocol's
  functions when it runs; a student who also rewrites those checks is not caught (it is a
  solution that calls the library indirectly);
- not prevented: a solution that calls the library indirectly (through a helper, ``getattr``,
  ``eval``) is not flagged by the static check; chapter 7's inputs are fixed texts; style and
  efficiency are not graded. Every chapter's exercises are judged in the judge (functions
  through plain-data calls, classes through protocols); a checker that had neither would be
  judged inside the kernel and say so in its feedback (``IN_KERNEL``), and CI fails on one. Without the sandbox (``--no-sandbox``) the
  student's code runs as the grading user and could read the grader's memory.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import csv
import html
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .exercises._verdict import ERROR, NOT_ATTEMPTED, PASSED, recv, send

__all__ = ["Exercise", "Reference", "Result", "Sandbox", "grade_notebook", "main"]

#: The reference notebooks: ``chapters/`` of the repository this package was installed from.
CHAPTERS = Path(__file__).resolve().parents[2] / "chapters"
FAILED, LIBRARY = "failed", "uses the library"
STATUS_LETTER = {PASSED: "✓", FAILED: "✗", NOT_ATTEMPTED: "·", ERROR: "E", LIBRARY: "L"}
NO_SANDBOX = " [graded WITHOUT the sandbox (--no-sandbox)]"
#: the note on an exercise whose checker still runs in the submission's kernel (forgeable)
IN_KERNEL = " [judged inside the submission's kernel]"


@dataclass(frozen=True)
class Exercise:
    """One checker call of the reference notebook, e.g. ``ch01.check_offset(offset)``."""

    id: str  # "offset": the checker's name without "check_"
    checker: str
    args: tuple[str, ...]
    kwargs: tuple[tuple[str, str], ...]
    cell_id: str | None = None  # the reference cell that calls the checker
    cell_source: str = ""
    stars: int = 1  # from the heading "Exercise N (★★)" above the checker call
    kinds: tuple[str, ...] = ()  # "def" or "class" for each argument, from the reference

    @property
    def points(self) -> int:
        """1, 2 or 3 by ★; 3 for a milestone."""
        return 3 if self.checker.startswith("check_milestone") else max(1, min(self.stars, 3))


@dataclass
class Reference:
    """What a chapter's reference notebook says a submission must contain."""

    chapter: str
    title: str
    anchors: list[dict]  # code cells that must be present, in order: {"id", "source", "type"}
    exercises: list[Exercise]


@dataclass
class Result:
    student: str
    path: Path
    chapter: str
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # exercise, status, feedback
    seconds: float = 0.0
    counted: bool = True  # the best-score policy: False for a student's other notebook
    note: str = ""


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _title(nb: dict) -> str:
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in _source(cell).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""


def _checker_calls(source: str) -> list[ast.Call]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [
        node.value
        for node in tree.body
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute)
        and isinstance(node.value.func.value, ast.Name)
        and re.fullmatch(r"ch\d\d", node.value.func.value.id)
        and node.value.func.attr.startswith("check_")
    ]


def _definitions(source: str) -> dict[str, str]:
    """Top-level ``def``/``class`` names of a cell: {name: "def" | "class"}."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    kinds = {ast.FunctionDef: "def", ast.AsyncFunctionDef: "def", ast.ClassDef: "class"}
    return {n.name: kinds[type(n)] for n in tree.body if type(n) in kinds}


EXERCISE_HEADING = re.compile(r"^#+\s*Exercise\s+\d+\b.*?(★+)")


def load_reference(path: Path) -> Reference:
    """Read a reference chapter notebook: its title, its required cells, its exercises."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    chapter = path.name[:2]
    kinds: dict[str, str] = {}
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            kinds.update(_definitions(_source(cell)))
    anchors, exercises, stars = [], [], 1
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        source = _source(cell)
        if cell["cell_type"] == "markdown":
            for line in source.splitlines():
                if m := EXERCISE_HEADING.match(line):
                    stars = len(m.group(1))
            continue
        if cell["cell_type"] != "code" or "solution" in tags:
            continue
        if "NotImplementedError" in source:
            continue  # a skeleton: the student rewrites it
        calls = _checker_calls(source)
        for call in calls:
            args = tuple(ast.unparse(a) for a in call.args)
            exercises.append(
                Exercise(
                    id=call.func.attr.removeprefix("check_"),
                    checker=call.func.attr,
                    args=args,
                    kwargs=tuple((k.arg, ast.unparse(k.value)) for k in call.keywords),
                    cell_id=cell.get("id"),
                    cell_source=_normal(source),
                    stars=stars,
                    kinds=tuple(kinds.get(a, "?") for a in args),
                )
            )
        if not calls:  # the grader makes the checker calls itself: those cells may change
            anchors.append({"id": cell.get("id"), "source": _normal(source), "type": "code"})
    return Reference(chapter, _title(nb), anchors, exercises)


def load_references(chapters: Path = CHAPTERS) -> dict[str, Reference]:
    return {p.name[:2]: load_reference(p) for p in sorted(chapters.glob("[0-9][0-9]_*.ipynb"))}


class SubmissionError(Exception):
    """The whole notebook cannot be graded; the message says why."""


def _check_structure(nb: dict, ref: Reference) -> None:
    """Raise :class:`SubmissionError` if a reference code cell is missing or out of order."""
    cells = [c for c in nb["cells"] if c.get("cell_type") == "code"]
    by_id = {c.get("id"): i for i, c in enumerate(cells) if c.get("id")}
    texts: dict[str, list[int]] = {}
    for i, c in enumerate(cells):
        texts.setdefault(_normal(_source(c)), []).append(i)
    position = -1
    for k, anchor in enumerate(ref.anchors):
        found = [by_id[anchor["id"]]] if anchor["id"] in by_id else texts.get(anchor["source"], [])
        after = [i for i in found if i > position]
        first_line = (anchor["source"].splitlines() or [""])[0][:60]
        if not after:
            what = "reordered cells" if found else "a deleted cell"
            raise SubmissionError(
                f"{what}: the reference's code cell {k + 1} ({first_line!r}) "
                + ("comes too early" if found else "is missing or edited")
            )
        position = after[0]


def _strip_checker_calls(source: str) -> str:
    """The cell without its top-level checker calls (the grader makes its own)."""
    lines = source.splitlines()
    for call in reversed(_checker_calls(source)):
        # the statement is the call itself: its lines go, the rest of the cell stays
        for n in range(call.lineno - 1, call.end_lineno):
            lines[n] = ""
    return "\n".join(lines)


def _shown_ticks(nb: dict, ref: Reference) -> set[str]:
    """The exercises whose checker cell, as submitted, shows a ``✓`` line in its output."""
    by_id = {c.get("id"): c for c in nb["cells"] if c.get("id")}
    by_text = {_normal(_source(c)): c for c in nb["cells"]}
    shown = set()
    for exercise in ref.exercises:
        cell = by_id.get(exercise.cell_id) or by_text.get(exercise.cell_source)
        for out in (cell or {}).get("outputs", []):
            text = out.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            if any(line.startswith("✓") for line in text.splitlines()):
                shown.add(exercise.id)
    return shown


# ------------------------------------------------ uses the library's implementation

LIBRARIES = ("torch", "aigc_course", "transformers", "diffusers", "tokenizers", "tiktoken")
#: More names that do an exercise's work, by exercise id (the exercise's own name, and the
#: learner's object's name without "My"/"my_", are always on the list).
LIBRARY_NAMES = {
    "sgd_momentum": {"SGD"},
    "warmup_cosine": {"lr_scheduler", "get_cosine_schedule_with_warmup"},
    "attention_head": {"scaled_dot_product_attention", "MultiheadAttention"},
    "multi_head_attention": {"scaled_dot_product_attention", "MultiheadAttention"},
    "cached_attention": {"scaled_dot_product_attention"},
    "causal_mask": {"scaled_dot_product_attention"},
    "pairwise_sq_dists": {"cdist"},
    "standardize_rows": {"layer_norm", "LayerNorm"},
    "logsumexp": {"logsumexp"},
    "silu": {"silu", "SiLU"},
    "cross_entropy": {"cross_entropy", "CrossEntropyLoss", "nll_loss", "NLLLoss"},
    "collate": {"default_collate"},
    "clip_grad_norm": {"clip_grad_norm_"},
    "top_k_filter": {"TopKLogitsWarper"},
    "top_p_filter": {"TopPLogitsWarper"},
    "average_gradients": {"all_reduce_gradients"},
    "split_indices": {"DistributedSampler"},
    "add_noise": {"DDPMScheduler"},
    "ddpm_step": {"DDPMScheduler"},
    "cosine_betas": {"DDPMScheduler"},
}


def _norm(name: str) -> str:
    return name.lower().replace("_", "")


def _imported(tree: ast.AST) -> dict[str, str]:
    """Names bound to the libraries by imports: {"F": "torch.nn.functional", "Adam": ...}."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] in LIBRARIES:
                    names[a.asname or a.name.split(".")[0]] = (
                        a.name if a.asname else a.name.split(".")[0]
                    )
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in LIBRARIES:
            for a in node.names:
                names[a.asname or a.name] = f"{node.module}.{a.name}"
    return names


def library_use(codes: list[str], exercise: Exercise) -> str | None:
    """The dotted name of a library implementation that the learner's definition of the
    exercise's names uses (``torch.nn.functional.scaled_dot_product_attention``), or None."""
    trees = []
    for code in codes:
        with contextlib.suppress(SyntaxError, ValueError):
            trees.append(ast.parse(code))
    imported: dict[str, str] = {}
    for tree in trees:
        imported.update(_imported(tree))
    forbidden = {_norm(exercise.id)} | {_norm(n) for n in LIBRARY_NAMES.get(exercise.id, ())}
    if "attention" in exercise.id:  # any attention exercise: torch's fused attention does it
        forbidden |= {_norm(n) for n in LIBRARY_NAMES["attention_head"]}
    for arg in exercise.args:
        forbidden.add(_norm(re.sub(r"^(my_?|My)", "", arg)))
    definitions = {}
    for tree in trees:  # the last definition of each name is the one that runs
        for node in tree.body:
            targets = []
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                targets = [node.name]
            elif isinstance(node, ast.Assign):
                targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            for name in targets:
                if name in exercise.args:
                    definitions[name] = node
    for node in definitions.values():
        for sub in ast.walk(node):
            if isinstance(sub, ast.Attribute):
                chain, base = [sub.attr], sub.value
                while isinstance(base, ast.Attribute):
                    chain.append(base.attr)
                    base = base.value
                if not (isinstance(base, ast.Name) and base.id in imported):
                    continue
                dotted = ".".join([imported[base.id], *reversed(chain)])
            elif isinstance(sub, ast.Name) and sub.id in imported:
                dotted = imported[sub.id]
            else:
                continue
            parts = dotted.split(".")
            if any(_norm(p) in forbidden for p in parts[1:]):
                return dotted
    return None


# ------------------------------------------------ reaching into the grader's internals

#: Attributes that only the grader's machinery uses: its registry, its seed, the protocols.
GRADER_ATTRIBUTES = {"_armed", "_SECRET", "protocol", "_run_protocol", "serve", "arm", "seeded"}


def grader_internals(codes: list[str]) -> str | None:
    """What the submission touches of the grader's own machinery (its private modules
    ``aigc_course.exercises._verdict`` and ``_checking``, a checker module's private names
    such as ``ch04._learner_trajectory``, a protocol, the secret seed), or None.

    A static check (ast) of every code cell: it catches the plain ways of rewriting what runs
    in the kernel; ``getattr``, ``eval`` or ``importlib`` with computed strings escape it, and
    are left to the protocols' tamper check."""
    for code in codes:
        try:
            tree = ast.parse(code)
        except (SyntaxError, ValueError):
            continue
        checkers: set[str] = set()  # names bound to aigc_course.exercises.chNN
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if re.match(r"aigc_course\.exercises\._", a.name):
                        return a.name
                    if re.fullmatch(r"aigc_course\.exercises\.ch\d\d", a.name) and a.asname:
                        checkers.add(a.asname)
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if re.match(r"aigc_course\.exercises\._", module):
                    return module
                for a in node.names:
                    if module == "aigc_course.exercises" and a.name.startswith("_"):
                        return f"{module}.{a.name}"
                    if module == "aigc_course.exercises" and re.fullmatch(r"ch\d\d", a.name):
                        checkers.add(a.asname or a.name)
                    if re.fullmatch(r"aigc_course\.exercises\.ch\d\d", module) and (
                        a.name.startswith("_") or a.name.endswith("_PROTOCOL")
                    ):
                        return f"{module}.{a.name}"
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute):
                continue
            base = node.value
            if node.attr in GRADER_ATTRIBUTES or node.attr.endswith("_PROTOCOL"):
                if isinstance(base, ast.Name) and (base.id in checkers or base.id.startswith("_")):
                    return f"{base.id}.{node.attr}"
                if node.attr in {"_armed", "_SECRET", "_run_protocol"}:
                    return ast.unparse(node)
            if isinstance(base, ast.Name) and base.id in checkers and node.attr.startswith("_"):
                return f"{base.id}.{node.attr}"
    return None


# ------------------------------------------------------------------ the sandbox


@dataclass
class Sandbox:
    """bubblewrap around the kernel: read-only system and Python, one writable folder, no
    network, no capabilities, limited memory (MiB of address space) and CPU time (s)."""

    memory_mb: int = 6144
    cpu_seconds: int = 1800
    enabled: bool = True

    def _python_paths(self) -> list[str]:
        """The Python environment: the interpreter's prefixes and the packages' folders."""
        import aigc_course

        paths = {
            sys.prefix,
            sys.base_prefix,
            sys.exec_prefix,
            str(Path(aigc_course.__file__).parents[1]),
        }
        for entry in sys.path:  # site-packages and .pth entries, not the current folder
            if entry and Path(entry).is_dir() and "-packages" in entry:
                paths.add(entry)
        paths = {os.path.realpath(p) for p in paths} | paths
        return sorted(paths)

    def command(self, workdir: str) -> list[str]:
        """The prefix that runs a command in the sandbox, in ``workdir``."""
        # JPY_PARENT_PID: ipykernel exits when that process is gone, and in the sandbox's own
        # PID namespace it is
        limits = [
            "env",
            "-u",
            "JPY_PARENT_PID",
            "prlimit",
            f"--as={self.memory_mb * 1024 * 1024}",
            f"--cpu={self.cpu_seconds}",
            "--",
        ]
        if not self.enabled:
            return limits
        cmd = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
        for top in ("usr", "bin", "lib", "lib64", "sbin"):
            p = Path("/", top)
            if p.is_symlink():
                cmd += ["--symlink", os.readlink(p), str(p)]
            elif p.exists():
                cmd += ["--ro-bind", str(p), str(p)]
        for name in (
            "ld.so.cache",
            "ld.so.conf",
            "ld.so.conf.d",
            "passwd",
            "group",
            "nsswitch.conf",
            "localtime",
            "alternatives",
            "fonts",
            "ssl",
            "mime.types",
        ):
            cmd += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        # the private /tmp first, then the environment on top of it: a checkout (and its venv)
        # that lives under /tmp must stay visible
        cmd += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/dev/shm", "--tmpfs", "/tmp"]
        for path in self._python_paths():
            cmd += ["--ro-bind-try", path, path]
        cmd += ["--bind", workdir, workdir, "--chdir", workdir, "--remount-ro", "/"]
        return cmd + ["--"] + limits

    def problem(self) -> str | None:
        """Why the sandbox cannot start here, or None when it works."""
        if not self.enabled:
            return None
        if shutil.which("bwrap") is None:
            return "bwrap is not installed (Debian: apt-get install bubblewrap)"
        with tempfile.TemporaryDirectory(prefix="aigc-grade-") as workdir:
            cmd = self.command(workdir) + [sys.executable, "-c", "print('ok')"]
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
            except (OSError, subprocess.TimeoutExpired) as e:
                return f"bwrap did not run: {e}"
            if proc.returncode != 0 or proc.stdout.strip() != "ok":
                return f"bwrap failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}"
        return None


def _kernel_environment(workdir: str) -> dict:
    """A small environment: none of the grader's own variables (tokens, paths) leak in."""
    keep = ("PATH", "LANG", "LC_ALL", "TZ", "VIRTUAL_ENV")
    env = {
        k: v
        for k, v in os.environ.items()
        if k in keep or k.startswith(("OMP_", "MKL_", "OPENBLAS_", "NPY_", "ATEN_"))
    }
    env.update(
        HOME=workdir,
        TMPDIR=workdir,
        MPLCONFIGDIR=f"{workdir}/.matplotlib",
        IPYTHONDIR=f"{workdir}/.ipython",
        JUPYTER_RUNTIME_DIR=workdir,
        HF_HOME=f"{workdir}/.huggingface",
        HF_HUB_OFFLINE="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        TRANSFORMERS_VERBOSITY="error",
        MPLBACKEND="Agg",
        PYTHONUNBUFFERED="1",
    )
    return env


class _Kernel:
    """One IPython kernel in the sandbox, reached over IPC sockets in ``workdir``."""

    def __init__(self, workdir: str, sandbox: Sandbox, n: int):
        from jupyter_client import KernelManager

        prefix = sandbox.command(workdir)

        class SandboxedKernelManager(KernelManager):
            def format_kernel_cmd(self, extra_arguments=None):
                return prefix + super().format_kernel_cmd(extra_arguments)

        self.km = SandboxedKernelManager(
            kernel_name="python3",
            transport="ipc",
            ip=f"{workdir}/k{n}",
            connection_file=f"{workdir}/kernel-{n}.json",
        )
        self.log = open(f"{workdir}/kernel-{n}.log", "wb")
        self.km.start_kernel(
            extra_arguments=["--IPKernelApp.log_level=ERROR", "--HistoryManager.enabled=False"],
            env=_kernel_environment(workdir),
            cwd=workdir,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.kc = self.km.client()
        self.kc.start_channels()
        try:
            self.kc.wait_for_ready(timeout=120)
        except RuntimeError as e:
            self.close()
            raise SubmissionError(f"the kernel did not start: {e}") from None

    def run(self, code: str, timeout: float) -> dict:
        """Execute ``code``; its reply's content (``status``, ``ename``, ``evalue``).
        Raises ``TimeoutError`` when it runs over ``timeout`` seconds."""
        if not self.km.is_alive():
            raise SubmissionError("the kernel died (out of memory or CPU time?)")
        reply = self.kc.execute_interactive(
            code, timeout=max(timeout, 0.1), output_hook=lambda msg: None, stop_on_error=False
        )
        return reply["content"]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.kc.stop_channels()
        with contextlib.suppress(Exception):
            self.km.shutdown_kernel(now=True)
        self.log.close()


class _Session:
    """A kernel that ran the submission's cells, and the judge forked before them."""

    def __init__(self, workdir, sandbox, n, chapter, codes, timeout):
        address = f"{workdir}/judge-{n}.sock"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(address)
        listener.listen(1)
        listener.settimeout(120)
        self.kernel = _Kernel(workdir, sandbox, n)
        self.first_error = ""
        self.errors: list[tuple[int, str]] = []  # (code cell index, "ename: evalue")
        try:
            hello = secrets.token_hex(16)
            arm = (
                "import aigc_course.exercises._verdict as _grader\n"
                f"_grader.arm({chapter!r}, {address!r}, {hello!r})\ndel _grader"
            )
            reply = self.kernel.run(arm, 180)
            if reply["status"] != "ok":
                raise SubmissionError(
                    f"the grader's set-up failed: {reply.get('ename')}: {reply.get('evalue')}"
                )
            try:
                self.judge, _ = listener.accept()
            except TimeoutError:
                raise SubmissionError("the judge did not start") from None
            self.judge.settimeout(60)
            if (recv(self.judge) or {}).get("hello") != hello:
                raise SubmissionError("the judge did not say hello")
        except BaseException:
            self.kernel.close()
            raise
        finally:
            listener.close()  # nothing started from now on can reach the grader
            with contextlib.suppress(OSError):
                os.unlink(address)
        deadline = time.monotonic() + timeout
        try:
            for k, code in enumerate(codes):
                reply = self.kernel.run(code, deadline - time.monotonic())
                if reply["status"] == "error":
                    self.errors.append((k, f"{reply['ename']}: {reply['evalue']}"))
                    if not self.first_error:
                        self.first_error = (
                            f"{reply['ename']}: {reply['evalue']} (in code cell {k + 1})"
                        )
        except TimeoutError:
            self.close()
            raise SubmissionError(f"timed out after {timeout:g} s (an infinite loop?)") from None
        except BaseException:
            self.close()
            raise

    def grade(self, exercise: Exercise, timeout: float, seed: int) -> tuple[str, str] | None:
        """(status, feedback), or None when the kernel must be restarted (it ran over).
        ``seed`` is the run's secret: it goes to the judge only, never to the kernel."""
        proxy = all(k == "def" for k in exercise.kinds) and not exercise.kwargs
        job = {
            "exercise": exercise.id,
            "checker": exercise.checker,
            "args": list(exercise.args),
            "mode": "proxy" if proxy else "kernel",
            "timeout": timeout,
            "seed": seed,
        }
        try:
            send(self.judge, job)
            self.kernel.run(
                "import aigc_course.exercises._verdict as _g\n_g.serve(globals())", timeout + 2
            )
            self.judge.settimeout(5)
            verdict = recv(self.judge)
        except (TimeoutError, OSError):
            return None
        if verdict is None:
            return ERROR, "the judge stopped (killed by the submission?)"
        feedback = str(verdict["feedback"])
        if verdict.get("judged") == "kernel":
            feedback += IN_KERNEL
        return str(verdict["status"]), feedback

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.judge.close()
        self.kernel.close()


def _run(
    nb: dict,
    ref: Reference,
    timeout: float,
    exercise_timeout: float,
    sandbox: Sandbox,
    path: Path | None = None,
) -> list[tuple]:
    """Execute the submission in a sandboxed kernel and return the judge's verdicts."""
    with tempfile.TemporaryDirectory(prefix="aigc-grade-") as workdir:
        os.chmod(workdir, 0o700)
        if path is not None:
            shutil.copy(path, Path(workdir) / "submission.ipynb")
        codes = [
            _strip_checker_calls(_source(c)) for c in nb["cells"] if c.get("cell_type") == "code"
        ]
        rows, session, n = [], None, 0
        # the secret seed of this run: the judge draws the inputs from it; it is never in the
        # kernel's environment, files, arguments or memory
        seed = secrets.randbits(63)
        try:
            for exercise in ref.exercises:
                if session is None:
                    n += 1
                    session = _Session(workdir, sandbox, n, ref.chapter, codes, timeout)
                broken = _defining_cell_error(exercise, codes, session.errors)
                graded = (
                    (ERROR, broken) if broken else session.grade(exercise, exercise_timeout, seed)
                )
                if graded is None:  # ran over: a new kernel for the next exercise
                    session.close()
                    session = None
                    graded = (ERROR, f"timed out after {exercise_timeout:g} s")
                status, feedback = graded
                if status == ERROR and not broken and session is not None and session.first_error:
                    feedback += f" [the notebook raised {session.first_error}]"
                rows.append((exercise.id, status, feedback))
        finally:
            if session is not None:
                session.close()
        return rows


def _defining_cell_error(exercise: Exercise, codes: list[str], errors) -> str | None:
    """The error of the code cell that should have defined one of the exercise's arguments
    (a SyntaxError there leaves the name undefined, which is an error, not a wrong answer)."""
    for k, error in errors:
        for name in exercise.args:
            if re.search(
                rf"^\s*(def|class)\s+{re.escape(name)}\b|^{re.escape(name)}\s*=",
                codes[k],
                re.MULTILINE,
            ):
                return f"{error} (in code cell {k + 1}, which defines {name})"
    return None


def grade_notebook(
    path: Path,
    student: str,
    references: dict[str, Reference],
    chapter: str | None = None,
    timeout: float = 120.0,
    exercise_timeout: float = 30.0,
    sandbox: Sandbox | None = None,
    allow_library: bool = False,
) -> Result:
    """Grade one notebook; every failure becomes rows of status ``error``, never an exception."""
    sandbox = sandbox or Sandbox()
    start = time.monotonic()
    result = Result(student, path, chapter or "?")
    expected = references.get(chapter) if chapter else None
    try:
        try:
            nb = json.loads(Path(path).read_text(encoding="utf-8"))
            if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
                raise ValueError("no list of cells")
        except (ValueError, UnicodeDecodeError) as e:
            raise SubmissionError(f"not a notebook (corrupt JSON: {e})") from None
        title = _title(nb)
        found = next((r for r in references.values() if r.title and r.title == title), None)
        if found is None:
            raise SubmissionError(f"no chapter has the title {title!r}")
        if expected is not None and found.chapter != expected.chapter:
            raise SubmissionError(
                f"a notebook of another chapter: chapter {found.chapter} ({found.title!r}), "
                f"not chapter {expected.chapter} ({expected.title!r})"
            )
        expected = found
        result.chapter = found.chapter
        _check_structure(nb, found)
        rows = _run(nb, found, timeout, exercise_timeout, sandbox, Path(path))
        # The notebook's own verdict, compared with the grader's: a ✓ the code does not earn
        # is forged (or stale), and worth the instructor's attention.
        shown = _shown_ticks(nb, found)
        codes = [_source(c) for c in nb["cells"] if c.get("cell_type") == "code"]
        by_id = {e.id: e for e in found.exercises}
        internals = grader_internals(codes)
        result.rows = []
        for x, status, feedback in rows:
            if x in shown and status != PASSED:
                feedback += " [the submitted notebook shows a ✓ here: forged or stale]"
            if internals and status == PASSED:
                status = ERROR
                feedback = (
                    f"the submission reaches into the grader's internals ({internals}): not "
                    f"counted; the judge said: {feedback}"
                )
            used = library_use(codes, by_id[x]) if status == PASSED else None
            if used:
                status = PASSED if allow_library else LIBRARY
                feedback = (
                    f"uses the library's implementation ({used})"
                    + (
                        ": counted (--allow-library)"
                        if allow_library
                        else ": not counted as passed"
                    )
                    + f"; the checker said: {feedback}"
                )
            result.rows.append((x, status, feedback))
    except SubmissionError as e:
        exercises = [x.id for x in expected.exercises] if expected else ["(notebook)"]
        result.rows = [(x, ERROR, str(e)) for x in exercises]
    except Exception as e:  # the grader's own failure on this notebook must not stop the run
        exercises = [x.id for x in expected.exercises] if expected else ["(notebook)"]
        result.rows = [(x, ERROR, f"could not grade: {type(e).__name__}: {e}") for x in exercises]
    if not sandbox.enabled:
        result.rows = [(x, s, f + NO_SANDBOX) for x, s, f in result.rows]
    result.seconds = time.monotonic() - start
    return result


def submissions(paths: list[Path]) -> list[tuple[str, Path]]:
    """(student, notebook) pairs: a notebook is named by its stem, a folder by its name."""
    found = []
    for path in paths:
        if path.is_dir():
            notebooks = sorted(
                p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
            )
            found += [(path.name, p) for p in notebooks]
        else:
            found.append((path.stem, path))
    return found


# ------------------------------------------------------------------ points, policy and outputs


def _exercise(references: dict[str, Reference], chapter: str, exercise: str) -> Exercise | None:
    ref = references.get(chapter)
    return next((e for e in ref.exercises if e.id == exercise), None) if ref else None


def points(result: Result, references: dict[str, Reference]) -> tuple[int, int]:
    """(points earned, points possible) of one graded notebook."""
    got = total = 0
    for x, status, _ in result.rows:
        e = _exercise(references, result.chapter, x)
        worth = e.points if e else 0
        total += worth
        got += worth if status == PASSED else 0
    return got, total


def apply_policy(results: list[Result], references: dict[str, Reference]) -> list[Result]:
    """Best score: of a student's notebooks of one chapter, the one with the most points
    counts (the first in path order on a tie); the others are marked, and named in a note."""
    groups: dict[tuple[str, str], list[Result]] = {}
    for r in results:
        groups.setdefault((r.student, r.chapter), []).append(r)
    for group in groups.values():
        if len(group) == 1:
            continue
        best = max(group, key=lambda r: points(r, references)[0])  # max keeps the first
        names = ", ".join(
            f"{r.path.name} ({points(r, references)[0]}/{points(r, references)[1]})" for r in group
        )
        for r in group:
            r.counted = r is best
            r.note = f"{len(group)} notebooks of chapter {r.chapter}: {names}; counted (best score): {best.path.name}"
    return results


def _columns(results: list[Result]) -> list[tuple[str, str]]:
    columns = []
    for r in results:
        for exercise, _, _ in r.rows:
            if (r.chapter, exercise) not in columns:
                columns.append((r.chapter, exercise))
    return columns


def summary(results: list[Result]) -> str:
    """A table of students x exercises (counted notebooks only): ✓ ✗ · E L."""
    counted = [r for r in results if r.counted]
    columns = _columns(counted)
    students = sorted({r.student for r in counted})
    cell = {(r.student, r.chapter, x): s for r in counted for x, s, _ in r.rows}
    width = max([len(s) for s in students] + [7])
    lines = ["  ".join([" " * width] + [f"{i + 1:>2}" for i in range(len(columns))])]
    for s in students:
        marks = [STATUS_LETTER.get(cell.get((s, c, x), ""), " ") for c, x in columns]
        passed = sum(m == "✓" for m in marks)
        lines.append(
            "  ".join([s.ljust(width)] + [f"{m:>2}" for m in marks]) + f"   {passed}/{len(marks)}"
        )
    lines.append("")
    lines += [f"{i + 1:>2}: {c}.{x}" for i, (c, x) in enumerate(columns)]
    lines.append(
        "✓ passed  ✗ failed  · not attempted  E error  L uses the library's implementation"
    )
    notes = sorted({f"{r.student}: {r.note}" for r in results if r.note})
    if notes:
        lines += ["", "policy: a student's best-scoring notebook of a chapter counts"] + notes
    return "\n".join(lines)


def write_long(path: Path, results: list[Result], references: dict[str, Reference]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "student",
                "chapter",
                "exercise",
                "stars",
                "points",
                "status",
                "feedback",
                "notebook",
                "counted",
            ]
        )
        for r in results:
            for x, status, feedback in r.rows:
                e = _exercise(references, r.chapter, x)
                stars = "★" * e.stars if e else ""
                earned = e.points if e and status == PASSED else 0
                writer.writerow(
                    [
                        r.student,
                        r.chapter,
                        x,
                        stars,
                        earned,
                        status,
                        feedback + (f" [{r.note}]" if r.note else ""),
                        r.path.name,
                        "yes" if r.counted else "no",
                    ]
                )


def write_wide(path: Path, results: list[Result], references: dict[str, Reference]) -> None:
    """One row per student: points per exercise (of the counted notebooks), total, percentage."""
    counted = [r for r in results if r.counted]
    columns = [(c, x) for c, x in _columns(counted) if _exercise(references, c, x)]
    possible = sum(_exercise(references, c, x).points for c, x in columns)
    earned = {}
    for r in counted:
        for x, status, _ in r.rows:
            e = _exercise(references, r.chapter, x)
            if e:
                earned[(r.student, r.chapter, x)] = e.points if status == PASSED else 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student"] + [f"{c}.{x}" for c, x in columns] + ["total", "percentage"])
        for s in sorted({r.student for r in counted}):
            row = [earned.get((s, c, x), 0) for c, x in columns]
            total = sum(row)
            writer.writerow(
                [s, *row, total, f"{100 * total / possible:.1f}" if possible else "0.0"]
            )


def _hint(feedback: str) -> str:
    """A feedback line shortened to what repeats between students (numbers blanked)."""
    text = feedback.split(" [")[0].split("; the checker said")[0]
    text = re.sub(r"-?\d+(\.\d+)?(e-?\d+)?", "#", text)
    return text[:160]


def write_report(path: Path, results: list[Result], references: dict[str, Reference]) -> None:
    """One self-contained HTML page: pass rate per exercise (inline SVG), frequent hints,
    the per-student table. Everything from submissions is escaped."""
    counted = [r for r in results if r.counted]
    columns = _columns(counted)
    status = {(r.student, r.chapter, x): (s, f) for r in counted for x, s, f in r.rows}
    students = sorted({r.student for r in counted})
    bar_h, width = 22, 640
    bars = []
    for i, (c, x) in enumerate(columns):
        n = sum((s, c, x) in status for s in students)
        rate = sum(status.get((s, c, x), ("",))[0] == PASSED for s in students) / n if n else 0.0
        y = i * bar_h
        bars.append(
            f'<text x="0" y="{y + 15}" font-size="12">{html.escape(f"{c}.{x}")}</text>'
            f'<rect x="200" y="{y + 3}" width="{rate * (width - 260):.1f}" height="{bar_h - 6}" fill="#3a7"/>'
            f'<text x="{205 + rate * (width - 260):.1f}" y="{y + 15}" font-size="12">{100 * rate:.0f}%</text>'
        )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{bar_h * len(columns) + 4}" '
        f'role="img" aria-label="pass rate per exercise">{"".join(bars)}</svg>'
    )
    hints = Counter(
        (f"{r.chapter}.{x}", _hint(f))
        for r in counted
        for x, s, f in r.rows
        if s in (FAILED, ERROR, LIBRARY)
    )
    hint_rows = "".join(
        f"<tr><td>{n}</td><td>{html.escape(x)}</td><td>{html.escape(h)}</td></tr>"
        for (x, h), n in hints.most_common(15)
    )
    head = "".join(
        f'<th title="{html.escape(f"{c}.{x}")}">{i + 1}</th>' for i, (c, x) in enumerate(columns)
    )
    colour = {PASSED: "#cfc", FAILED: "#fcc", ERROR: "#fdb", LIBRARY: "#ccf", NOT_ATTEMPTED: "#eee"}
    body = []
    for s in students:
        cells = []
        for c, x in columns:
            st, fb = status.get((s, c, x), ("", ""))
            cells.append(
                f'<td style="background:{colour.get(st, "#fff")}" title="{html.escape(fb)}">'
                f"{STATUS_LETTER.get(st, '')}</td>"
            )
        got = sum(points(r, references)[0] for r in counted if r.student == s)
        possible = sum(points(r, references)[1] for r in counted if r.student == s)
        body.append(f"<tr><td>{html.escape(s)}</td>{''.join(cells)}<td>{got}/{possible}</td></tr>")
    legend = "".join(
        f"<li>{i + 1}: {html.escape(f'{c}.{x}')}</li>" for i, (c, x) in enumerate(columns)
    )
    notes = "".join(
        f"<li>{html.escape(r.student)}: {html.escape(r.note)}</li>"
        for r in results
        if r.note and r.counted
    )
    sandboxed = not any(NO_SANDBOX in f for r in results for _, _, f in r.rows)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Grading report</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 6px;text-align:center}}td:first-child{{text-align:left}}</style>
</head><body>
<h1>Grading report</h1>
<p>{len(students)} student(s), {len(results)} notebook(s); {"graded in the sandbox" if sandboxed else "<strong>graded WITHOUT the sandbox</strong>"}.
Policy: when a student submitted several notebooks of a chapter, the best-scoring one counts.</p>
<h2>Pass rate per exercise</h2>
{svg}
<h2>Most frequent hints</h2>
<table><tr><th>students</th><th>exercise</th><th>hint</th></tr>{hint_rows}</table>
<h2>Students</h2>
<table><tr><th>student</th>{head}<th>points</th></tr>{"".join(body)}</table>
<ol>{legend}</ol>
<p>✓ passed, ✗ failed, · not attempted, E error, L uses the library's implementation (hover a cell for its feedback)</p>
<ul>{notes}</ul>
</body></html>
"""
    Path(path).write_text(page, encoding="utf-8")


def _safe_name(student: str) -> str:
    return re.sub(r"[^\w.-]+", "_", student).strip("._") or "student"


def write_feedback(folder: Path, results: list[Result], references: dict[str, Reference]) -> None:
    """One markdown file per student: each exercise's verdict and hint (counted notebooks)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    by_student: dict[str, list[Result]] = {}
    for r in results:
        if r.counted:
            by_student.setdefault(r.student, []).append(r)
    for student, rs in sorted(by_student.items()):
        lines = [f"# Feedback for {student}", ""]
        for r in rs:
            got, possible = points(r, references)
            lines += [f"## Chapter {r.chapter} ({r.path.name}): {got}/{possible} points", ""]
            if r.note:
                lines += [f"*{r.note}*", ""]
            for x, status, feedback in r.rows:
                e = _exercise(references, r.chapter, x)
                stars = f" ({'★' * e.stars})" if e else ""
                lines.append(
                    f"- {STATUS_LETTER.get(status, '?')} **{x}**{stars}: {status}. {feedback}"
                )
            lines.append("")
        (folder / f"{_safe_name(student)}.md").write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", nargs="+", type=Path, help="notebooks or folders")
    parser.add_argument("--out", type=Path, default=Path("gradebook.csv"), help="long-format CSV")
    parser.add_argument("--wide", type=Path, help="one row per student (points, total, %%)")
    parser.add_argument("--report", type=Path, help="a self-contained HTML report")
    parser.add_argument("--feedback", type=Path, help="a folder: one markdown file per student")
    parser.add_argument("--chapter", help="the assigned chapter, e.g. 01 (default: any)")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds for the cells")
    parser.add_argument("--exercise-timeout", type=float, default=30.0, help="seconds per check")
    parser.add_argument("--chapters", type=Path, default=CHAPTERS, help="reference notebooks")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks graded at once")
    parser.add_argument("--memory", type=int, default=6144, help="MiB of address space per kernel")
    parser.add_argument("--cpu-time", type=int, default=1800, help="CPU seconds per kernel")
    parser.add_argument("--no-sandbox", action="store_true", help="run without bubblewrap (unsafe)")
    parser.add_argument(
        "--allow-library",
        action="store_true",
        help="count solutions that use the library's implementation",
    )
    args = parser.parse_args(argv)

    from tqdm import tqdm

    sandbox = Sandbox(args.memory, args.cpu_time, enabled=not args.no_sandbox)
    problem = sandbox.problem()
    if problem:
        print(
            f"error: the sandbox cannot start: {problem}\n"
            "Grading runs students' code; refusing to run it unsandboxed. "
            "Use --no-sandbox to run anyway (every row will say so).",
            file=sys.stderr,
        )
        return 2
    if args.no_sandbox:
        print("warning: grading WITHOUT the sandbox (--no-sandbox)", file=sys.stderr)
    references = load_references(args.chapters)
    chapter = f"{int(args.chapter):02d}" if args.chapter else None
    if chapter and chapter not in references:
        parser.error(f"no chapter {chapter} in {args.chapters}")
    todo = submissions(args.submissions)
    kwargs = dict(sandbox=sandbox, allow_library=args.allow_library)
    grade_args = (references, chapter, args.timeout, args.exercise_timeout)
    start = time.monotonic()
    if args.jobs > 1:  # one process per notebook at a time, each with its own kernel
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(args.jobs) as pool:
            futures = [pool.submit(grade_notebook, p, s, *grade_args, **kwargs) for s, p in todo]
            results = [f.result() for f in tqdm(futures, desc="grading", unit="notebook")]
    else:
        results = [
            grade_notebook(p, s, *grade_args, **kwargs)
            for s, p in tqdm(todo, desc="grading", unit="notebook")
        ]
    apply_policy(results, references)
    write_long(args.out, results, references)
    written = [args.out]
    if args.wide:
        write_wide(args.wide, results, references)
        written.append(args.wide)
    if args.report:
        write_report(args.report, results, references)
        written.append(args.report)
    if args.feedback:
        write_feedback(args.feedback, results, references)
        written.append(args.feedback)
    print(summary(results))
    if results:
        print(
            f"{len(results)} notebook(s) in {time.monotonic() - start:.0f} s, "
            f"{sum(r.seconds for r in results) / len(results):.1f} s each on average"
        )
    print("sandbox: " + ("bubblewrap" if sandbox.enabled else "NONE (--no-sandbox)"))
    print("wrote " + ", ".join(map(str, written)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
