"""docs/cli.md is generated from the commands and must match them; every command's
help shows an example."""

from pathlib import Path

import click
from click.testing import CliRunner

from instrval.cli import main
from instrval.cli._docs import cli_reference

ROOT = Path(__file__).resolve().parents[1]


def _commands(cmd, path):
    yield path, cmd
    if isinstance(cmd, click.Group):
        ctx = click.Context(cmd)
        for name in cmd.list_commands(ctx):
            yield from _commands(cmd.get_command(ctx, name), [*path, name])


def test_cli_reference_is_current():
    committed = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert committed == cli_reference(), (
        "docs/cli.md is out of date: run `python -m instrval.cli._docs > docs/cli.md`")


def test_every_command_has_help_with_an_example():
    runner = CliRunner()
    for path, cmd in _commands(main, []):
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        if not isinstance(cmd, click.Group) or not path:
            assert "Example" in result.output, f"`instrval {' '.join(path)} --help` shows no example"


def test_python_m_instrval_works():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "instrval", "--version"],
                          capture_output=True, text=True)
    assert proc.returncode == 0
    assert "instrval" in proc.stdout
