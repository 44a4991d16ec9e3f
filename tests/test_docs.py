"""The documentation runs: every ```python block of docs/ is executed (the blocks of one
page in order, in one namespace, in a scratch folder that sees examples/, instruments/
and tests/), every ```bash line that starts with ``instrval`` goes through the command
line, and ``mkdocs build --strict`` builds the site."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
BLOCK = re.compile(r"^```(python|bash)[^\n]*\n(.*?)^```", re.S | re.M)


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    for name in ("examples", "instruments", "tests"):
        (tmp_path / name).symlink_to(ROOT / name, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _steps(page: Path) -> list[tuple[str, str]]:
    """The page's python blocks and ``instrval`` command lines, in the page's order."""
    steps = []
    for kind, code in BLOCK.findall(page.read_text(encoding="utf-8")):
        if kind == "python":
            steps.append(("python", code))
            continue
        for line in code.splitlines():
            line = line.split(" #")[0].strip()
            if line.startswith("instrval "):
                steps.append(("bash", line))
    return steps


CODE_PAGES = [p for p in PAGES if _steps(p)]


def test_the_pages_have_code():
    assert len(CODE_PAGES) >= 10


# pages whose examples show a warning on purpose: the warning must come
EXPECTED_WARNINGS = {
    # the bifactor model of HolzingerSwineford1939 has a negative residual variance (x1), as
    # in lavaan; the page explains HeywoodWarning with it
    "methods/correlations-and-cfa.md": ("HeywoodWarning", "negative residual variance of x1"),
}


# factor_analyzer (compared with on the page) calls a scikit-learn keyword that is deprecated
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore:'force_all_finite' was renamed:FutureWarning:sklearn")
@pytest.mark.parametrize("page", CODE_PAGES,
                         ids=[str(p.relative_to(DOCS)) for p in CODE_PAGES])
def test_code_blocks_run(page, scratch):
    import instrval.errors

    expected = EXPECTED_WARNINGS.get(page.relative_to(DOCS).as_posix())
    if expected is None:
        _run_page(page)
        return
    with pytest.warns(getattr(instrval.errors, expected[0]), match=expected[1]):
        _run_page(page)


def _run_page(page: Path) -> None:
    from instrval.cli import main

    namespace: dict = {"__name__": "__docs__"}
    runner = CliRunner()
    for i, (kind, code) in enumerate(_steps(page)):
        if kind == "bash":
            args = shlex.split(code)[1:]
            res = runner.invoke(main, args, catch_exceptions=False)
            assert res.exit_code == 0, f"{page.name}: {code}\n{res.output}"
            continue
        try:
            exec(compile(code, f"{page.name}[step {i + 1}]", "exec"), namespace)
        except Exception as exc:  # noqa: BLE001 - name the block that failed
            raise AssertionError(f"{page.name}, python block at step {i + 1} fails: "
                                 f"{exc!r}") from exc


@pytest.mark.slow
def test_mkdocs_build_strict(tmp_path):
    mkdocs = shutil.which("mkdocs", path=str(Path(sys.executable).parent)) or \
        shutil.which("mkdocs")
    assert mkdocs, 'mkdocs is missing: pip install -e ".[test]" (it includes the docs extra)'
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    res = subprocess.run([mkdocs, "build", "--strict", "-q", "-d", str(tmp_path / "site")],
                         cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 0, res.stderr[-4000:]
    api = (tmp_path / "site" / "api" / "index.html").read_text(encoding="utf-8")
    assert "relevance_ratios" in api and "doc-heading" in api
