"""Layer contract of the report: it renders results and computes no statistics.

Everything a report shows is computed in stats/, qual/, integrate/ or the pipeline and
carried by the results; report/ only arranges the values into tables (report/tables.py)
and renders them (HTML through autoescaped Jinja2 templates, Markdown). This test reads
the source of every module under report/ and fails on

* an import of a private name (``_name``) of another instrval package, or of a private
  module of one (``instrval.stats._common``);
* an import of a numerical library that computes statistics (scipy, statsmodels,
  sklearn) or of ``math`` functions that derive distributions (``erf``, ``erfc``);
* an import of the statistics modules' internals through a star import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import instrval

REPORT = Path(instrval.__file__).parent / "report"
STATS_LIBRARIES = ("scipy", "statsmodels", "sklearn", "pingouin", "factor_analyzer")


def _modules() -> list[Path]:
    files = sorted(REPORT.rglob("*.py"))
    assert files, "no report modules found"
    return files


def _imports(path: Path) -> list[tuple[str, str | None, int]]:
    """``(module, name, line)`` for every import in the file (name None for ``import m``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out: list[tuple[str, str | None, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, None, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:  # relative import inside instrval.report
                mod = "instrval.report" + ("." + mod if mod else "")
            out += [(mod, a.name, node.lineno) for a in node.names]
    return out


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_report_imports_no_private_names(path: Path) -> None:
    bad = []
    for mod, name, line in _imports(path):
        if not mod.startswith("instrval.") or mod.startswith("instrval.report"):
            continue
        parts = mod.split(".")[1:]
        if any(p.startswith("_") for p in parts[1:]) or (
                name is not None and name.startswith("_")) or name == "*":
            bad.append(f"{path.name}:{line}: from {mod} import {name}")
    assert not bad, "report/ imports private names of other layers:\n" + "\n".join(bad)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_report_performs_no_statistics(path: Path) -> None:
    bad = []
    for mod, name, line in _imports(path):
        top = mod.split(".")[0]
        if top in STATS_LIBRARIES:
            bad.append(f"{path.name}:{line}: import {mod}")
        if top == "math" and name in ("erf", "erfc", "lgamma", "gamma"):
            bad.append(f"{path.name}:{line}: from math import {name}")
    text = path.read_text(encoding="utf-8")
    for call in ("math.erf(", "math.erfc(", "norm.cdf(", "norm.ppf(", "np.linalg."):
        if call in text:
            bad.append(f"{path.name}: calls {call[:-1]}")
    assert not bad, "report/ computes statistics:\n" + "\n".join(bad)


def test_the_contract_catches_a_violation(tmp_path: Path) -> None:
    """The checks above can fail: a module with the old private import is caught."""
    src = tmp_path / "bad.py"
    src.write_text("from instrval.stats.agreement import _cohen_codes\n"
                   "from scipy import stats\nimport math\nx = math.erf(1.0)\n",
                   encoding="utf-8")
    found = _imports(src)
    assert ("instrval.stats.agreement", "_cohen_codes", 1) in found
    assert ("scipy", "stats", 2) in found
    with pytest.raises(AssertionError, match="private names"):
        test_report_imports_no_private_names(src)
    with pytest.raises(AssertionError, match="computes statistics"):
        test_report_performs_no_statistics(src)


def test_report_modules_do_not_import_upward_into_the_pipeline_or_cli() -> None:
    bad = [f"{p.name}:{line}: {mod}" for p in _modules() for mod, _n, line in _imports(p)
           if mod.startswith(("instrval.cli", "instrval.pipeline"))]
    assert not bad, "report/ imports a higher layer:\n" + "\n".join(bad)


TEMPLATES = REPORT / "templates"


def test_templates_autoescape_and_mark_only_svg_safe() -> None:
    """Autoescaping is on, and the only ``|safe`` is the figure macro's inline SVG."""
    from instrval.report.html import environment

    env = environment()
    assert env.autoescape is True
    assert env.from_string("{{ x }}").render(x="<b>&'\"") == "&lt;b&gt;&amp;&#x27;&quot;"
    uses = [(p.name, line) for p in sorted(TEMPLATES.rglob("*.j2"))
            for line in p.read_text(encoding="utf-8").splitlines() if "|safe" in line]
    assert uses == [("macros.html.j2",
                     "<figure>{{ svg|safe }}{% if caption %}<figcaption>{{ caption }}"
                     "</figcaption>{% endif %}</figure>")]


def test_every_section_has_a_packaged_template() -> None:
    """Each section of the report has its template, and the package data globs of
    pyproject.toml ship every template file."""
    import fnmatch

    import tomllib

    from instrval.report.html import SECTIONS

    names = {sid for sid, _ in SECTIONS}
    assert names <= {p.stem.removesuffix(".html") for p in (TEMPLATES / "sections").glob("*.j2")}
    root = Path(__file__).resolve().parents[1]
    pyproject = root / "pyproject.toml"
    if not pyproject.exists():  # pragma: no cover - installed without the sources
        pytest.skip("no pyproject.toml")
    globs = tomllib.loads(pyproject.read_text(encoding="utf-8"))[
        "tool"]["setuptools"]["package-data"]["instrval"]
    pkg = REPORT.parent
    files = [p.relative_to(pkg).as_posix() for p in TEMPLATES.rglob("*") if p.is_file()]
    unshipped = [f for f in files if not any(fnmatch.fnmatch(f, g) for g in globs)]
    assert files and not unshipped, unshipped


def test_validation_result_fields_are_typed_with_result_classes() -> None:
    """Every field of ValidationResult resolves to a real class (no ``Any`` except inside
    the ``inputs`` mapping), so the report reads attributes, never guesses them."""
    import dataclasses
    import typing

    import instrval.pipeline as pipeline

    tree = ast.parse(Path(pipeline.__file__).read_text(encoding="utf-8"))
    block = next(n for n in tree.body if isinstance(n, ast.If)
                 and getattr(n.test, "id", None) == "TYPE_CHECKING")
    ns: dict[str, object] = {}
    exec(compile(ast.Module(body=block.body, type_ignores=[]), "<types>", "exec"), ns)
    hints = typing.get_type_hints(pipeline.ValidationResult, localns=ns)
    fields = {f.name for f in dataclasses.fields(pipeline.ValidationResult)}
    assert set(hints) == fields
    untyped = [name for name, h in hints.items() if h is typing.Any]
    assert untyped == [], untyped
    # the result classes the report uses, by field
    from instrval.stats.agreement import AgreementSummary
    from instrval.stats.content_validity import ContentValidityResult

    assert hints["agreement_summary"] == AgreementSummary | None
    assert hints["content_validity"] == ContentValidityResult | None
