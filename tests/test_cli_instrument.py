"""`instrval instrument ...` and `instrval publish`: exit codes, output, JSON keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from instrval.cli import main
from instrval.io.instrument import read_instrument, write_instrument

ROOT = Path(__file__).resolve().parents[1]
IAM = str(ROOT / "instruments/iam/iam-2011.yaml")
BFI = str(ROOT / "instruments/bfi/bfi-1.0.yaml")


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize("cmd", [["instrument"], ["instrument", "check"],
                                 ["instrument", "show"], ["instrument", "diff"],
                                 ["instrument", "schema"], ["instrument", "export"],
                                 ["instrument", "import"], ["publish"]])
def test_help_has_example(cmd):
    r = run(*cmd, "--help")
    assert r.exit_code == 0
    assert "Example:" in r.output and "instrval " in r.output.split("Example:")[1]


def test_check_ok_and_problems(tmp_path):
    r = run("instrument", "check", IAM, BFI)
    assert r.exit_code == 0
    assert r.output.splitlines() == [
        f"OK {IAM} (iam@2011: 4 constructs, 23 items, 2 gates)",
        f"OK {BFI} (bfi@1.0: 5 constructs, 25 items, 0 gates)",
    ]
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(IAM).read_text().replace('open_when: "yes"', 'open_when: "maybe"', 1)
                   .replace("kind: single_choice", "kind: single"))
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: [x\n")
    r = CliRunner().invoke(main, ["instrument", "check", IAM, str(bad), str(broken)])
    assert r.exit_code == 1
    lines = r.output.splitlines()
    assert lines[0].startswith("OK ")
    assert any(f"{bad}:" in ln and "at constructs[1].kind" in ln and "[invalid_value]" in ln
               for ln in lines)
    assert any("at constructs[2].gate.open_when" in ln and "[gate_open_when]" in ln
               for ln in lines)
    assert any(f"{broken}:" in ln and "[yaml_syntax]" in ln for ln in lines)
    assert "3 problems in 2 of 3 files" in r.output


def test_check_json(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(BFI).read_text().replace("scale: accuracy6", "scale: acc", 1))
    r = CliRunner().invoke(main, ["instrument", "check", "--json", BFI, str(bad)])
    assert r.exit_code == 1
    d = json.loads(r.output)
    assert d["ok"] is False
    assert [f["ok"] for f in d["files"]] == [True, False]
    (p,) = d["files"][1]["problems"]
    assert p["reason"] == "unknown_scale" and p["key"] == "constructs[0].scale"
    assert isinstance(p["line"], int)


def test_show(tmp_path):
    r = run("instrument", "show", IAM)
    assert r.exit_code == 0
    assert "4 constructs, 23 items, 2 gates" in r.output
    assert "use_gate" in r.output and "ci_learned_new" in r.output
    d = json.loads(run("instrument", "show", BFI, "--json").output)
    assert set(d) >= {"id", "version", "title", "status", "counts", "constructs", "gates",
                      "items"}
    assert d["counts"] == {"constructs": 5, "items": 25, "gates": 0}
    assert d["items"][0] == {"item_id": "A1", "construct_id": "agreeableness",
                             "label": "Am indifferent to the feelings of others",
                             "reverse": True, "code": 1}


def test_diff(tmp_path):
    inst = read_instrument(IAM)
    data = inst.to_dict()
    data["version"] = "2012"
    data["constructs"][0]["items"][1]["label"] = "I learned something"
    new = write_instrument(type(inst).from_dict(data), tmp_path / "iam-2012.yaml")
    r = run("instrument", "diff", IAM, str(new))
    assert r.exit_code == 0
    assert "## Changes from iam@2011 to iam@2012" in r.output
    assert "Reworded `ci_learned_new` (label)" in r.output
    d = json.loads(run("instrument", "diff", IAM, str(new), "--json").output)
    assert d["counts"] == {"metadata_changed": 1, "item_reworded": 1}
    assert set(d["changes"][1]) == {"change", "item_id", "construct_id", "field", "old", "new"}


def test_schema(tmp_path):
    r = run("instrument", "schema")
    schema = json.loads(r.output)
    assert schema["$schema"].endswith("2020-12/schema")
    out = tmp_path / "s.json"
    r = run("instrument", "schema", "--out", str(out))
    assert r.exit_code == 0 and json.loads(out.read_text()) == schema


def test_export_and_import(tmp_path):
    for fmt, ext in (("fhir", "json"), ("redcap", "csv"), ("xlsform", "xlsx")):
        out = tmp_path / f"iam.{ext}"
        r = run("instrument", "export", IAM, "--format", fmt, "--out", str(out))
        assert r.exit_code == 0 and out.exists(), r.output
    r = run("instrument", "export", IAM, "--format", "fhir", "--out", str(tmp_path / "q.json"),
            "--base-url", "https://fhir.example.org/Questionnaire")
    assert json.loads((tmp_path / "q.json").read_text())["url"].startswith("https://")
    r = CliRunner().invoke(main, ["instrument", "export", IAM, "--format", "redcap", "--out",
                                  str(tmp_path / "x.csv"), "--base-url", "x"])
    assert r.exit_code == 1 and "--base-url applies to --format fhir only" in r.output
    r = CliRunner().invoke(main, ["instrument", "export", IAM, "--format", "spss", "--out", "x"])
    assert r.exit_code == 2
    # import back
    out = tmp_path / "back.yaml"
    r = run("instrument", "import", str(tmp_path / "iam.csv"), "--from", "redcap", "--id", "iam",
            "--version", "2011", "--title", "IAM", "--out", str(out))
    assert r.exit_code == 0
    assert read_instrument(out).constructs == read_instrument(IAM).constructs
    r = run("instrument", "import", str(tmp_path / "iam.csv"), "--from", "redcap", "--id", "iam",
            "--version", "2011")
    assert r.output.startswith('format_version: "1.0"') or r.output.startswith(
        "format_version: '1.0'")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    r = CliRunner().invoke(main, ["instrument", "import", str(bad), "--from", "redcap",
                                  "--id", "x", "--version", "1"])
    assert r.exit_code == 1 and "missing column(s)" in r.output


def test_publish(tmp_path):
    reg = tmp_path / "reg"
    r = run("publish", IAM, "--registry", str(reg))
    assert r.exit_code == 0 and r.output.startswith("published iam@2011 (validated)")
    r = run("publish", IAM, "--registry", str(reg), "--json")
    d = json.loads(r.output)
    assert d["created"] is False and set(d) == {"id", "version", "status", "path", "sha256",
                                                 "published_at", "created", "message"}
    changed = tmp_path / "iam.yaml"
    changed.write_text(Path(IAM).read_text().replace("title: Information", "title: The Info"))
    r = CliRunner().invoke(main, ["publish", str(changed), "--registry", str(reg)])
    assert r.exit_code == 1
    assert "already published" in r.output and "never overwritten" in r.output
