"""--json on every command: the commands that write files list them under "written"."""

from __future__ import annotations

import json
from pathlib import Path

import click
import yaml
from click.testing import CliRunner

from instrval.cli import main

ROOT = Path(__file__).resolve().parents[1]
IAM = str(ROOT / "instruments" / "iam" / "iam-2011.yaml")


def _leaves(cmd: click.Command, path: list[str]) -> list[tuple[str, click.Command]]:
    if isinstance(cmd, click.Group):
        return [leaf for name, sub in sorted(cmd.commands.items())
                for leaf in _leaves(sub, [*path, name])]
    return [(" ".join(path), cmd)]


def test_every_command_takes_json():
    missing = [name for name, cmd in _leaves(main, ["instrval"])
               if not any(p.name == "as_json" for p in cmd.params)]
    assert not missing, f"commands without --json: {missing}"


def _run(args: list[str]) -> dict:
    res = CliRunner().invoke(main, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_export_import_and_schema_json(tmp_path):
    out = tmp_path / "iam.csv"
    got = _run(["instrument", "export", IAM, "--format", "redcap", "--out", str(out),
                "--json"])
    assert got["written"] == [str(out)] and out.exists() and got["format"] == "redcap"
    back = _run(["instrument", "import", str(out), "--from", "redcap", "--id", "iam",
                 "--version", "2011", "--json"])
    assert back["written"] == [] and back["instrument"]["id"] == "iam"
    assert len([i for c in back["instrument"]["constructs"] for i in c["items"]]) == 23
    target = tmp_path / "iam.yaml"
    again = _run(["instrument", "import", str(out), "--from", "redcap", "--id", "iam",
                  "--version", "2011", "--out", str(target), "--json"])
    assert again["written"] == [str(target)]
    assert yaml.safe_load(target.read_text())["id"] == "iam"
    schema = tmp_path / "s.json"
    assert _run(["instrument", "schema", "--out", str(schema), "--json"]) == {
        "written": [str(schema)]}
    assert json.loads(schema.read_text())["type"] == "object"


def test_map_template_and_generate_iam_json(tmp_path):
    data = ROOT / "examples" / "iam" / "data" / "iam-sample.csv"
    got = _run(["ratings", "map-template", str(data), "--instrument", IAM, "--json"])
    assert got["written"] == [] and isinstance(got["mapping"], dict)
    gen = _run(["ratings", "generate-iam", "--out", str(tmp_path), "--n-ratings", "200",
                "--json"])
    assert gen["written"] == [str(tmp_path / "iam-ratings-2012.csv")]
    assert gen["n_ratings"] == 200 and gen["seed"] == 2012
    assert (tmp_path / "iam-ratings-2012.csv").exists()
