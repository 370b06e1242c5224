"""No import circle in the package: no module imports, directly or through others, a module
that imports it back (STYLE.md: imports run one way). Tensor's methods are bound from one table
(``aigc_course/ops/tensor_methods.py``), so ``_tensor`` imports no op.

The graph is read from the source with ``ast``, every ``import`` and ``from ... import``
anywhere in a module (inside functions too), relative ones resolved. ``from pkg import name``
is an arrow to ``pkg.name`` where that is a module, else to ``pkg``. Importing a submodule runs
its package's ``__init__`` first; that implicit step is not an arrow (or every package that
names its submodules would be a circle).
"""

from __future__ import annotations

import ast
from pathlib import Path

import aigc_course

PACKAGE_DIR = Path(aigc_course.__file__).parent

# No known circle: the last one (exercises._checking <-> exercises._verdict) closed when the
# plain-data codec moved below both, into exercises._plain. An entry here must name a circle
# that still exists (the test below fails otherwise), so it cannot outlive it.
KNOWN_CIRCLES: list[list[str]] = []


def module_files(root: Path, package: str) -> dict[str, Path]:
    """Every module of the package under ``root``: dotted name -> file."""
    files = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        files[".".join([package, *parts])] = path
    return files


def _is_package(name: str, files: dict[str, Path]) -> bool:
    return name in files and files[name].name == "__init__.py"


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """module -> the package's modules it imports."""
    files = module_files(root, package)
    graph: dict[str, set[str]] = {name: set() for name in files}

    def target(name: str) -> str | None:
        """The module ``name`` names, or its nearest enclosing module of the package."""
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    for name, path in files.items():
        here = name if _is_package(name, files) else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            found = []
            if isinstance(node, ast.Import):
                found = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.rsplit(".", node.level - 1)[0] if node.level > 1 else here
                    base = f"{base}.{node.module}" if node.module else base
                else:
                    base = node.module or ""
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    found.append(sub if sub in files else base)
            for imported in found:
                if imported == package or imported.startswith(package + "."):
                    module = target(imported)
                    if module and module != name:
                        graph[name].add(module)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm,
    iterative), each sorted; a module that imports itself is one too."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, ()):
                    found.append(sorted(component))
    return sorted(found)


def test_the_package_has_no_import_circle():
    graph = import_graph(PACKAGE_DIR, "aigc_course")
    assert "aigc_course.ops.arithmetic" in graph["aigc_course.ops.tensor_methods"]  # it reads
    found = circles(graph)
    new = [c for c in found if c not in KNOWN_CIRCLES]
    assert not new, "import circles:\n" + "\n".join(" <-> ".join(c) for c in new)
    gone = [c for c in KNOWN_CIRCLES if c not in found]
    assert not gone, f"no longer a circle, delete it from KNOWN_CIRCLES: {gone}"


def test_tensor_imports_no_op():
    graph = import_graph(PACKAGE_DIR, "aigc_course")
    assert not [m for m in graph["aigc_course._tensor"] if m.startswith("aigc_course.ops")]
    assert not [m for m in graph["aigc_course._tensor"] if m.startswith("aigc_course.autograd")]


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_circle_is_found_in_a_small_package(tmp_path):
    root = _write(
        tmp_path / "pkg",
        {
            "__init__.py": "from . import a\n",
            "a.py": "from .b import f\n",
            "b.py": "def f():\n    from .sub import c\n",  # a lazy import counts too
            "sub/__init__.py": "",
            "sub/c.py": "from .. import a\n",  # a -> b -> sub.c -> a
            "d.py": "import pkg.a\n",  # imports into the circle: not part of it
        },
    )
    graph = import_graph(root, "pkg")
    assert graph["pkg.sub.c"] == {"pkg.a"} and graph["pkg.b"] == {"pkg.sub.c"}
    assert circles(graph) == [["pkg.a", "pkg.b", "pkg.sub.c"]]


def test_a_package_naming_its_submodules_is_no_circle(tmp_path):
    root = _write(
        tmp_path / "pkg",
        {
            "__init__.py": "from .low import x\nfrom .high import y\n",
            "low.py": "x = 1\n",
            "high.py": "from .low import x\nfrom pkg import low\ny = x\n",
        },
    )
    graph = import_graph(root, "pkg")
    assert graph["pkg.high"] == {"pkg.low"}
    assert circles(graph) == []
    (root / "low.py").write_text("from . import high\nx = 1\n")  # now low <-> high
    assert circles(import_graph(root, "pkg")) == [["pkg.high", "pkg.low"]]
