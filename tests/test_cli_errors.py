"""Bad input gets a clear error, and nothing is lost - across every command.

Each command is fed hostile files and option values: a missing file, a directory, an empty
file, a header without rows, a binary file, a Latin-1 CSV, a ragged row, a semicolon CSV,
non-numeric junk, a blank item column, unknown items and constructs, out-of-range options,
broken YAML (tab indentation, a Python tag, a list), broken JSON. The CLI must exit 1 (bad
input) or 2 (bad usage) with a message naming the file (and row, column and value where
they apply) and never a traceback. The readers of the Python API must raise instrval's own
errors naming the file, and Hypothesis checks that random corruption of valid files gives
either checked data that reconciles (accepted + quarantined = read) or that error.
"""

from __future__ import annotations

import gzip
import os
import random
import subprocess
import sys
import warnings
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from instrval.cli import main
from instrval.cli._base import EXIT_INTERNAL_ERROR, _Group
from instrval.errors import (
    CodingError,
    DataQualityWarning,
    ExportError,
    InstrumentError,
    InstrvalError,
    InstrvalWarning,
    PanelError,
    StatisticsError,
)
from instrval.io.coding import read_codebook, read_coding
from instrval.io.exports.redcap import import_redcap_dictionary
from instrval.io.instrument import loads_instrument, read_instrument
from instrval.io.panel import read_panel
from instrval.io.tables import Table, read_table
from instrval.model.instrument import Instrument

ROOT = Path(__file__).resolve().parents[1]
BFI = str(ROOT / "tests" / "data" / "bfi.csv")
HS = str(ROOT / "tests" / "data" / "HolzingerSwineford1939.csv")
BFI_INST = str(ROOT / "instruments" / "bfi" / "bfi-1.0.yaml")
IAM_INST = str(ROOT / "instruments" / "iam" / "iam-2011.yaml")
IAM_SAMPLE = str(ROOT / "examples" / "iam" / "data" / "iam-sample.csv")
SEGMENTS = str(ROOT / "examples" / "iam" / "coding" / "segments.csv")
CODEBOOK = str(ROOT / "examples" / "iam" / "coding" / "codebook.yaml")
REDCAP_DICT = str(ROOT / "examples" / "iam" / "data" / "iam-redcap-dictionary.csv")

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(random.Random(1).randrange(256)
                                                        for _ in range(400))


# ----------------------------------------------------------------------------- files
@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> dict[str, str]:
    """Hostile input files, by name (``missing`` and ``dir`` included)."""
    d = tmp_path_factory.mktemp("hostile")
    files: dict[str, bytes] = {
        "empty.csv": b"",
        "header.csv": b"A1,A2,A3,A4,A5\n",
        "binary.csv": PNG,
        "random.csv": bytes(random.Random(7).randrange(256) for _ in range(600)),
        "latin1.csv": "A1,A2,A3,nom\n1,2,3,Ren\xe9\n2,3,4,Jos\xe9\n3,3,3,Zo\xeb\n4,2,1,\xc9lo\xefse\n"
                      .encode("latin-1"),
        "ragged.csv": b"A1,A2,A3\n1,2,3\n2,3,4,5,6\n3,4,5\n4,4,2\n",
        "semi.csv": b"A1;A2;A3\n1;2;3\n2;3;4\n3;4;5\n4;4;2\n5;1;1\n",
        "comma.csv": b"A1,A2,A3\n1,2,3\n2,3,4\n3,4,5\n4,4,2\n5,1,1\n",
        "junk.csv": b"A1,A2,A3\n1,2,3\nfoo,3,4\n3,x,5\n4,4,2\n2,3,1\n",
        "blankcol.csv": b"A1,A2,A3\n1,,3\n2,,4\n3,,5\n4,,2\n",
        "dupcol.csv": b"A1,A2,A1\n1,2,3\n2,3,4\n3,4,5\n",
        "fake.xlsx": b"PK\x03\x04garbage" + bytes(100),
        "png.xlsx": PNG,
        "empty.yaml": b"",
        "binary.yaml": PNG,
        "latin1.yaml": "id: caf\xe9\nversion: '1'\n".encode("latin-1"),
        "tab.yaml": b"format_version: '1.0'\nid: x\nversion: '1'\nconstructs:\n\t- id: a\n",
        "pyobj.yaml": b"id: !!python/object/apply:os.system ['echo hi']\nversion: '1'\n",
        "list.yaml": b"- a\n- b\n",
        "trailing.json": b'{"id": "x", "version": "1",}\n',
        "list.json": b"[1, 2]\n",
    }
    out = {}
    for name, data in files.items():
        (d / name).write_bytes(data)
        out[name] = str(d / name)
    out["missing.csv"] = str(d / "missing.csv")
    out["missing.yaml"] = str(d / "missing.yaml")
    (d / "dir").mkdir()
    out["dir"] = str(d / "dir")
    return out


def run(*args: str):
    """Invoke the CLI in-process; check that no exception but SystemExit escaped."""
    r = CliRunner().invoke(main, [str(a) for a in args])
    assert r.exception is None or isinstance(r.exception, SystemExit), (
        f"{type(r.exception).__name__}: {r.exception}\n{r.output}")
    assert "Traceback" not in r.output, r.output
    return r


def assert_input_error(r, *needles: str, codes=(1,)) -> None:
    assert r.exit_code in codes, (r.exit_code, r.output)
    assert r.exit_code != EXIT_INTERNAL_ERROR, r.output
    assert "Error" in r.output, r.output
    for n in needles:
        assert n in r.output, (n, r.output)


# ------------------------------------------------------------- data-file commands
# name -> arguments after the data file
DATA_COMMANDS = {
    "reliability": ["reliability"],
    "reliability --items": ["reliability", "--items", "A1,A2,A3"],
    "icc": ["icc"],
    "efa": ["efa", "--factors", "1"],
    "factors": ["factors", "--seed", "1", "--iterations", "2"],
    "omega": ["omega", "--factors", "1"],
    "cfa": ["cfa", "--model", "MODEL"],
    "correlations": ["correlations"],
    "content-validity": ["content-validity", "--instrument", IAM_INST],
    "relevance": ["relevance", "--instrument", IAM_INST],
    "coding check": ["coding", "check"],
    "coding summary": ["coding", "summary", "--codebook", CODEBOOK, "--instrument", IAM_INST],
    "coding agreement": ["coding", "agreement"],
    "instrument import": ["instrument", "import", "--from", "redcap", "--id", "x",
                          "--version", "1"],
}
TABLE_COMMANDS = ["reliability", "reliability --items", "icc", "efa", "factors", "omega",
                  "cfa", "correlations"]


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> str:
    p = tmp_path_factory.mktemp("model") / "model.yaml"
    p.write_text("f: [A1, A2, A3]\n")
    return str(p)


def _argv(command: str, data: str, model_file: str) -> list[str]:
    args = DATA_COMMANDS[command]
    pos = 2 if args[0] in ("coding", "instrument") else 1
    out = [*args[:pos], data, *args[pos:]]
    return [model_file if a == "MODEL" else a for a in out]


@pytest.mark.parametrize("command", list(DATA_COMMANDS))
@pytest.mark.parametrize("case", ["missing.csv", "dir", "empty.csv", "header.csv",
                                  "binary.csv", "random.csv", "ragged.csv", "fake.xlsx",
                                  "png.xlsx"])
def test_hostile_data_file(command, case, bad, model_file):
    r = run(*_argv(command, bad[case], model_file))
    usage = case in ("dir", "missing.csv")  # click refuses these before the command runs
    assert_input_error(r, Path(bad[case]).name, codes=(1, 2) if usage else (1,))


@pytest.mark.parametrize("command", TABLE_COMMANDS)
def test_non_numeric_cells_are_named(command, bad, model_file):
    """Every junk cell is reported with its row, column and value; none becomes NaN."""
    r = run(*_argv(command, bad["junk.csv"], model_file))
    assert_input_error(r, "junk.csv", "row 3", "'A1'", "'foo'", "row 4", "'A2'", "'x'")


@pytest.mark.parametrize("command", TABLE_COMMANDS)
def test_blank_item_column(command, bad, model_file):
    r = run(*_argv(command, bad["blankcol.csv"], model_file))
    assert_input_error(r, "blankcol.csv", "'A2'", "blank")


@pytest.mark.parametrize("command", TABLE_COMMANDS)
def test_ragged_row_and_duplicate_column(command, bad, model_file):
    r = run(*_argv(command, bad["ragged.csv"], model_file))
    assert_input_error(r, "ragged.csv", "row 3", "5 cells", "header has 3")
    r = run(*_argv(command, bad["dupcol.csv"], model_file))
    assert_input_error(r, "dupcol.csv", "'A1'", "twice")


@pytest.mark.parametrize("command", ["reliability", "correlations", "efa"])
def test_semicolon_and_latin1_csv_are_read_correctly(command, bad, model_file):
    """A semicolon CSV gives the same numbers as the comma one; a Latin-1 CSV is read
    (its text column left out of the numeric columns) with a warning naming the file."""
    extra = ["--json"]
    ref = run(*_argv(command, bad["comma.csv"], model_file), *extra)
    semi = run(*_argv(command, bad["semi.csv"], model_file), *extra)
    assert ref.exit_code == 0 and semi.exit_code == 0, (ref.output, semi.output)
    assert semi.stdout.replace("semi.csv", "comma.csv") == ref.stdout
    lat = run(*_argv(command, bad["latin1.csv"], model_file), "--items", "A1,A2,A3",
              *extra) if command != "correlations" else run(
        "correlations", bad["latin1.csv"], "--json")
    assert lat.exit_code == 0, lat.output
    assert "Warning" in lat.stderr and "latin1.csv" in lat.stderr and "UTF-8" in lat.stderr


# ----------------------------------------------------------- instrument / YAML files
YAML_CASES = {
    "missing.yaml": ("missing.yaml",),
    "dir": ("dir",),
    "empty.yaml": ("empty.yaml", "empty"),
    "binary.yaml": ("binary.yaml", "UTF-8"),
    "latin1.yaml": ("latin1.yaml:1", "UTF-8"),
    "tab.yaml": ("tab.yaml:5",),
    "pyobj.yaml": ("pyobj.yaml:1", "tag"),
    "list.yaml": ("list.yaml", "mapping"),
    "trailing.json": ("trailing.json:1", "double quotes"),
    "list.json": ("list.json", "mapping"),
}
YAML_COMMANDS = {
    "instrument check": ["instrument", "check", "FILE"],
    "instrument show": ["instrument", "show", "FILE"],
    "instrument diff (old)": ["instrument", "diff", "FILE", IAM_INST],
    "instrument diff (new)": ["instrument", "diff", IAM_INST, "FILE"],
    "instrument export": ["instrument", "export", "FILE", "--format", "fhir", "--out", "OUT"],
    "publish": ["publish", "FILE", "--registry", "REG"],
    "reliability --instrument": ["reliability", BFI, "--instrument", "FILE"],
    "efa --instrument": ["efa", BFI, "--instrument", "FILE", "--factors", "5"],
    "omega --instrument": ["omega", BFI, "--instrument", "FILE"],
    "factors --instrument": ["factors", BFI, "--instrument", "FILE"],
    "cfa --instrument": ["cfa", BFI, "--instrument", "FILE"],
    "cfa --model": ["cfa", HS, "--model", "FILE"],
    "content-validity --instrument": ["content-validity", BFI, "--instrument", "FILE"],
    "relevance --instrument": ["relevance", IAM_SAMPLE, "--instrument", "FILE"],
    "coding --instrument": ["coding", "check", SEGMENTS, "--instrument", "FILE"],
    "coding --codebook": ["coding", "check", SEGMENTS, "--codebook", "FILE"],
}


@pytest.mark.parametrize("command", list(YAML_COMMANDS))
@pytest.mark.parametrize("case", list(YAML_CASES))
def test_hostile_instrument_file(command, case, bad, tmp_path):
    if command == "cfa --model" and case in ("list.yaml", "list.json"):
        needles = (Path(bad[case]).name, "mapping of factor")
    elif command == "coding --codebook" and case in ("list.yaml", "list.json"):
        needles = (Path(bad[case]).name, "codes")
    else:
        needles = YAML_CASES[case]
    subst = {"FILE": bad[case], "OUT": str(tmp_path / "out.json"),
             "REG": str(tmp_path / "registry")}
    r = run(*[subst.get(a, a) for a in YAML_COMMANDS[command]])
    usage = case == "dir" or (case == "missing.yaml" and command.startswith(
        ("efa", "omega", "factors", "relevance")))
    if usage:
        assert_input_error(r, Path(bad[case]).name, codes=(2,))
    else:
        assert_input_error(r, *needles)
    assert not (tmp_path / "out.json").exists()
    assert not (tmp_path / "registry").exists() or not any((tmp_path / "registry").rglob(
        "*.yaml"))


# ------------------------------------------------------------- option values
@pytest.mark.parametrize("args, code, needles", [
    (["reliability", BFI, "--items", "X1,A1"], 1, ["bfi.csv", "X1"]),
    (["reliability", BFI, "--items", "A1,A1,A2"], 1, ["'A1'", "more than once"]),
    (["efa", BFI, "--items", "A1,A1,A2", "--factors", "1"], 1, ["'A1'", "more than once"]),
    (["correlations", BFI, "--items", "A1,A2,A2"], 1, ["'A2'", "more than once"]),
    (["reliability", BFI, "--instrument", BFI_INST, "--construct", "nope"], 1,
     ["'nope'", "agreeableness"]),
    (["reliability", BFI, "--bootstrap", "-1"], 2, ["--bootstrap", "-1"]),
    (["reliability", BFI, "--confidence", "2"], 2, ["--confidence"]),
    (["reliability", BFI, "--items", "A1,A2", "--reverse", "X9"], 1, ["X9"]),
    (["reliability", BFI, "--construct", "agreeableness"], 2, ["--construct needs"]),
    (["efa", BFI, "--items", "A1,A2,A3,A4,A5", "--factors", "0"], 1, ["n_factors", "0"]),
    (["efa", BFI, "--items", "A1,A2,A3,A4,A5", "--factors", "100"], 1, ["100", "at most 4"]),
    (["efa", BFI, "--items", "X1", "--factors", "1"], 1, ["bfi.csv", "X1"]),
    (["efa", BFI, "--factors", "abc"], 2, ["--factors"]),
    (["efa", BFI, "--factors", "1", "--rotation", "spin"], 2, ["spin"]),
    (["omega", BFI, "--items", "A1,A2,A3,A4,A5", "--factors", "0"], 1, ["n_factors"]),
    (["omega", BFI, "--items", "A1,A2,A3,A4,A5", "--factors", "100"], 1, ["100"]),
    (["factors", BFI, "--items", "A1,A2,A3", "--iterations", "0"], 1, ["n_iter", "0"]),
    (["factors", BFI, "--items", "A1,A2,A3", "--quantile", "2"], 1, ["quantile", "2"]),
    (["factors", BFI, "--items", "X1,A1"], 1, ["bfi.csv", "X1"]),
    (["correlations", BFI, "--items", "X1,A1"], 1, ["bfi.csv", "X1"]),
    (["correlations", BFI, "--items", "A1,A2", "--method", "tetrachoric"], 1,
     ["tetrachoric", "'A1'"]),
    (["cfa", BFI], 2, ["--instrument or --model"]),
    (["icc", BFI, "--targets", "X", "--raters", "Y", "--ratings", "Z"], 1,
     ["bfi.csv", "X", "Y"]),
    (["content-validity", BFI, "--instrument", IAM_INST], 1, ["bfi.csv", "expert"]),
    (["relevance", IAM_SAMPLE, "--instrument", IAM_INST, "--threshold", "2"], 1,
     ["threshold", "2"]),
    (["relevance", IAM_SAMPLE, "--instrument", IAM_INST, "--confidence", "2"], 1,
     ["confidence", "2"]),
    (["relevance", IAM_SAMPLE, "--instrument", IAM_INST, "--bootstrap", "-1"], 2,
     ["--bootstrap"]),
    (["relevance", IAM_SAMPLE, "--instrument", IAM_INST, "--by", "nope"], 1, ["'nope'"]),
    (["relevance", IAM_SAMPLE, "--instrument", IAM_INST, "--format", "nope"], 1, ["'nope'"]),
    (["instrument", "export", IAM_INST, "--format", "redcap", "--out", "o.csv",
      "--base-url", "x"], 1, ["--base-url"]),
    (["instrument", "export", IAM_INST, "--format", "pdf", "--out", "o.pdf"], 2, ["pdf"]),
    (["instrument", "import", BFI, "--from", "redcap", "--id", "x", "--version", "1"], 1,
     ["bfi.csv", "Variable / Field Name"]),
    (["coding", "summary", SEGMENTS, "--codebook", CODEBOOK, "--instrument", IAM_INST,
      "--pin", "NOPE"], 1, ["'NOPE'"]),
    (["coding", "check", SEGMENTS, "--format", "refi-qda"], 1, ["segments.csv"]),
    (["coding", "check", SEGMENTS, "--format", "taguette"], 1, ["segments.csv", "'id'"]),
])
def test_bad_option_values(args, code, needles, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run(*args)
    assert_input_error(r, *needles, codes=(code,))


def test_output_paths_that_cannot_be_written(bad, tmp_path):
    r = run("instrument", "export", IAM_INST, "--format", "redcap", "--out", bad["dir"])
    assert_input_error(r, "dir", codes=(2,))
    r = run("instrument", "schema", "--out", bad["dir"])
    assert_input_error(r, "dir", codes=(2,))
    r = run("publish", IAM_INST, "--registry", BFI)
    assert_input_error(r, "bfi.csv", codes=(2,))
    r = run("instrument", "import", REDCAP_DICT, "--from", "redcap", "--id", "x",
            "--version", "1", "--out", BFI)
    assert_input_error(r, "bfi.csv", "overwrite")


# ------------------------------------------------------------- the group itself
def _group_with(callback) -> click.Group:
    @click.group(cls=_Group)
    def g() -> None:
        """Test group."""

    g.command("go")(callback)
    return g


def test_warnings_are_replayed_without_looping():
    """Regression: replaying a non-instrval warning inside the recording context appended
    to the list being replayed, so any RuntimeWarning made a command loop until memory ran
    out (seen with `instrval correlations` on a blank column)."""

    def go() -> None:
        warnings.warn("numpy-ish", RuntimeWarning, stacklevel=1)
        warnings.warn("quarantined rows", DataQualityWarning, stacklevel=1)
        raise StatisticsError("bad thing")

    r = CliRunner().invoke(_group_with(go), ["go"])
    assert r.exit_code == 1
    assert "Error: bad thing" in r.output
    assert r.output.count("Warning: quarantined rows") == 1
    assert r.output.count("RuntimeWarning: numpy-ish") == 1

    def ok() -> None:
        warnings.warn("only once", InstrvalWarning, stacklevel=1)
        click.echo("done")

    r = CliRunner().invoke(_group_with(ok), ["go"])
    assert r.exit_code == 0 and r.output.count("Warning: only once") == 1


def test_unexpected_exception_is_one_line_and_status_70(monkeypatch):
    def boom() -> None:
        raise ValueError("kaput")

    monkeypatch.delenv("INSTRVAL_DEBUG", raising=False)
    r = CliRunner().invoke(_group_with(boom), ["go"])
    assert r.exit_code == EXIT_INTERNAL_ERROR
    assert "Error: internal error (ValueError: kaput)" in r.output
    assert "Traceback" not in r.output
    monkeypatch.setenv("INSTRVAL_DEBUG", "1")
    r = CliRunner().invoke(_group_with(boom), ["go"])
    assert isinstance(r.exception, ValueError)


# ------------------------------------------------------------- end to end
def _console(*args: str, cwd: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    env.pop("INSTRVAL_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "instrval", *args], capture_output=True,
                          text=True, timeout=120, env=env, cwd=cwd)


@pytest.mark.slow
@pytest.mark.parametrize("args, code, needles", [
    (["efa", "JUNK", "--factors", "1"], 1, ["JUNK", "row 3", "'foo'"]),
    (["reliability", "EMPTY"], 1, ["EMPTY", "empty"]),
    (["instrument", "show", "TAB"], 1, ["TAB:5"]),
    (["correlations", "BLANK"], 1, ["BLANK", "'A2'"]),
    (["reliability", BFI, "--bootstrap", "-1"], 2, ["--bootstrap"]),
    (["efa", "MISSING", "--factors", "1"], 2, ["MISSING"]),
])
def test_console_script_end_to_end(args, code, needles, bad):
    names = {"JUNK": bad["junk.csv"], "EMPTY": bad["empty.csv"], "TAB": bad["tab.yaml"],
             "BLANK": bad["blankcol.csv"], "MISSING": bad["missing.csv"]}
    p = _console(*[names.get(a, a) for a in args])
    assert p.returncode == code, (p.returncode, p.stderr)
    assert "Error" in p.stderr and "Traceback" not in p.stderr + p.stdout
    for n in needles:
        assert names.get(n.split(":")[0], n.split(":")[0]) in p.stderr, (n, p.stderr)
        if ":" in n:
            assert f"{names[n.split(':')[0]]}:{n.split(':')[1]}" in p.stderr
    assert p.stdout == ""


# ------------------------------------------------------------- Python API
INST4 = Instrument.from_dict({
    "format_version": "1.0", "id": "demo", "version": "1", "title": "Demo",
    "scales": {"s4": {"min": 1, "max": 4}},
    "constructs": [{"id": "c", "label": "C", "kind": "likert", "scale": "s4",
                    "items": [{"id": f"q{i}", "label": f"Q{i}"} for i in range(1, 5)]}]})

READERS = {
    "read_table": (read_table, StatisticsError),
    "read_instrument": (read_instrument, InstrumentError),
    "read_panel": (lambda p: read_panel(p, INST4), PanelError),
    "read_coding": (read_coding, CodingError),
    "read_codebook": (read_codebook, CodingError),
    "import_redcap_dictionary": (lambda p: import_redcap_dictionary(p, id="x", version="1"),
                                 ExportError),
}
COMMON_CASES = ["missing.csv", "dir", "empty.csv", "binary.csv", "random.csv"]
TABLE_CASES = ["header.csv", "fake.xlsx", "png.xlsx", "ragged.csv", "dupcol.csv",
               "junk.csv", "blankcol.csv"]
YAML_FILE_CASES = ["empty.yaml", "binary.yaml", "latin1.yaml", "tab.yaml", "pyobj.yaml",
                   "list.yaml", "trailing.json", "list.json"]
API_CASES = [(r, c) for r in READERS for c in COMMON_CASES] + [
    (r, c) for r in ("read_table", "read_panel", "read_coding", "import_redcap_dictionary")
    for c in TABLE_CASES] + [
    (r, c) for r in ("read_instrument", "read_codebook") for c in YAML_FILE_CASES]


@pytest.mark.parametrize("reader, case", API_CASES)
def test_api_readers_raise_their_own_error_naming_the_file(reader, case, bad):
    fn, error = READERS[reader]
    path = bad[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InstrvalWarning)
        try:
            result = fn(path)
        except InstrvalError as exc:
            assert isinstance(exc, error), (type(exc), exc)
            assert Path(path).name in str(exc), str(exc)
            assert all(p.file is None or Path(path).name in p.file for p in exc.problems)
            return
    # junk and blank cells are a legitimate table until its numbers are asked for
    if isinstance(result, Table):
        assert len(result.rows) == len(result.data)
        assert case in ("junk.csv", "blankcol.csv")
    else:
        pytest.fail(f"{reader} accepted {case}: {result!r}")


def test_read_table_numeric_names_every_bad_cell(bad):
    t = read_table(bad["junk.csv"])
    with pytest.raises(StatisticsError) as e:
        t.numeric(["A1", "A2", "A3"])
    found = {(p.row, p.column, p.value, p.reason) for p in e.value.problems}
    assert found == {(3, "A1", "foo", "not_a_number"), (4, "A2", "x", "not_a_number")}
    assert all(p.file == bad["junk.csv"] for p in e.value.problems)
    with pytest.raises(StatisticsError, match="no column"):
        t.numeric(["A9"])


def test_read_table_formats(tmp_path):
    """Blank lines keep spreadsheet row numbers; UTF-16, gzip, decimal commas, trailing
    delimiters and R row names are read; XLSX too."""
    import pandas as pd

    (tmp_path / "b.csv").write_text("\n\nA1,A2\n1,2\n\nfoo,4\n")
    t = read_table(tmp_path / "b.csv")
    assert t.rows.tolist() == [4, 6]
    with pytest.raises(StatisticsError) as e:
        t.numeric()
    assert [(p.row, p.column) for p in e.value.problems] == [(6, "A1")]
    (tmp_path / "u.txt").write_bytes("A1\tA2\n1\t2\n3\t4\n".encode("utf-16"))
    (tmp_path / "g.csv.gz").write_bytes(gzip.compress(b"A1,A2\n1,2\n3,4\n"))
    (tmp_path / "d.csv").write_text("A1;A2\n3,5;2\n1;2,25\n")
    (tmp_path / "t.csv").write_text('"",A1,A2,\n"r1",1,2,\n"r2",3,4,\n')
    for name, expected in [("u.txt", [[1, 2], [3, 4]]), ("g.csv.gz", [[1, 2], [3, 4]]),
                           ("d.csv", [[3.5, 2], [1, 2.25]]), ("t.csv", [[1, 2], [3, 4]])]:
        assert read_table(tmp_path / name).numeric().to_numpy().tolist() == expected, name
    assert read_table(tmp_path / "t.csv").data.index.tolist() == ["r1", "r2"]
    pd.DataFrame({"A1": [1, None, 3], "A2": ["2", "x", 4]}).to_excel(tmp_path / "x.xlsx",
                                                                      index=False)
    with pytest.raises(StatisticsError) as e:
        read_table(tmp_path / "x.xlsx").numeric()
    assert [(p.row, p.column, p.value) for p in e.value.problems] == [(3, "A2", "x")]


# ------------------------------------------------------------- properties
IAM_TEXT = Path(IAM_INST).read_text(encoding="utf-8")
SNIPPETS = ["é", "\x00", "\ufeff", "😀", "\u2028", "\r", "\t", '"', "'", ":", "- ", "{", "}",
            "[", "]", "&a", "*a", "!!python/object:os.system", "%YAML", "---", "#", "|",
            ">", "? ", "\\", "0x", "1e400", "~", "null"]


@st.composite
def mutated(draw, text: str):
    """A valid file with random damage: deleted/duplicated lines, swapped or replaced
    characters, inserted unicode and YAML/CSV syntax, truncation."""
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "replace",
                                   "truncate"]))
        if op in ("delete", "duplicate") and lines:
            i = draw(st.integers(0, len(lines) - 1))
            if op == "delete":
                del lines[i]
            else:
                lines.insert(i, lines[i])
            continue
        t = "\n".join(lines)
        if not t:
            continue
        i = draw(st.integers(0, len(t) - 1))
        if op == "swap" and i + 1 < len(t):
            t = t[:i] + t[i + 1] + t[i] + t[i + 2:]
        elif op == "insert":
            t = t[:i] + draw(st.sampled_from(SNIPPETS) | st.text(max_size=3)) + t[i:]
        elif op == "replace":
            t = t[:i] + draw(st.sampled_from([",", ";", "\n", "", "0", "-1", "99", "nan",
                                              "x", " "])) + t[i + 1:]
        elif op == "truncate":
            t = t[:i]
        lines = t.split("\n")
    return "\n".join(lines)


_SETTINGS = settings(max_examples=120, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow,
                                            HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(text=mutated(IAM_TEXT))
def test_property_loads_instrument(text):
    try:
        inst = loads_instrument(text, file="iam.yaml")
    except InstrumentError as exc:
        assert str(exc)
        return
    assert isinstance(inst, Instrument)


@_SETTINGS
@given(text=mutated(IAM_TEXT), enc=st.sampled_from(["utf-8", "utf-16", "latin-1"]))
def test_property_read_instrument(tmp_path, text, enc):
    p = tmp_path / "inst.yaml"
    try:
        p.write_bytes(text.encode(enc))
    except UnicodeEncodeError:
        p.write_bytes(text.encode("utf-8"))
    try:
        inst = read_instrument(p)
    except InstrumentError as exc:
        assert "inst.yaml" in str(exc)
        return
    assert isinstance(inst, Instrument)


PANEL_LONG = ("expert,item_id,relevance,clarity,comment\nE1,q1,4,3,fine\nE1,q2,3,,\n"
              "E2,q1,2,4,unclear\nE2,q2,4,4,\nE3,q3,1,2,x\nE3,q4,3,3,\n")
PANEL_WIDE = "expert,q1,q2,q3,q4\nE1,4,3,,2\nE2,3,4,4,1\nE3,1,1,2,4\n"
SEGMENTS_HEAD = "\n".join(Path(SEGMENTS).read_text(encoding="utf-8").splitlines()[:12]) + "\n"


def _write(tmp_path: Path, text: str, enc: str, name: str = "f.csv") -> Path:
    p = tmp_path / name
    try:
        p.write_bytes(text.encode(enc))
    except UnicodeEncodeError:
        p.write_bytes(text.encode("utf-8"))
    return p


@_SETTINGS
@given(text=mutated(PANEL_LONG) | mutated(PANEL_WIDE),
       enc=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
def test_property_read_panel(tmp_path, text, enc):
    p = _write(tmp_path, text, enc)
    try:
        panel = read_panel(p, INST4)
    except PanelError as exc:
        assert "f.csv" in str(exc)
        return
    assert len(panel.data) + len(panel.quarantine) == panel.source["ratings_read"]
    # every quarantined rating has a problem at its row, or (an unknown item column of a
    # wide panel) one problem at the header naming its column
    cells = {(pr.row, pr.column) for pr in panel.problems if pr.severity == "error"}
    rows = {r for r, _ in cells}
    for r, c in zip(panel.quarantine["row"], panel.quarantine["column"], strict=True):
        assert r in rows or (1, c) in cells, (r, c, panel.problems)


@_SETTINGS
@given(text=mutated(SEGMENTS_HEAD), enc=st.sampled_from(["utf-8", "cp1252", "utf-16"]))
def test_property_read_coding(tmp_path, text, enc):
    p = _write(tmp_path, text, enc)
    try:
        data = read_coding(p)
    except CodingError as exc:
        assert "f.csv" in str(exc)
        return
    assert len(data.segments) + len(data.quarantine) == data.source["rows_read"]


ITEMS_CSV = "\n".join(Path(BFI).read_text(encoding="utf-8").splitlines()[:15]) + "\n"


@_SETTINGS
@given(text=mutated(ITEMS_CSV),
       enc=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
def test_property_read_table(tmp_path, text, enc):
    """read_table returns a table whose rows are numbered strictly increasing (and
    ``numeric`` returns every cell or names the bad ones), or raises StatisticsError."""
    p = _write(tmp_path, text, enc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        try:
            t = read_table(p)
        except StatisticsError as exc:
            assert "f.csv" in str(exc)
            return
    assert len(t.rows) == len(t.data) > 0
    assert all(b > a for a, b in zip(t.rows, t.rows[1:], strict=False)) and t.rows[0] >= 2
    try:
        x = t.numeric(t.item_columns())
    except StatisticsError as exc:
        assert all(pr.reason in ("not_a_number", "out_of_range", "blank_column")
                   for pr in exc.problems)
        assert all(pr.row is None or pr.row in set(t.rows) for pr in exc.problems)
        return
    assert x.shape == (len(t.data), len(t.item_columns()))


def test_nul_bytes_are_refused_clearly(tmp_path):
    """A NUL byte means a binary or damaged file: refused with the file and line named
    (Python 3.10's csv module would otherwise raise its own error)."""
    from instrval.errors import RatingsError, StatisticsError
    from instrval.io.instrument import read_instrument
    from instrval.io.ratings import read_ratings
    from instrval.io.tables import read_table

    f = tmp_path / "nul.csv"
    f.write_bytes(b'"a","b"\n1,2\n\x003,4\n')
    with pytest.raises(StatisticsError, match=r"NUL byte on line 3"):
        read_table(f)
    g = tmp_path / "nul_ratings.csv"
    g.write_bytes(b"rating_id,respondent_id,ci_learned_new\nr1,p1,1\n\x00r2,p2,0\n")
    iam = read_instrument(ROOT / "instruments" / "iam" / "iam-2011.yaml")
    with pytest.raises(RatingsError, match=r"NUL byte on line 3"):
        read_ratings(g, iam)
