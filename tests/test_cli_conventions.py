"""Conventions every command shares: ``-`` reads standard input (through the readers' size
limit), ``--force`` is the one overwrite policy of the commands that write files, and
``instrval --quiet`` / ``--verbose`` control what goes to standard error."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BFI = ROOT / "tests/data/bfi.csv"
HS = ROOT / "tests/data/HolzingerSwineford1939.csv"
IAM = ROOT / "instruments/iam/iam-2011.yaml"
IAM_SAMPLE = ROOT / "examples/iam/data/iam-sample.csv"
BFI_INST = ROOT / "instruments/bfi/bfi-1.0.yaml"
ITEMS = "A1,A2,A3,A4,A5"


# ------------------------------------------------------------------------------ stdin
def _json(r):
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


@pytest.mark.parametrize("args", [
    ("reliability", "--items", ITEMS),
    ("efa", "--items", ITEMS, "--factors", "1"),
    ("correlations", "--items", ITEMS),
    ("score", "--instrument", BFI_INST),
])
def test_dash_reads_stdin_like_the_file(run_cli, args):
    cmd, *rest = args
    from_file = _json(run_cli(cmd, BFI, *rest, "--json"))
    from_stdin = _json(run_cli(cmd, "-", *rest, "--json", input=BFI.read_bytes()))
    assert json.dumps(from_stdin, sort_keys=True) == json.dumps(from_file, sort_keys=True)


def test_dash_reads_gzip_stdin(run_cli):
    a = _json(run_cli("reliability", BFI, "--items", ITEMS, "--json"))
    b = _json(run_cli("reliability", "-", "--items", ITEMS, "--json",
                      input=gzip.compress(BFI.read_bytes())))
    assert json.dumps(b, sort_keys=True) == json.dumps(a, sort_keys=True)


def test_dash_reads_a_rating_export(run_cli):
    a = _json(run_cli("ratings", "check", IAM_SAMPLE, "--instrument", IAM, "--json"))
    b = _json(run_cli("ratings", "check", "-", "--instrument", IAM, "--json",
                      input=IAM_SAMPLE.read_bytes()))
    assert a["read"] > 0
    assert {k: b[k] for k in ("read", "accepted", "quarantined", "respondents", "presented")} \
        == {k: a[k] for k in ("read", "accepted", "quarantined", "respondents", "presented")}


def test_dash_reads_the_cfa_data(run_cli, tmp_path):
    model = tmp_path / "hs.lav"
    model.write_text("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n")
    a = _json(run_cli("cfa", HS, "--model", model, "--json"))
    b = _json(run_cli("cfa", "-", "--model", model, "--json", input=HS.read_bytes()))
    assert a == b


def test_stdin_errors_name_stdin(run_cli):
    r = run_cli("reliability", "-", "--items", "A1,ZZ", input=BFI.read_bytes())
    assert r.exit_code == 1
    assert "<stdin>" in r.stderr and "instrval-stdin-" not in r.stderr
    r = run_cli("reliability", "-", "--items", ITEMS, input=b"")
    assert r.exit_code == 1 and "standard input is empty" in r.stderr


def test_stdin_respects_the_size_limit(run_cli, monkeypatch):
    monkeypatch.setenv("INSTRVAL_MAX_FILE_BYTES", "1000")
    r = run_cli("reliability", "-", "--items", ITEMS, input=BFI.read_bytes())
    assert r.exit_code == 1
    assert "standard input is larger than 1000 bytes" in r.stderr
    assert "Traceback" not in r.output


def test_stdin_copy_is_removed(run_cli, tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    _json(run_cli("reliability", "-", "--items", ITEMS, "--json", input=BFI.read_bytes()))
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------ --force
def _writers(tmp_path):
    out = tmp_path / "out"
    return [
        ("instrument", "schema", "--out", out),
        ("instrument", "export", IAM, "--format", "redcap", "--out", out),
        ("ratings", "map-template", IAM_SAMPLE, "--instrument", IAM, "--out", out),
        ("ratings", "check", IAM_SAMPLE, "--instrument", IAM, "--quarantine", out),
        ("score", BFI, "--instrument", BFI_INST, "--output", out),
    ]


@pytest.mark.parametrize("i", range(5))
def test_existing_output_is_refused_without_force(run_cli, tmp_path, i):
    args = _writers(tmp_path)[i]
    out = tmp_path / "out"
    out.write_text("keep me\n")
    r = run_cli(*args)
    assert r.exit_code == 1, r.output
    assert "already exists; give --force to overwrite" in r.stderr
    assert out.read_text() == "keep me\n"
    r = run_cli(*args, "--force")
    assert r.exit_code == 0, r.output
    assert out.read_text() != "keep me\n"


def test_import_refuses_to_overwrite(run_cli, tmp_path):
    exported = tmp_path / "iam.csv"
    assert run_cli("instrument", "export", IAM, "--format", "redcap",
                   "--out", exported).exit_code == 0
    out = tmp_path / "iam.yaml"
    out.write_text("keep\n")
    args = ("instrument", "import", exported, "--from", "redcap", "--id", "iam",
            "--version", "2011", "--out", out)
    r = run_cli(*args)
    assert r.exit_code == 1 and "give --force" in r.stderr and out.read_text() == "keep\n"
    assert run_cli(*args, "--force").exit_code == 0
    assert "iam" in out.read_text()


def test_generate_iam_refuses_to_overwrite(run_cli, tmp_path):
    args = ("ratings", "generate-iam", "--out", tmp_path, "--n-ratings", "50")
    assert run_cli(*args).exit_code == 0
    first = (tmp_path / "iam-ratings-2012.csv").read_bytes()
    r = run_cli(*args, "--seed", "1")
    assert r.exit_code == 1 and "iam-ratings-2012.csv already exists" in r.stderr
    assert (tmp_path / "iam-ratings-2012.csv").read_bytes() == first
    assert run_cli(*args, "--seed", "1", "--force").exit_code == 0
    assert (tmp_path / "iam-ratings-2012.csv").read_bytes() != first


def test_publish_never_overwrites_even_with_force(run_cli, tmp_path):
    reg = tmp_path / "reg"
    assert run_cli("publish", IAM, "--registry", reg).exit_code == 0
    r = run_cli("publish", IAM, "--registry", reg, "--force")
    assert r.exit_code == 2  # no such option: a published version is immutable


# ------------------------------------------------------------------------ quiet / verbose
def test_quiet_silences_notes(run_cli):
    args = ("relevance", IAM_SAMPLE, "--instrument", IAM, "--seed", "1", "--json")
    loud = run_cli(*args)
    assert loud.exit_code == 0 and "ratings used" in loud.stderr
    quiet = run_cli("--quiet", *args)
    assert quiet.exit_code == 0 and quiet.stderr == ""
    assert json.loads(quiet.stdout) == json.loads(loud.stdout)


def test_verbose_adds_timing(run_cli):
    r = run_cli("--verbose", "reliability", BFI, "--items", ITEMS, "--json")
    assert r.exit_code == 0
    assert "[reliability: " in r.stderr and " s]" in r.stderr
    assert json.loads(r.stdout)["alpha"] > 0
    assert "[reliability" not in run_cli("reliability", BFI, "--items", ITEMS).stderr


def test_quiet_and_verbose_conflict(run_cli):
    r = run_cli("--quiet", "--verbose", "reliability", BFI, "--items", ITEMS)
    assert r.exit_code == 2 and "cannot be used together" in r.stderr


def test_quiet_keeps_errors(run_cli, tmp_path):
    r = run_cli("-q", "reliability", tmp_path / "missing.csv", "--items", ITEMS)
    assert r.exit_code == 1 and "not found" in r.stderr
