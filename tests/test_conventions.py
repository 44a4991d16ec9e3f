"""The package's conventions, checked: the layer contract of docs/architecture.md, no
private names imported across modules (except the listed ones), and the public API's
three lists (``__all__``, the lazy map, the TYPE_CHECKING block) naming the same things."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import instrval

SRC = Path(__file__).resolve().parents[1] / "src" / "instrval"

#: docs/architecture.md's table: package -> the parts of instrval it may import.
#: ``_jsonable``, ``_choices``, ``_result``, ``_version``, ``_limits`` and ``plot`` are
#: leaves that any layer may use (``_choices`` imports ``errors`` when it raises;
#: ``_limits`` imports ``errors``; ``_result`` imports ``_jsonable`` and, when a figure is
#: asked for, ``plot``).
LEAVES = {"_jsonable", "_choices", "_result", "_version", "_limits", "plot"}
BASE = {"errors"} | LEAVES
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "_version": set(),
    "_jsonable": set(),
    "_choices": {"errors"},
    "_limits": {"errors"},
    "_result": {"_jsonable", "plot", "errors"},
    "plot": set(),
    "model": BASE,
    "validate": BASE | {"model"},
    "io": BASE | {"model", "validate"},
    "datasets": BASE | {"model", "validate", "io"},
    "stats": BASE | {"model"},
    "qual": BASE | {"model", "stats"},
    "integrate": BASE | {"model", "validate", "io", "datasets", "stats", "qual"},
    "report": BASE | {"model", "validate", "io", "datasets", "stats", "qual", "integrate"},
    "pipeline": BASE | {"model", "validate", "io", "datasets", "stats", "qual", "integrate",
                        "report"},
}

#: Private names imported from another module, each with its reason. New ones fail the
#: test: make the name public, or move it to a module both sides may import.
PRIVATE_IMPORTS: dict[tuple[str, str, str], str] = {
    ("instrval.io.instrument", "instrval.model.instrument", "_build"):
        "the reader builds the model from checked data without checking it twice",
    ("instrval.io.exports.xlsform", "instrval.io.coding", "_open_zip"):
        "one guarded way to open an .xlsx (zip) file for every reader",
    ("instrval.stats.correlation", "instrval.stats.polychoric", "_listwise"):
        "one listwise-deletion rule for all correlation kinds",
    ("instrval.stats.dimensionality", "instrval.stats.efa", "_eigh_desc"):
        "parallel analysis and MAP use EFA's eigen decomposition",
    ("instrval.stats.dimensionality", "instrval.stats.efa", "_extract"):
        "parallel analysis reduces the matrix with EFA's extraction",
    ("instrval.stats.dimensionality", "instrval.stats.efa", "_is_correlation"):
        "one test of 'is this a correlation matrix'",
    **{("instrval.stats.sem.wlsmv", "instrval.stats.cfa_ordinal", name):
       "WLSMV invariance reuses ordinal CFA's first stages and its scaled fit indices"
       for name in ("_stage12", "_cfi", "_rmsea", "_tli")},
    **{("instrval.io.dask_engine", "instrval.io.engine", name):
       "the Dask engine runs the columnar engine's plan, SQL and checks on each part"
       for name in ("_SRC", "_agg_df", "_check_rest", "_connect", "_counters", "_plan",
                    "_schema", "_source_sql")},
    ("instrval.io.engine", "instrval.validate.ratings", "_norm_key"):
        "column names are matched to item ids by the checker's one normalisation",
    **{("instrval.stats.cfa_ordinal", "instrval.stats.polychoric", name):
       "ordinal CFA's weight matrix needs the polychoric cell probabilities"
       for name in ("_cell_probabilities", "_solve_pairs")},
}


def _modules() -> list[tuple[str, ast.Module]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out.append((name, ast.parse(path.read_text(encoding="utf-8"))))
    return out


def _imports(tree: ast.Module) -> list[tuple[str, list[str]]]:
    """Every import of instrval in ``tree``, at any depth (lazy imports count too)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
                node.module == "instrval" or node.module.startswith("instrval.")):
            found.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.ImportFrom) and node.level:
            found.append(("<relative>", [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name.startswith("instrval")]
    return found


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "instrval"


MODULES = _modules()


def test_the_contract_covers_every_package():
    parts = {_part(m) for m, _ in MODULES} - {"instrval", "cli", "__main__"}
    assert parts <= set(ALLOWED), f"add {sorted(parts - set(ALLOWED))} to the table"


@pytest.mark.parametrize("module,tree", MODULES, ids=[m for m, _ in MODULES])
def test_no_upward_import(module, tree):
    part = _part(module)
    if part in ("instrval", "cli", "__main__"):
        return  # the public API and the command line may import everything
    bad = []
    for target, names in _imports(tree):
        if target == "<relative>":
            bad.append(f"relative import of {names}")
            continue
        other = _part(target)
        if target == "instrval":
            bad.append(f"'from instrval import {', '.join(names)}' (use the defining module)")
        elif other != part and other not in ALLOWED[part]:
            bad.append(f"{target} ({other} is not below {part})")
    assert not bad, f"{module} imports upwards: " + "; ".join(bad)


def test_no_private_names_across_modules():
    found = set()
    for module, tree in MODULES:
        for target, names in _imports(tree):
            if target in (module, "<relative>"):
                continue
            found |= {(module, target, n) for n in names
                      if n.startswith("_") and not n.startswith("__")}
    unlisted = sorted(found - set(PRIVATE_IMPORTS))
    assert not unlisted, ("private names imported from another module (make them public "
                          f"or list them with a reason): {unlisted}")
    stale = sorted(set(PRIVATE_IMPORTS) - found)
    assert not stale, f"listed private imports that no module makes any more: {stale}"


def test_the_contract_fails_on_an_upward_import():
    tree = ast.parse("def f():\n    from instrval.report.html import render_html\n")
    targets = [_part(t) for t, _ in _imports(tree)]
    assert targets == ["report"] and "report" not in ALLOWED["stats"]


# ----------------------------------------------------------------------------- public API
def _type_checking_names() -> dict[str, str]:
    tree = ast.parse((SRC / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            return {a.asname or a.name: imp.module for imp in node.body
                    if isinstance(imp, ast.ImportFrom) for a in imp.names}
    raise AssertionError("no TYPE_CHECKING block in instrval/__init__.py")


def _eager_names() -> set[str]:
    tree = ast.parse((SRC / "__init__.py").read_text(encoding="utf-8"))
    return {a.asname or a.name for node in tree.body if isinstance(node, ast.ImportFrom)
            and node.module and node.module.startswith("instrval") for a in node.names}


def test_all_lazy_map_and_type_checking_block_agree():
    lazy = instrval._LAZY
    typed = _type_checking_names()
    eager = _eager_names()
    assert len(instrval.__all__) == len(set(instrval.__all__)), "duplicates in __all__"
    assert set(instrval.__all__) == set(lazy) | eager
    assert set(typed) == set(lazy)
    wrong = {n: (lazy[n], typed[n]) for n in lazy if typed[n] != lazy[n]}
    assert not wrong, f"lazy map and TYPE_CHECKING import from different modules: {wrong}"
    assert not set(lazy) & eager


def test_every_public_name_resolves():
    for name in instrval.__all__:
        assert getattr(instrval, name) is not None, name
