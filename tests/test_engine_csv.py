"""The block-by-block CSV scan gives exactly the pandas reader's results.

Every export is scanned with tiny blocks (a few hundred bytes) so that every fault sits
near or across a block boundary, and compared with the whole-file pandas reader: summary,
problems (every field), quarantine frame, relevance ratios and intervals, descriptives.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from instrval.cli import main
from instrval.datasets.iam import generate_iam_ratings
from instrval.errors import DataQualityWarning, RatingsError
from instrval.io import csv_engine
from instrval.io.csv_engine import scan_csv
from instrval.io.engine import EngineNotApplicable, choose_engine, read_ratings_any
from instrval.io.instrument import read_instrument
from instrval.io.ratings import inspect_ratings

pytest.importorskip("duckdb")
from test_engine import _same, _same_stats, assert_same_scan, faulty_frame  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
IAM = ROOT / "instruments" / "iam" / "iam-2011.yaml"
BLOCKS = (457, 1 << 20)


@pytest.fixture(scope="module")
def inst():
    return read_instrument(IAM)


def _text(df: pd.DataFrame, sep: str = ",") -> list[str]:
    """The lines of a CSV of ``df`` (header first), without line ends."""
    return df.to_csv(index=False, sep=sep, lineterminator="\n").split("\n")[:-1]


def _check(path: Path, inst, blocks=BLOCKS, *, stats: bool = True):
    """Scan ``path`` with every block size and compare with the pandas reader."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)  # neither reader warns
        rd = inspect_ratings(path, inst)
        scans = [scan_csv(path, inst, block_bytes=b) for b in blocks]
    for sc in scans:
        _same(rd, sc)
        assert [vars(p) for p in sc.problems] == [vars(p) for p in rd.problems]
        assert sc.source["sha256"] == rd.source["sha256"]
        assert sc.source["file"] == str(path)
        assert sc.source["engine"] == "stream" and sc.engine == "stream"
        assert sc.source["rows_read"] == rd.n_read
        assert sc.source["lines"] == rd.source["lines"]
    assert scans[0].source["blocks"] > 20  # the small blocks really split the file
    for sc in scans[1:]:  # every sum, count and respondent order, whatever the blocks
        assert_same_scan(sc, scans[0])
    if stats:
        _same_stats(rd, scans[0])
    return rd, scans[0]


def test_clean_export_identical(tmp_path, inst):
    p = tmp_path / "clean.csv"
    generate_iam_ratings(500, 40, 11).to_csv(p, index=False)
    rd, sc = _check(p, inst)
    assert rd.n_quarantined == 0 and sc.source["rows_set_aside"] == 0
    assert sc.source["passes"] == 1  # nothing to read again


def test_faults_without_repeated_ids_in_one_pass(tmp_path, inst):
    """Blank, ragged and bad rows but no repeated id and no column whose dtype differs
    between blocks: the blocks are checked while the ids are hashed."""
    df = generate_iam_ratings(300, 30, 18)
    lines = _text(df)
    cols = lines[0].split(",")
    lines[10] = ""
    lines[20] = lines[20] + ",extra"
    lines[30] = ",".join(lines[30].split(",")[:3])
    for i, (c, v) in {40: ("use_gate", "maybe"), 50: ("date", "2012-02-30"),
                      60: ("rating_id", "  ")}.items():
        cells = lines[i].split(",")
        cells[cols.index(c)] = v
        lines[i] = ",".join(cells)
    # an out-of-range code in a gated item column: float in the whole file (blank where
    # the gate is closed), int in the blocks where the gate is open on every row
    j = cols.index("use_manage_differently")
    i = next(i for i in range(70, 300) if lines[i].split(",")[j])
    cells = lines[i].split(",")
    cells[j] = "3"
    lines[i] = ",".join(cells)
    p = tmp_path / "faults.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rd, sc = _check(p, inst)
    assert rd.n_quarantined == 7
    assert sc.source["passes"] == 1
    assert [pr.value for pr in sc.problems if pr.column == "use_manage_differently"] == ["3"]


def test_faulty_export_identical(tmp_path, inst):
    df = faulty_frame(400, 5)
    df.loc[300, "rating_id"] = df.loc[2, "rating_id"]          # duplicate across blocks
    df.loc[350, "rating_id"] = " " + str(df.loc[5, "rating_id"])  # equal once stripped
    p = tmp_path / "bad.csv"
    df.to_csv(p, index=False)
    rd, sc = _check(p, inst)
    reasons = {pr.reason for pr in rd.problems}
    assert {"blank_id", "duplicate_id", "invalid_option", "skip_logic", "out_of_range",
            "invalid_level", "invalid_date", "nothing_answered"} <= reasons
    assert sc.source["rows_set_aside"] == 8  # the four pairs of repeated ids
    assert sc.source["passes"] == 2
    dup_rows = {pr.row for pr in sc.problems if pr.reason == "duplicate_id"}
    assert {2 + 2, 300 + 2, 5 + 2, 350 + 2} <= dup_rows


def _lines_faulty(inst_df: pd.DataFrame) -> tuple[str, list[str]]:
    lines = _text(inst_df)
    header, body = lines[0], lines[1:]
    ncol = header.count(",") + 1
    body[7] = ""                                   # blank line
    body[30] = "   "                               # a line of spaces
    body[41] = "," * (ncol - 1)                    # every cell empty
    body[55] = body[55] + ",extra,cells"           # ragged
    body[80] = ",".join(body[80].split(",")[:4])   # truncated
    body[120] = body[120].replace(",0.0,", ", 1,", 1)  # a number with a space
    body[121] = body[121].replace(",0.0,", ",1.0,", 1)
    body[122] = body[122].replace(",0.0,", ",01,", 1)
    body[123] = body[123].replace(",0.0,", ",1e0,", 1)
    body[124] = body[124].replace(",0.0,", ",x,", 1)   # text in an item column: one block only
    cells = body[130].split(",")
    cells[0], cells[1] = "007", "007"                # ids that look like numbers
    body[130] = ",".join(cells)
    cells = body[131].split(",")
    cells[0], cells[1] = "7", "7"
    body[131] = ",".join(cells)
    return header, body


def test_raw_text_faults_identical(tmp_path, inst):
    df = faulty_frame(300, 7)
    header, body = _lines_faulty(df)
    p = tmp_path / "raw.csv"
    p.write_text("\n".join([header, *body]) + "\n\n", encoding="utf-8")  # a final blank
    rd, sc = _check(p, inst)
    reasons = {pr.reason for pr in rd.problems}
    assert {"empty_row", "ragged_row", "truncated_row", "not_a_number"} <= reasons
    q = sc.quarantine
    assert "(extra cells)" in q.columns


@pytest.mark.parametrize("variant", ["crlf", "cr", "bom", "no_final_newline", "semicolon",
                                     "tab"])
def test_line_ends_and_delimiters(tmp_path, inst, variant):
    df = faulty_frame(250, 8)
    sep = {"semicolon": ";", "tab": "\t"}.get(variant, ",")
    lines = _text(df, sep)
    text = "\n".join(lines) + "\n"
    if variant == "crlf":
        text = text.replace("\n", "\r\n")
    elif variant == "cr":  # old Mac line ends: the csv-module parser, as a whole-file read
        text = text.replace("\n", "\r")
    elif variant == "bom":
        text = "\ufeff" + text
    elif variant == "no_final_newline":
        text = text.rstrip("\n")
    p = tmp_path / f"{variant}.csv"
    p.write_bytes(text.encode("utf-8"))
    rd, sc = _check(p, inst, stats=False)
    assert rd.n_quarantined > 5


def test_quoted_cells_identical(tmp_path, inst):
    df = faulty_frame(300, 9)
    df["specialty"] = df["specialty"].astype(object)
    df.loc[12, "specialty"] = "family, general\nmedicine"      # delimiter and line break
    df.loc[13, "specialty"] = 'the "best", they say'            # quotes inside quotes
    df.loc[150, "specialty"] = "a\n\nb,c"                        # blank lines inside a cell
    df.loc[151, "rating_id"] = df.loc[12, "rating_id"]           # duplicate of a quoted row
    p = tmp_path / "quoted.csv"
    df.to_csv(p, index=False)
    assert '"family, general\nmedicine"' in p.read_text()
    _check(p, inst)


def test_stray_quote_identical(tmp_path, inst):
    df = faulty_frame(300, 10)
    lines = _text(df)
    cells = lines[40].split(",")
    cells[3] = '"cardiology'               # opens a quoted cell that swallows lines
    lines[40] = ",".join(cells)
    cells = lines[46].split(",")
    cells[6] = 'x"y'                       # closes it (a record of the wrong width)
    lines[46] = ",".join(cells)
    cells = lines[60].split(",")
    cells[3] = 'x"y'                       # a literal quote inside an unquoted cell
    lines[60] = ",".join(cells)
    cells = lines[200].split(",")
    cells[3] = 'ortho"'
    lines[200] = ",".join(cells)
    p = tmp_path / "stray.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rd, sc = _check(p, inst)
    assert any(pr.reason == "unterminated_quote" for pr in rd.problems)


def test_odd_quote_swallows_to_the_end(tmp_path, inst):
    df = faulty_frame(200, 12)
    lines = _text(df)
    cells = lines[150].split(",")
    cells[3] = '"never closed'
    lines[150] = ",".join(cells)
    p = tmp_path / "odd.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rd, sc = _check(p, inst)
    last = [pr for pr in rd.problems if pr.reason == "unterminated_quote"]
    assert last and last[-1].row == 151


def test_duplicate_header_reported_once(tmp_path, inst):
    df = faulty_frame(300, 13)
    lines = _text(df)
    lines = [lines[0] + ",specialty"] + [ln + ",x" for ln in lines[1:]]
    p = tmp_path / "dupcol.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rd, sc = _check(p, inst, stats=False)
    assert sum(pr.reason == "duplicate_column" for pr in sc.problems) == 1


def test_item_dtype_decided_for_the_whole_file(tmp_path, inst):
    """A text cell in one block makes the column text in every block, as in a whole-file
    read: problem values of the other blocks keep their text ("01", "1.0")."""
    df = generate_iam_ratings(300, 30, 14)
    lines = _text(df)
    cols = lines[0].split(",")
    j = cols.index("ci_learned_new")
    for i, v in ((5, "01"), (6, "2.0"), (7, " 3"), (250, "oops")):
        cells = lines[i].split(",")
        cells[j] = v
        lines[i] = ",".join(cells)
    p = tmp_path / "dtype.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rd, sc = _check(p, inst)
    vals = {pr.row: pr.value for pr in sc.problems if pr.column == "ci_learned_new"}
    assert vals[7] == "2.0" and vals[8] == "3" and vals[251] == "oops"


def test_float_column_whole_numbers(tmp_path, inst):
    """A column with a blank or a decimal somewhere is float in every block."""
    df = generate_iam_ratings(300, 30, 15)
    lines = _text(df)
    j = lines[0].split(",").index("ci_motivated")
    for i, v in ((3, "7"), (280, "0.5")):
        cells = lines[i].split(",")
        cells[j] = v
        lines[i] = ",".join(cells)
    p = tmp_path / "float.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rd, sc = _check(p, inst)
    vals = {pr.row: pr.value for pr in sc.problems if pr.column == "ci_motivated"}
    assert vals == {4: "7.0", 281: "0.5"}


def test_not_applicable(tmp_path, inst):
    df = generate_iam_ratings(200, 20, 16)
    cp = tmp_path / "cp1252.csv"
    df2 = df.copy()
    df2["specialty"] = "m\u00e9decine"
    cp.write_bytes(df2.to_csv(index=False).encode("cp1252"))
    u16 = tmp_path / "utf16.csv"
    u16.write_bytes(df.to_csv(index=False).encode("utf-16"))
    gz = tmp_path / "ratings.csv.gz"
    df.to_csv(gz, index=False)
    renamed = tmp_path / "renamed.csv"
    df.rename(columns={"rating_id": "ResponseId"}).to_csv(renamed, index=False)
    redcap = tmp_path / "redcap.csv"
    df.rename(columns={"rating_id": "record_id"}).to_csv(redcap, index=False)
    header = tmp_path / "header.csv"
    header.write_text(",".join(df.columns) + "\n")
    for f in (cp, u16, gz, renamed, redcap, header):
        with pytest.raises(EngineNotApplicable):
            scan_csv(f, inst, block_bytes=300)
    with pytest.warns(UserWarning, match="1252"):
        got = read_ratings_any(cp, inst, engine="duckdb", inspect=True)
    assert got.source["engine"] == "pandas" and got.n_read == 200
    got = read_ratings_any(redcap, inst, engine="duckdb", inspect=True)
    assert got.source["engine"] == "pandas"
    with pytest.raises(RatingsError, match="header but no data rows"):
        read_ratings_any(header, inst, engine="duckdb", inspect=True)


def test_true_false_column_with_blanks_falls_back(tmp_path, inst, monkeypatch):
    """A whole-file read holds a column of true/false cells with a blank as Python
    booleans, which no block reads: such exports go to the pandas reader."""
    df = generate_iam_ratings(200, 20, 19)
    df["flag"] = "True"
    df.loc[150, "flag"] = None
    p = tmp_path / "flag.csv"
    df.to_csv(p, index=False)
    with pytest.raises(EngineNotApplicable, match="flag"):
        scan_csv(p, inst, block_bytes=400)
    monkeypatch.setattr(csv_engine, "BLOCK_BYTES", 400)
    assert read_ratings_any(p, inst, engine="duckdb", inspect=True).source["engine"] == \
        "pandas"


def test_unparseable_cell_raises_as_pandas(tmp_path, inst, monkeypatch):
    monkeypatch.setenv("INSTRVAL_MAX_CELL_BYTES", "2000")
    df = generate_iam_ratings(200, 20, 17)
    lines = _text(df)
    cells = lines[20].split(",")
    cells[3] = '"' + "x" * 3000
    lines[20] = ",".join(cells)
    p = tmp_path / "long.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RatingsError) as a:
        inspect_ratings(p, inst)
    with pytest.raises(RatingsError) as b:
        scan_csv(p, inst, block_bytes=500)
    assert str(a.value) == str(b.value)
    assert [vars(x) for x in a.value.problems] == [vars(x) for x in b.value.problems]


def test_choose_engine_by_size(tmp_path, monkeypatch):
    p = tmp_path / "x.csv"
    p.write_text("rating_id,respondent_id\n1,2\n")
    assert choose_engine(p) == "pandas"
    monkeypatch.setattr(csv_engine, "AUTO_CSV_BYTES", 10)
    assert choose_engine(p) == "duckdb"
    assert choose_engine(tmp_path / "missing.csv") == "pandas"


def run(*args):
    return CliRunner().invoke(main, list(map(str, args)), catch_exceptions=False)


def test_cli_check_streamed_equals_pandas(tmp_path, monkeypatch):
    df = faulty_frame(400, 21)
    p = tmp_path / "big.csv"
    df.to_csv(p, index=False)
    monkeypatch.setattr(csv_engine, "BLOCK_BYTES", 700)
    monkeypatch.setattr(csv_engine, "AUTO_CSV_BYTES", 1000)
    out = {}
    for engine in ("pandas", "auto", "duckdb"):
        q = tmp_path / f"q-{engine}.csv"
        r = run("ratings", "check", p, "--instrument", IAM, "--engine", engine, "--json",
                "--quarantine", q)
        assert r.exit_code == 0, r.output
        out[engine] = json.loads(r.stdout)
    assert out["pandas"]["quarantined"] > 5
    assert out["pandas"] == out["auto"] == out["duckdb"]
    assert (tmp_path / "q-pandas.csv").read_bytes() == (tmp_path / "q-auto.csv").read_bytes()
    rel = {}
    for engine in ("pandas", "auto"):
        r = run("relevance", p, "--instrument", IAM, "--engine", engine, "--json",
                "--seed", "4", "--bootstrap", "60")
        assert r.exit_code == 0, r.output
        rel[engine] = json.loads(r.stdout)
    assert rel["pandas"] == rel["auto"]


def test_read_ratings_any_source(tmp_path, inst, monkeypatch):
    df = faulty_frame(300, 22)
    p = tmp_path / "r.csv"
    df.to_csv(p, index=False)
    monkeypatch.setattr(csv_engine, "BLOCK_BYTES", 500)
    with pytest.warns(DataQualityWarning):
        sc = read_ratings_any(p, inst, engine="duckdb")
    assert sc.source["engine"] == "stream"
    assert sc.source["blocks"] > 10
    rd = inspect_ratings(p, inst)
    assert sc.source["sha256"] == rd.source["sha256"]
    np.testing.assert_array_equal(sc.relevance_counts.Y.sum(axis=0),
                                  sc.relevance_counts.Y.sum(axis=0))


def test_survey_crlf_across_reads(tmp_path):
    """A CR LF pair split between two reads is not a bare CR (which would change the
    parser); a lone CR is."""
    from instrval.io.csv_engine import _survey

    p = tmp_path / "crlf.csv"
    p.write_bytes(b"a,b\r\n1,2\r\n3,4\r\n")
    for block in range(1, 12):
        s = _survey(p, block)
        assert (s.bare_cr, s.quotes, s.size) == (0, 0, 15)
    p.write_bytes(b'a,b\r\n1,"2"\r3,4\r')
    for block in range(1, 12):
        s = _survey(p, block)
        assert (s.bare_cr, s.quotes) == (2, 2)


def test_cli_report_streamed_equals_pandas(tmp_path, monkeypatch):
    df = faulty_frame(300, 23)
    p = tmp_path / "ratings.csv"
    df.to_csv(p, index=False)
    monkeypatch.setattr(csv_engine, "BLOCK_BYTES", 900)
    got = {}
    for engine in ("pandas", "duckdb"):
        out = tmp_path / engine
        r = run("report", "--instrument", IAM, "--ratings", p, "--engine", engine,
                "--out", out, "--timestamp", "2024-01-01T00:00:00Z", "--seed", "2", "-q")
        assert r.exit_code == 0, r.output
        got[engine] = json.loads((out / "results.json").read_text())
    a, b = got["pandas"], got["duckdb"]
    for x, y in zip(a["descriptives"]["items"], b["descriptives"]["items"], strict=True):
        # the SD from value counts is summed in another order than row by row
        assert x.pop("sd") == pytest.approx(y.pop("sd"), rel=1e-13)
    assert a == b
    assert (tmp_path / "pandas" / "quarantine.csv").read_bytes() == \
        (tmp_path / "duckdb" / "quarantine.csv").read_bytes()
