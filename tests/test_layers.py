"""The design's layering holds: no stage imports another stage, nothing imports a layer above its own."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "veille"
STAGES = {"collect", "store", "tag", "digest", "export"}
ORCHESTRATION = {"context", "pipeline"}
ENTRY = {"cli", "schedule", "workers", "web", "demo", "progress", "evaluate", "__main__"}  # callers of the layers below
LEVEL = {**{s: 1 for s in STAGES}, **{o: 2 for o in ORCHESTRATION}, **{e: 3 for e in ENTRY}}  # the rest: 0


def _unit(module: str) -> str:
    """The layer unit of a dotted module name inside the package: its first part below `veille`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("veille"):
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names if node.module == "veille"}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("veille")}
    return found


def test_no_stage_imports_another_and_no_layer_imports_upwards():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = "veille." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        unit = _unit(module)
        for imported in _imports(path):
            other = _unit(imported)
            if other in ("__init__", unit):
                continue
            if LEVEL.get(other, 0) > LEVEL.get(unit, 0) or (unit in STAGES and other in STAGES):
                wrong.append(f"{module} imports {imported}")
    assert not wrong, "\n".join(wrong)
