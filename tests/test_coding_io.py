"""Tests of the coding readers (tables, Taguette, QualCoder), codebooks and checks.

Every file is created by the test. Each reason code of instrval.validate.coding has a test,
and one table has many faults at once.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pandas as pd
import pytest

from instrval.errors import CodingError, DataQualityWarning
from instrval.io.coding import read_codebook, read_coding
from instrval.io.instrument import read_instrument
from instrval.model.coding import SEGMENT_COLUMNS

ROOT = Path(__file__).parent.parent
IAM = read_instrument(ROOT / "instruments" / "iam" / "iam-2011.yaml")
HEADER = ["segment_id", "participant", "document", "text", "code", "coder", "item_id",
          "construct_id", "theme"]

CODEBOOK_YAML = """\
format_version: "1.0"
instrument: iam@2011
codes:
  reassured_ok: {item_id: ci_reassured, category: supports}
  reassured_misread: {item_id: ci_reassured, category: "challenges:misread"}
  learned_ok: {item_id: ci_learned_new, category: supports}
  wording: {category: wording}
  shared_with_patient: {construct_id: cognitive_impact, category: missing_concept,
                        theme: Shared with patient}
"""


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture
def codebook(tmp_path: Path) -> Path:
    p = tmp_path / "codebook.yaml"
    p.write_text(CODEBOOK_YAML, encoding="utf-8")
    return p


GOOD = [
    ["s1", "P01", "int1", 'He said "<5 mg" & stopped', "reassured_ok", "A", "", "", ""],
    ["s1", "P01", "int1", 'He said "<5 mg" & stopped', "wording", "A", "ci_reassured", "", ""],
    ["s2", "P02", "int2", "Same as confirmed", "reassured_misread", "A", "", "", ""],
    ["s2", "P02", "int2", "Same as confirmed", "reassured_misread", "B", "", "", ""],
    ["s3", "P02", "int2", "  I gave it to her  ", "shared_with_patient", "A", "", "", ""],
]


def test_read_table_csv(tmp_path, codebook):
    p = write_csv(tmp_path / "seg.csv", GOOD)
    data = read_coding(p, instrument=IAM, codebook=codebook)
    assert data.problems == ()
    seg = data.segments
    assert list(seg.columns) == list(SEGMENT_COLUMNS)
    assert len(seg) == 5 and data.n_read == 5
    # text kept verbatim (untrusted; escaping is the report's job), spaces included
    assert seg.loc[0, "text"] == 'He said "<5 mg" & stopped'
    assert seg.loc[4, "text"] == "  I gave it to her  "
    # categories and items resolved from the codebook; construct from the instrument
    assert list(seg["category"]) == ["supports", "wording", "challenges", "challenges",
                                     "missing_concept"]
    assert seg.loc[2, "subcategory"] == "misread"
    assert seg.loc[0, "construct_id"] == "cognitive_impact"
    assert seg.loc[4, "theme"] == "Shared with patient"
    assert list(seg["row"]) == [2, 3, 4, 5, 6]
    src = data.source
    assert src["format"] == "table" and src["rows_read"] == 5
    assert src["sha256"] == hashlib.sha256(p.read_bytes()).hexdigest()
    assert data.coders == ("A", "B") and data.participants == ("P01", "P02")


def test_read_table_xlsx_and_tsv(tmp_path, codebook):
    df = pd.DataFrame(GOOD, columns=HEADER)
    x = tmp_path / "seg.xlsx"
    df.to_excel(x, index=False)
    data = read_coding(x, instrument=IAM, codebook=codebook)
    assert data.problems == () and len(data.segments) == 5
    assert data.segments.loc[0, "text"] == 'He said "<5 mg" & stopped'
    t = tmp_path / "seg.tsv"
    df.to_csv(t, sep="\t", index=False)
    assert len(read_coding(t, codebook=codebook).segments) == 5


def test_without_codebook_category_codes_are_understood(tmp_path):
    p = write_csv(tmp_path / "seg.csv", [
        ["s1", "P1", "d", "fits", "supports", "A", "ci_reassured", "", ""],
        ["s2", "P1", "d", "odd", "challenges:unclear", "A", "ci_reassured", "", ""],
        ["s3", "P1", "d", "x", "mystery", "A", "", "", ""]])
    seg = read_coding(p, instrument=IAM).segments
    assert list(seg["category"].fillna("-")) == ["supports", "challenges", "-"]
    assert seg.loc[1, "subcategory"] == "unclear"


def _reasons(data):
    return [p.reason for p in data.problems]


@pytest.mark.parametrize("row,reason", [
    (["", "P1", "d", "t", "reassured_ok", "A", "", "", ""], "missing_segment_id"),
    (["s9", "", "d", "t", "reassured_ok", "A", "", "", ""], "missing_participant"),
    (["s9", "P1", "d", "   ", "reassured_ok", "A", "", "", ""], "empty_text"),
    (["s9", "P1", "d", "t", "", "A", "", "", ""], "missing_code"),
    (["s9", "P1", "d", "t", "reassured_ok", "", "", "", ""], "missing_coder"),
    (["s9", "P1", "d", "t", "nope", "A", "", "", ""], "unknown_code"),
    (["s9", "P1", "d", "t", "wording", "A", "ci_nonexistent", "", ""], "unknown_item"),
    (["s9", "P1", "d", "t", "wording", "A", "", "no_such_construct", ""],
     "unknown_construct"),
    (["s9", "P1", "d", "t", "wording", "A", "cr_totally", "cognitive_impact", ""],
     "construct_mismatch"),
    (["s9", "P1", "d", "t", "reassured_ok", "A", "ci_learned_new", "", ""], "item_conflict"),
])
def test_each_problem_kind_quarantines_the_row(tmp_path, codebook, row, reason):
    p = write_csv(tmp_path / "seg.csv", [GOOD[0], row])
    data = read_coding(p, instrument=IAM, codebook=codebook)
    assert reason in _reasons(data)
    prob = next(x for x in data.problems if x.reason == reason)
    assert prob.file == str(p) and prob.row == 3 and prob.severity == "error"
    assert len(data.segments) == 1 and len(data.quarantine) == 1
    q = data.quarantine.iloc[0]
    assert q["row"] == 3 and reason in q["reason"]
    # the raw cells are kept
    assert q["segment_id"] == row[0] and q["code"] == row[4]


def test_unknown_category_in_table(tmp_path):
    p = write_csv(tmp_path / "seg.csv", [["s1", "P1", "d", "t", "x", "A", "", "", "",
                                          "great"]], HEADER + ["category"])
    assert _reasons(read_coding(p)) == ["unknown_category"]


def test_duplicate_and_conflicting_segments(tmp_path, codebook):
    p = write_csv(tmp_path / "seg.csv", [
        GOOD[0],
        GOOD[0],                                                       # duplicate
        ["s1", "P01", "int1", "another text", "wording", "A", "", "", ""],  # conflicting
        ["s1", "P01", "int1", GOOD[0][3], "reassured_ok", "B", "", "", ""],  # fine: coder B
    ])
    data = read_coding(p, instrument=IAM, codebook=codebook)
    assert _reasons(data) == ["duplicate_segment", "conflicting_segment"]
    assert [x.row for x in data.problems] == [3, 4]
    assert "row 2" in data.problems[0].message
    assert len(data.segments) == 2 and data.n_read == 4


def test_no_coder_column_is_a_warning(tmp_path, codebook):
    header = [h for h in HEADER if h != "coder"]
    p = write_csv(tmp_path / "seg.csv", [["s1", "P1", "d", "t", "reassured_ok", "", "", ""]],
                  header)
    data = read_coding(p, codebook=codebook)
    assert _reasons(data) == ["no_coder_column"]
    assert data.problems[0].severity == "warning"
    assert len(data.segments) == 1 and data.segments["coder"].isna().all()


def test_many_faults_at_once(tmp_path, codebook):
    rows = [GOOD[0],
            ["", "", "d", "", "", "", "", "", ""],
            ["s7", "P1", "d", "t", "nope", "A", "ci_nonexistent", "", ""],
            GOOD[2]]
    p = write_csv(tmp_path / "seg.csv", rows)
    data = read_coding(p, instrument=IAM, codebook=codebook)
    assert sorted(_reasons(data)) == sorted([
        "missing_segment_id", "missing_participant", "empty_text", "missing_code",
        "missing_coder", "unknown_code", "unknown_item"])
    assert data.quarantine["reason"].tolist() == [
        "missing_segment_id;missing_participant;empty_text;missing_code;missing_coder",
        "unknown_code;unknown_item"]
    assert data.n_accepted + data.n_quarantined == data.n_read == 4
    assert set(data.quarantine["row"]) == {3, 4}


def test_missing_columns_and_bad_files(tmp_path):
    p = write_csv(tmp_path / "seg.csv", [["x", "y"]], ["participant", "whatever"])
    with pytest.raises(CodingError) as exc:
        read_coding(p)
    assert {x.reason for x in exc.value.problems} == {"missing_column"}
    assert {x.column for x in exc.value.problems} == {"segment_id", "text", "code"}
    with pytest.raises(CodingError, match="not found"):
        read_coding(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(CodingError, match="empty"):
        read_coding(tmp_path / "empty.csv")
    # Windows-1252 text is read (with a warning) as by every reader; its columns are checked
    (tmp_path / "latin.csv").write_bytes("segment_id,text\ns1,caf\xe9\n".encode("latin-1"))
    with pytest.warns(DataQualityWarning, match="not UTF-8"), \
            pytest.raises(CodingError, match="required column 'participant'"):
        read_coding(tmp_path / "latin.csv")
    (tmp_path / "nul.csv").write_bytes(b"segment_id,text\ns1,\x00\n")
    with pytest.raises(CodingError, match="NUL byte on line 2"):
        read_coding(tmp_path / "nul.csv")
    with pytest.raises(CodingError, match="unknown coding format"):
        read_coding(p, format="nvivo")


def test_taguette_export(tmp_path, codebook):
    rows = [["12", "P01.docx", "reassured_ok", "I felt <b>calmer</b> & relieved"],
            ["12", "P01.docx", "wording", "I felt <b>calmer</b> & relieved"],
            ["13", "P02.docx", "reassured_misread", "Same as confirmed"],
            ["14", "P02.docx", "", "untagged highlight"]]
    p = write_csv(tmp_path / "highlights.csv", rows, ["id", "document", "tag", "content"])
    data = read_coding(p, codebook=codebook, instrument=IAM)
    assert data.source["format"] == "taguette"
    assert _reasons(data) == ["no_coder_column", "missing_code"]
    seg = data.segments
    assert list(seg["segment_id"]) == ["12", "12", "13"]
    assert list(seg["participant"]) == ["P01", "P01", "P02"]
    assert seg.loc[0, "text"] == "I felt <b>calmer</b> & relieved"
    assert list(seg["category"]) == ["supports", "wording", "challenges"]
    x = tmp_path / "highlights.xlsx"
    pd.DataFrame(rows, columns=["id", "document", "tag", "content"]).to_excel(x, index=False)
    assert read_coding(x, codebook=codebook).source["format"] == "taguette"


def test_qualcoder_export(tmp_path, codebook):
    header = ["codename", "File", "seltext", "pos0", "pos1", "owner", "ctid"]
    rows = [["reassured_ok", "P01.txt", "calmer now", "10", "20", "alice", "1"],
            ["reassured_ok", "P01.txt", "calmer now", "10", "20", "bob", "2"],
            ["reassured_misread", "P02.txt", "same as confirmed", "5", "22", "alice", "3"]]
    p = write_csv(tmp_path / "qc.csv", rows, header)
    data = read_coding(p, codebook=codebook)
    assert data.source["format"] == "qualcoder" and data.problems == ()
    seg = data.segments
    assert list(seg["segment_id"]) == ["P01.txt:10-20", "P01.txt:10-20", "P02.txt:5-22"]
    assert list(seg["coder"]) == ["alice", "bob", "alice"]
    assert list(seg["participant"]) == ["P01", "P01", "P02"]
    # forced format on a table that lacks QualCoder columns
    with pytest.raises(CodingError, match="QualCoder export lacks"):
        read_coding(write_csv(tmp_path / "t.csv", GOOD), format="qualcoder")


def test_read_codebook_yaml_csv_and_problems(tmp_path, codebook):
    cb = read_codebook(codebook, instrument=IAM)
    assert cb["reassured_misread"].category == "challenges"
    assert cb["reassured_misread"].subcategory == "misread"
    assert cb["reassured_ok"].construct_id == "cognitive_impact"
    assert cb.instrument == "iam@2011" and len(cb) == 5
    assert list(cb.to_frame().columns)[:4] == ["code", "category", "item_id", "construct_id"]
    # list form
    lst = tmp_path / "cb2.yaml"
    lst.write_text("codes:\n  - {code: a, category: supports, item: ci_reassured}\n")
    assert read_codebook(lst)["a"].item_id == "ci_reassured"
    c = tmp_path / "cb.csv"
    write_csv(c, [["a", "supports", "ci_reassured", ""], ["b", "challenges", "", ""]],
              ["code", "category", "item_id", "subcategory"])
    assert read_codebook(c)["b"].category == "challenges"
    bad = tmp_path / "bad.yaml"
    bad.write_text("codes:\n  a: {category: great}\n  b: {item_id: ci_nope, category: other}\n"
                   "  c: {item_id: cr_totally, construct_id: cognitive_impact, "
                   "category: other}\n")
    with pytest.raises(CodingError) as exc:
        read_codebook(bad, instrument=IAM)
    assert [x.reason for x in exc.value.problems] == [
        "unknown_category", "unknown_item", "construct_mismatch"]
    assert exc.value.problems[0].line == 2
    dup = tmp_path / "dup.csv"
    write_csv(dup, [["a", "supports"], ["a", "other"]], ["code", "category"])
    with pytest.raises(CodingError) as exc:
        read_codebook(dup)
    assert exc.value.problems[0].reason == "duplicate_code" and exc.value.problems[0].row == 3
    nokey = tmp_path / "nokey.yaml"
    nokey.write_text("something: 1\n")
    with pytest.raises(CodingError, match="codes"):
        read_codebook(nokey)


def test_iam_example_reads_clean():
    data = read_coding(ROOT / "examples/iam/coding/segments.csv", instrument=IAM,
                       codebook=ROOT / "examples/iam/coding/codebook.yaml")
    assert data.problems == () and data.quarantine.empty
    assert data.participants == tuple(f"P{i:02d}" for i in range(1, 16))
    assert data.segments["segment_id"].nunique() >= 200
    # texts that need HTML escaping are there, verbatim
    texts = " ".join(data.segments["text"])
    assert "<5 mg" in texts and "&" in texts and '"' in texts


def test_iam_example_segments_regenerate_exactly():
    """The committed IAM interview segments are what their script writes, byte for byte,
    and no 6-word phrase recurs in more than two segments (the script checks both)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "examples/iam/coding/make_segments.py", "--check"],
                          cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
