"""The layout the code promises: no import cycle inside ipm/ (imports at any depth count), no
model module imports another, the core imports nothing from the layers above it, and nothing
outside tests/ edits sys.path."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ("distributions", "kernels", "ntk", "flows", "solvers", "particles", "schedules", "optim")
ABOVE = ("models", "engine", "data", "metrics", "evaluate", "cli", "sweeps", "compare", "curves")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module → the ipm modules it imports (absolute or relative, at any depth)."""
    files = {module_name(p): p for p in (ROOT / "ipm").rglob("*.py")}
    graph = {}
    for mod, path in files.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        out = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                out |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + [node.module] if node.module else base)
                target = target if node.level else node.module
                out |= {target} | {f"{target}.{a.name}" for a in node.names}
        graph[mod] = {t for t in out if t in files and t != mod}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_inside_ipm():
    graph = import_graph()
    assert len(graph) > 80 and cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_models_do_not_import_each_other_and_the_core_not_the_layers_above():
    graph = import_graph()
    for mod, targets in graph.items():
        if mod.startswith("ipm.models.") and not mod.endswith(".base"):
            assert {t for t in targets if t.startswith("ipm.models")} <= {"ipm.models.base"}, mod
        if mod.split(".")[1:2] and mod.split(".")[1] in CORE:
            above = {t for t in targets if t.split(".")[1:2] and t.split(".")[1] in ABOVE}
            assert above == set(), (mod, above)


def test_nothing_outside_tests_edits_sys_path():
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in ("tests", ".venv", ".venv-ci") or "site-packages" in rel.parts:
            continue
        assert "sys.path" not in path.read_text(), rel
