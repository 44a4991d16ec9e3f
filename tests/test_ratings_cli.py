"""`instrval ratings check / map-template / generate-iam` (hand-worked counts)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from instrval.cli import main

ROOT = Path(__file__).resolve().parents[1]
IAM = str(ROOT / "instruments" / "iam" / "iam-2011.yaml")
SAMPLE = ROOT / "examples" / "iam" / "data" / "iam-sample.csv"


def run(*args):
    return CliRunner().invoke(main, list(map(str, args)), catch_exceptions=False)


def test_check_json_keys_and_counts():
    r = run("ratings", "check", SAMPLE, "--instrument", IAM, "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    for k in ("read", "accepted", "quarantined", "respondents", "presented", "gates_open",
              "problems"):
        assert k in d
    assert (d["read"], d["accepted"], d["quarantined"], d["respondents"]) == (3000, 3000, 0, 72)
    assert d["problems"] == []
    assert set(d["presented"]) == {"cognitive_impact", "clinical_relevance",
                                   "intention_to_use", "health_benefit"}


def test_check_text_quarantine_and_strict(tmp_path):
    lines = SAMPLE.read_text().splitlines()[:6]
    cells = lines[3].split(",")
    cells[4] = "7"
    lines[3] = ",".join(cells)
    p = tmp_path / "f.csv"
    p.write_text("\n".join(lines) + "\n")
    q = tmp_path / "q.csv"
    r = run("ratings", "check", p, "--instrument", IAM, "--quarantine", q)
    assert r.exit_code == 0, r.output
    assert "reconciliation:      4 + 1 = 5 = 5 read" in r.output
    assert "out_of_range" in r.output
    qt = pd.read_csv(q, dtype=str)
    assert qt["row"].tolist() == ["4"] and qt["reason"].tolist() == ["out_of_range"]
    assert qt["ci_practice_improved"].tolist() == ["7"]
    r = run("ratings", "check", p, "--instrument", IAM, "--strict", "--json")
    assert r.exit_code == 1
    d = json.loads(r.output[: r.output.rindex("}") + 1])
    assert d["problems"][0] == {"row": 4, "column": "ci_practice_improved", "value": "7",
                                "reason": "out_of_range", "severity": "error",
                                "message": "7 is not an allowed code of ci_practice_improved"
                                           " (allowed: 0, 1)"}


def test_check_nothing_usable_exits_1(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("rating_id,respondent_id,ci_learned_new\nr1,,1\n")
    r = run("ratings", "check", p, "--instrument", IAM)
    assert r.exit_code == 1
    assert "nothing usable" in r.output
    p.write_text("")
    r = run("ratings", "check", p, "--instrument", IAM)
    assert r.exit_code == 1 and "empty" in r.output


def test_map_template_and_generate(tmp_path):
    out = tmp_path / "m.yaml"
    r = run("ratings", "map-template", SAMPLE, "--instrument", IAM, "--out", out)
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert "ci_learned_new: ci_learned_new" in text and "specialty" in text
    r = run("ratings", "generate-iam", "--out", tmp_path / "g", "--n-ratings", 500,
            "--format", "csv", "--format", "redcap", "--format", "parquet",
            "--instrument", IAM)
    assert r.exit_code == 0, r.output
    files = sorted(f.name for f in (tmp_path / "g").iterdir())
    assert files == ["iam-ratings-2012.csv", "iam-ratings-2012.parquet",
                     "iam-redcap-dictionary.csv", "iam-redcap.csv"]
    r = run("ratings", "check", tmp_path / "g" / "iam-redcap.csv", "--instrument", IAM,
            "--dictionary", tmp_path / "g" / "iam-redcap-dictionary.csv", "--json")
    assert json.loads(r.output)["accepted"] == 500
