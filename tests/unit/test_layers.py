"""The layers of DESIGN.md, read off the import graph: each folder imports only its own layer
and the ones below it, reporting never reaches torch, Lightning or the models, and the top of the
package holds only the entry points people type."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from anomaly_bench import CONF_DIR

PACKAGE = CONF_DIR.parent
# Bottom to top. The package face (`anomaly_bench/__init__.py`: CONF_DIR, the resolvers) may be
# imported from anywhere.
LAYERS = (
    "settings",
    "data",
    "models",
    "evaluation",
    "store",
    "engine",
    "reporting",
    "benchmarks",
    "entry points",
)
ENTRY_POINTS = {
    "cli",
    "train",
    "predict",
    "pictures",
    "report",
    "demo",
    "bench",
    "memory_sparsity",
    "batchnorm_check",
    "gpu_session",
    "results_page",
}
# Layers that must never pull in the deep-learning stack, directly or through what they import.
TORCH_FREE = ("settings", "store", "reporting")
HEAVY = ("torch", "lightning", "torchmetrics", "torchvision")


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at any depth of its code (function-level imports too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def layer_of(module: str) -> str | None:
    """The layer of a package module; None for the package face."""
    parts = module.split(".")
    if len(parts) == 1:
        return None
    return "entry points" if parts[1] in ENTRY_POINTS else parts[1]


def package_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """{module: the package modules and outside top-level packages it imports}."""
    files = {module_name(path, root): path for path in root.rglob("*.py")}
    graph = {}
    for module, path in files.items():
        targets = set()
        for imported in imports_of(path):
            if imported.split(".")[0] != "anomaly_bench":
                targets.add(imported.split(".")[0])
            elif imported in files:
                targets.add(imported)
        graph[module] = targets
    return graph


def wrong_way_imports(graph: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module, targets in graph.items():
        here = layer_of(module)
        if here is None:
            continue
        for target in targets:
            there = layer_of(target) if target.startswith("anomaly_bench") else None
            if there is not None and LAYERS.index(there) > LAYERS.index(here):
                wrong.append(f"{module} ({here}) -> {target} ({there})")
    return sorted(wrong)


def heavy_reach(graph: dict[str, set[str]], module: str) -> set[str]:
    """The deep-learning packages `module` reaches through the package modules it imports."""
    seen, todo, reached = set(), [module], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for target in graph.get(current, ()):
            if target in HEAVY:
                reached.add(f"{target} (via {current})")
            elif target.startswith("anomaly_bench.") and layer_of(target) is not None:
                todo.append(target)
    return reached


def test_every_import_points_down_the_layers():
    graph = package_graph()
    assert {layer_of(m) for m in graph} - {None} <= set(LAYERS)
    assert wrong_way_imports(graph) == []


@pytest.mark.parametrize("layer", TORCH_FREE)
def test_the_torch_free_layers_never_reach_torch_lightning_or_the_models(layer):
    graph = package_graph()
    members = [m for m in graph if layer_of(m) == layer]
    assert members
    for module in members:
        assert heavy_reach(graph, module) == set(), module


def test_the_top_of_the_package_holds_only_entry_points():
    loose = {path.stem for path in PACKAGE.glob("*.py")} - {"__init__"}
    assert loose == ENTRY_POINTS


def test_the_rule_catches_a_wrong_way_import(tmp_path):
    """A data module that imports the engine, and a report that imports a model: both found."""
    fake = tmp_path / "anomaly_bench"
    for folder in ("data", "engine", "reporting", "models"):
        (fake / folder).mkdir(parents=True)
        (fake / folder / "__init__.py").write_text("")
    (fake / "__init__.py").write_text("")
    (fake / "engine" / "run.py").write_text("import torch\n")
    (fake / "models" / "base.py").write_text("import lightning\n")
    (fake / "data" / "loaders.py").write_text("from anomaly_bench.engine.run import x\n")
    (fake / "reporting" / "page.py").write_text("from anomaly_bench.models import base\n")
    graph = package_graph(fake)
    assert wrong_way_imports(graph) == [
        "anomaly_bench.data.loaders (data) -> anomaly_bench.engine.run (engine)"
    ]
    assert heavy_reach(graph, "anomaly_bench.reporting.page") == {
        "lightning (via anomaly_bench.models.base)"
    }
