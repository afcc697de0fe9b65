"""The shape of the package, pinned by reading its source (an import-linter of our own):

- the import graph of ``rempart`` has no cycle (imports inside functions count too);
- pure modules never reach SQLAlchemy, FastAPI or the web, API, store, CLI or runtime layers,
  directly or through another rempart module;
- the lower packages import nothing above them (data flows signals -> matching -> ... -> web);
- imports sit at the top of modules, except where a documented reason is listed here;
- each rule with a number has one definition: the PDQ quality floor and the match threshold.

Edges follow import-linter's convention: ``from a.b import c`` is an import of ``a.b.c`` when
that is a module, else of ``a.b``; a package's ``__init__`` is not implied by importing one of
its modules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import rempart

ROOT = Path(rempart.__file__).parent


@dataclass(frozen=True)
class Edge:
    source: str
    target: str  # a rempart module, or a third-party top-level package
    line: int
    local: bool  # inside a function


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[Edge]:
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    local_nodes = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                   for n in ast.walk(f)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                       for a in node.names]
        else:
            continue
        for target in targets:
            if not target.startswith("rempart"):
                target = target.split(".")[0]
            else:
                while target not in MODULES:  # rempart.x.Name -> rempart.x
                    target = target.rpartition(".")[0]
            yield Edge(name, target, node.lineno, id(node) in local_nodes)


EDGES = [e for name, path in MODULES.items() for e in _imports(name, path)]
GRAPH: dict[str, set[str]] = {name: set() for name in MODULES}
for _e in EDGES:
    if _e.target in MODULES and _e.target != _e.source:
        GRAPH[_e.source].add(_e.target)


def _cycles() -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return out


def _reach(start: str) -> dict[str, list[str]]:
    """Every module and third-party package ``start`` imports, directly or not, with a path."""
    paths = {start: [start]}
    todo = [start]
    while todo:
        here = todo.pop()
        for e in EDGES:
            if e.source == here and e.target not in paths:
                paths[e.target] = paths[here] + [e.target]
                if e.target in MODULES:
                    todo.append(e.target)
    return paths


def test_the_import_graph_has_no_cycle():
    assert _cycles() == []


PURE = sorted(
    name for name in MODULES
    if name.startswith(("rempart.signals", "rempart.matching"))
    or (name.startswith("rempart.legal") and not name.startswith("rempart.legal.db"))
    or (name.startswith("rempart.transparency") and not name.startswith("rempart.transparency.db"))
    or name in {
        "rempart.errors", "rempart.authz", "rempart.authz.permissions", "rempart.authz.principal",
        "rempart.banks.formats", "rempart.banks.ncmec_xml", "rempart.banks.entries",
        "rempart.moderation.vocab", "rempart.moderation.policy", "rempart.moderation.log_fields",
        "rempart.moderation.priority", "rempart.moderation.clocks", "rempart.moderation.dual",
        "rempart.moderation.exposure", "rempart.moderation.signing", "rempart.moderation.config",
        "rempart.moderation.errors", "rempart.scanning.verdict",
        "rempart.hotline.vocab", "rempart.hotline.errors", "rempart.hotline.notices",
        "rempart.hotline.links", "rempart.hotline.stats", "rempart.hotline.config",
        "rempart.exchanges.vocab", "rempart.exchanges.errors", "rempart.exchanges.protocols",
        "rempart.exchanges.protocols._json", "rempart.exchanges.protocols.ncmec",
        "rempart.exchanges.protocols.threatexchange", "rempart.exchanges.protocols.stopncii",
        "rempart.exchanges.protocols.feed",
    })
FORBIDDEN = ("sqlalchemy", "alembic", "fastapi", "starlette", "jinja2", "rempart.web", "rempart.api",
             "rempart.store", "rempart.cli", "rempart.runtime")


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_never_reach_the_database_or_the_web(module):
    assert module in MODULES
    bad = {t: " -> ".join(p) for t, p in _reach(module).items()
           if t != module and any(t == f or t.startswith(f + ".") for f in FORBIDDEN)}
    assert bad == {}


#: the rempart packages each lower package may import (besides itself)
LAYERS = {
    "rempart.signals": {"rempart.errors"},
    "rempart.matching": {"rempart.errors", "rempart.signals"},
    "rempart.transparency": {"rempart.errors"},  # its core; transparency.db sits above
}


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_lower_packages_import_nothing_above_them(package):
    allowed = LAYERS[package] | {package}
    bad = sorted(f"{e.source}:{e.line} imports {e.target}" for e in EDGES
                 if (e.source == package or e.source.startswith(package + "."))
                 and not e.source.startswith("rempart.transparency.db")
                 and e.target.startswith("rempart")
                 and not any(e.target == a or e.target.startswith(a + ".") for a in allowed))
    assert bad == []


#: where an import may sit inside a function, and why
LOCAL_IMPORTS_ALLOWED = {
    "rempart.cli": "commands import the domain packages when they run, so that `rempart --help` "
                   "loads typer alone (see rempart/cli/__init__.py)",
    "rempart.matching.segment": "numba compiles its kernels on first use: importing "
                                "rempart.matching stays fast (see the module)",
    "rempart.matching.feature_index": "stage 2's numba kernels, loaded on first use (see "
                                      "rempart/matching/_feature_kernels.py)",
    "rempart.signals.pdq": "numba compiles the PDQ kernels on first use: importing "
                           "rempart.signals stays fast (see rempart/signals/_kernels.py)",
    "rempart.signals.trim": "the border scan's numba kernel, loaded on first use",
}


def test_imports_sit_at_the_top_of_modules():
    bad = sorted(f"{e.source}:{e.line} imports {e.target}" for e in EDGES if e.local
                 and not any(e.source == m or e.source.startswith(m + ".")
                             for m in LOCAL_IMPORTS_ALLOWED))
    assert bad == []


#: (module, name) of each rule that is a number, defined once
ONE_DEFINITION = {"LOW_QUALITY": "rempart.signals.pdq", "DEFAULT_THRESHOLD": "rempart.signals.pdq"}
#: the numbers themselves: written nowhere else as a literal compared, defaulted or passed on
NUMBERS = {50: "LOW_QUALITY", 31: "DEFAULT_THRESHOLD"}


def _number_uses(tree: ast.AST) -> Iterator[tuple[int, int]]:
    for node in ast.walk(tree):
        candidates: list[ast.AST] = []
        if isinstance(node, ast.Compare):
            candidates = [node.left, *node.comparators]
        elif isinstance(node, ast.arguments):
            candidates = [*node.defaults, *node.kw_defaults]
        elif isinstance(node, ast.Call):
            candidates = [*node.args, *(k.value for k in node.keywords)]
        elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            candidates = [node.value]
        for c in candidates:
            if isinstance(c, ast.Constant) and type(c.value) is int and c.value in NUMBERS:
                yield c.value, c.lineno


def test_the_quality_floor_and_threshold_have_one_definition():
    defined = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                for t in node.targets:
                    if isinstance(t, ast.Name) and t.id in ONE_DEFINITION:
                        defined.setdefault(t.id, []).append(name)
    assert defined == {k: [m] for k, m in ONE_DEFINITION.items()}


def test_the_quality_floor_and_threshold_are_not_written_as_numbers():
    literals = []
    for name, path in MODULES.items():
        for value, line in _number_uses(ast.parse(path.read_text())):
            where = f"{name}:{line}"
            related = {"LOW_QUALITY": ("quality", "floor"), "DEFAULT_THRESHOLD": ("threshold",)}
            source = path.read_text().splitlines()[line - 1].lower()
            if name != ONE_DEFINITION[NUMBERS[value]] and any(w in source for w in related[NUMBERS[value]]):
                literals.append(f"{where}: {value} (use {NUMBERS[value]})")
    assert literals == []
