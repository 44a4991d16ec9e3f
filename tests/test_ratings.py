"""Reading and checking rating exports: every problem kind, its message and quarantine row.

Expected values are worked out by hand from the small files written in each test (row
numbers as in a spreadsheet: header = row 1).
"""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import instrval
from instrval.errors import DataQualityWarning, RatingsError
from instrval.io.ratings import check_ratings, inspect_ratings, read_ratings

ROOT = Path(__file__).resolve().parents[1]
IAM_FILE = ROOT / "instruments" / "iam" / "iam-2011.yaml"
BFI_FILE = ROOT / "instruments" / "bfi" / "bfi-1.0.yaml"

CI = ["ci_practice_improved", "ci_learned_new", "ci_motivated", "ci_confirmed",
      "ci_reassured", "ci_reminded", "ci_dissatisfied_presentation",
      "ci_dissatisfied_disagree", "ci_dissatisfied_harmful", "ci_dissatisfied_amount"]
USE = ["use_manage_differently", "use_justify_choice", "use_more_certain",
       "use_understand_better", "use_discuss", "use_persuade", "use_decide_unsure"]
HB = ["hb_health_status", "hb_prevention", "hb_avoid_unnecessary"]
HEADER = ["rating_id", "respondent_id", "date", "specialty", *CI, "clinical_relevance",
          "use_gate", *USE, "benefit_gate", *HB]


@pytest.fixture(scope="module")
def iam():
    return instrval.read_instrument(IAM_FILE)


@pytest.fixture(scope="module")
def bfi():
    return instrval.read_instrument(BFI_FILE)


def row(rid, resp, date="2012-03-01", spec="family medicine", ci=None, cr="cr_totally",
        use="no", uses=None, ben="", hbs=None, sep=","):
    ci = ci if ci is not None else [1, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    uses = uses if uses is not None else ([""] * 7 if use != "yes" else [1, 0, 0, 0, 0, 0, 0])
    hbs = hbs if hbs is not None else ([""] * 3 if ben != "yes" else [1, 1, 0])
    cells = [rid, resp, date, spec, *ci, cr, use, *uses, ben, *hbs]
    return sep.join(str(c) for c in cells)


def csv_text(rows, sep=",", header=None):
    return "\n".join([sep.join(header or HEADER), *rows]) + "\n"


def write(tmp_path, name, content):
    p = tmp_path / name
    if isinstance(content, str):
        p.write_text(content, encoding="utf-8")
    else:
        p.write_bytes(content)
    return p


def read(p, inst, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return read_ratings(p, inst, **kw)


def reasons(rd):
    return [p.reason for p in rd.problems]


def qrow(rd, row_no):
    q = rd.quarantine
    hit = q[q["row"] == row_no]
    assert len(hit) == 1, f"row {row_no} not quarantined: {q[['row', 'reason']]}"
    return hit.iloc[0]


GOOD = [
    row("r1", "p1", use="yes", ben="yes"),
    row("r2", "p1", use="no"),
    row("r3", "p2", use="yes", ben="no"),
]


# ------------------------------------------------------------------ clean files
def test_clean_file_hand_counts(tmp_path, iam):
    rd = read(write(tmp_path, "a.csv", csv_text(GOOD)), iam)
    s = rd.summary()
    # hand count: 3 ratings by p1, p1, p2; use gate yes in r1, r3; benefit yes in r1 only
    assert (s["read"], s["accepted"], s["quarantined"], s["respondents"]) == (3, 3, 0, 2)
    assert s["presented"] == {"cognitive_impact": 3, "clinical_relevance": 3,
                              "intention_to_use": 2, "health_benefit": 1}
    assert s["gates_open"] == {"use_gate": 2, "benefit_gate": 1}
    assert s["date_min"] == s["date_max"] == "2012-03-01"
    d = rd.data
    assert list(d.columns) == ["rating_id", "respondent_id", "date", "specialty",
                               *rd.value_columns()]
    assert d["ci_practice_improved"].dtype == "Int64"
    assert d["clinical_relevance"].dtype == "string"
    assert d["date"].dtype == "datetime64[us]"
    assert d.loc[1, "use_manage_differently"] is pd.NA
    assert rd.problems == ()
    assert rd.source["format"] == "wide" and len(rd.source["sha256"]) == 64


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_delimiters(tmp_path, iam, sep):
    rows = [row("r1", "p1", use="yes", ben="yes", sep=sep), row("r2", "p1", sep=sep)]
    rd = read(write(tmp_path, "a.csv", csv_text(rows, sep=sep)), iam)
    assert rd.n_accepted == 2 and rd.source["delimiter"] == sep


def test_bom_crlf_gzip_quotes(tmp_path, iam):
    text = csv_text(GOOD)
    base = read(write(tmp_path, "plain.csv", text), iam).data
    bom = read(write(tmp_path, "bom.csv", b"\xef\xbb\xbf" + text.encode()), iam).data
    crlf = read(write(tmp_path, "crlf.csv", text.replace("\n", "\r\n")), iam).data
    gz = read(write(tmp_path, "a.csv.gz", gzip.compress(text.encode())), iam).data
    quoted = read(write(tmp_path, "q.csv", text.replace("family medicine",
                                                         '"family medicine"')), iam).data
    for other in (bom, crlf, gz, quoted):
        pd.testing.assert_frame_equal(base, other)


# ------------------------------------------------------------------ file-level failures
def test_empty_file(tmp_path, iam):
    with pytest.raises(RatingsError) as e:
        read(write(tmp_path, "e.csv", ""), iam)
    assert e.value.problems[0].reason == "empty_file"
    assert "empty" in str(e.value)


def test_header_only(tmp_path, iam):
    with pytest.raises(RatingsError) as e:
        read(write(tmp_path, "h.csv", ",".join(HEADER) + "\n"), iam)
    assert e.value.problems[0].reason == "header_only"
    assert "no data rows" in str(e.value)


def test_other_encodings_are_read_as_by_every_reader(tmp_path, iam):
    """Windows-1252 (with a warning naming the byte and line) and UTF-16 with a BOM are
    decoded as data tables decode them; binary content is refused."""
    text = csv_text([row("r1", "p1", spec="médecine familiale")])
    ref = read(write(tmp_path, "u8.csv", text.encode("utf-8")), iam)
    with pytest.warns(DataQualityWarning, match=r"not UTF-8 \(byte 0xe9 on line 2\)"):
        rd = read_ratings(write(tmp_path, "l.csv", text.encode("cp1252")), iam)
    assert rd.data.equals(ref.data)
    rd16 = read(write(tmp_path, "u.csv", text.encode("utf-16")), iam)
    assert rd16.data.equals(ref.data)
    with pytest.raises(RatingsError) as e:
        read(write(tmp_path, "n.csv", text.encode("utf-8") + b"\x00"), iam)
    assert e.value.problems[0].reason == "not_text"


def test_missing_file_and_bad_format(tmp_path, iam):
    with pytest.raises(RatingsError, match="not found"):
        read(tmp_path / "nope.csv", iam)
    with pytest.raises(RatingsError, match="unknown rating format 'json'"):
        read(write(tmp_path, "a.csv", csv_text(GOOD)), iam, format="json")


def test_missing_id_column(tmp_path, iam):
    header = [h for h in HEADER if h != "respondent_id"]
    body = ["r1," + ",".join(row("r1", "p1").split(",")[2:])]
    with pytest.raises(RatingsError) as e:
        read(write(tmp_path, "a.csv", csv_text(body, header=header)), iam)
    assert e.value.problems[0].reason == "missing_id_column"
    assert "'respondent_id'" in str(e.value)


def test_nothing_usable_raises_with_problems(tmp_path, iam):
    bad = [row("r1", "", ci=[2] * 10), row("r2", "")]
    with pytest.raises(RatingsError) as e:
        read(write(tmp_path, "a.csv", csv_text(bad)), iam)
    assert "nothing usable" in str(e.value)
    rs = {p.reason for p in e.value.problems}
    assert {"nothing_usable", "blank_id", "out_of_range"} <= rs
    assert e.value.ratings.n_quarantined == 2


# ------------------------------------------------------------------ row-level problems
def check_one(tmp_path, iam, bad_line, reason, column, value, message_part, *, row_no=3,
              header=None):
    text = csv_text([GOOD[0], bad_line, GOOD[2]], header=header)
    rd = read(write(tmp_path, "f.csv", text), iam)
    assert rd.n_accepted == 2 and rd.n_quarantined == 1 and rd.n_read == 3
    probs = [p for p in rd.problems if p.reason == reason]
    assert probs, rd.problems
    p = probs[0]
    assert (p.row, p.column, p.value) == (row_no, column, value)
    assert message_part in p.message
    assert p.file.endswith("f.csv")
    q = qrow(rd, row_no)
    assert reason in q["reason"].split(";")
    assert message_part in q["message"]
    assert q["rating_id"] == bad_line.split(",")[0]
    return rd, q


def test_ragged_row(tmp_path, iam):
    rd, q = check_one(tmp_path, iam, row("r9", "p9") + ",extra", "ragged_row", None, 28,
                      "28 cells but the header has 27")
    assert q["(extra cells)"] == "extra"


def test_truncated_row(tmp_path, iam):
    line = ",".join(row("r9", "p9").split(",")[:10])
    rd, q = check_one(tmp_path, iam, line, "truncated_row", None, 10,
                      "10 cells but the header has 27")
    assert q["ci_motivated"] == "0" and q["hb_prevention"] == ""


def test_truncated_last_line_without_newline(tmp_path, iam):
    text = csv_text(GOOD) + ",".join(row("r9", "p9").split(",")[:5])
    rd = read(write(tmp_path, "t.csv", text), iam)
    assert qrow(rd, 5)["reason"] == "truncated_row"
    assert rd.n_accepted + rd.n_quarantined == rd.n_read == 4


def test_empty_row(tmp_path, iam):
    rd, q = check_one(tmp_path, iam, "", "empty_row", None, None, "the row is empty")


def test_blank_ids(tmp_path, iam):
    check_one(tmp_path, iam, row("r9", " "), "blank_id", "respondent_id", None,
              "the respondent id is blank")
    rd, q = check_one(tmp_path, iam, row("", "p9"), "blank_id", "rating_id", None,
                      "the rating id is blank")


def test_duplicate_rating_ids(tmp_path, iam):
    text = csv_text([GOOD[0], GOOD[1], row("r1", "p7")])
    rd = read(write(tmp_path, "d.csv", text), iam)
    assert rd.n_accepted == 1 and rd.n_quarantined == 2
    dups = [p for p in rd.problems if p.reason == "duplicate_id"]
    assert [(p.row, p.value) for p in dups] == [(2, "r1"), (4, "r1")]
    assert "also appears on row(s) 4" in dups[0].message
    assert "also appears on row(s) 2" in dups[1].message
    assert list(rd.quarantine["row"]) == [2, 4]


def test_not_a_number(tmp_path, iam):
    ci = [1, "x", 0, 0, 0, 0, 0, 0, 0, 0]
    check_one(tmp_path, iam, row("r9", "p9", ci=ci), "not_a_number", "ci_learned_new", "x",
              "'x' is not a number (allowed codes: 0, 1)")


def test_out_of_range_multi_select(tmp_path, iam):
    ci = [1, 0, 2, 0, 0, 0, 0, 0, 0, 0]
    check_one(tmp_path, iam, row("r9", "p9", ci=ci), "out_of_range", "ci_motivated", "2",
              "2 is not an allowed code of ci_motivated (allowed: 0, 1)")
    ci = [1, 0, 0.5, 0, 0, 0, 0, 0, 0, 0]
    check_one(tmp_path, iam, row("r9", "p9", ci=ci), "out_of_range", "ci_motivated", "0.5",
              "0.5 is not an allowed code")


def test_out_of_range_likert(tmp_path, bfi):
    items = list(bfi.item_ids)
    header = ["rating_id", "respondent_id", *items]
    ok = ["a", "p1", *["3"] * 25]
    bad = ["b", "p2", "7", *["3"] * 24]
    rd = read(write(tmp_path, "b.csv", csv_text([",".join(ok), ",".join(bad)],
                                                header=header)), bfi)
    p = [p for p in rd.problems if p.reason == "out_of_range"][0]
    assert (p.row, p.column, p.value) == (3, "A1", "7")
    assert "allowed: 1, 2, 3, 4, 5, 6" in p.message
    assert rd.data["A1"].tolist() == [3]


def test_invalid_level_and_codes(tmp_path, iam):
    check_one(tmp_path, iam, row("r9", "p9", cr="cr_maybe"), "invalid_level",
              "clinical_relevance", "cr_maybe",
              "'cr_maybe' is not a level of clinical_relevance (allowed: cr_totally (1)")
    # codes and other cases are accepted
    text = csv_text([row("r1", "p1", cr="2"), row("r2", "p2", cr="CR_Not", use="No")])
    rd = read(write(tmp_path, "c.csv", text), iam)
    assert rd.data["clinical_relevance"].tolist() == ["cr_partially", "cr_not"]
    assert rd.data["use_gate"].tolist() == ["no", "no"]


def test_invalid_option(tmp_path, iam):
    check_one(tmp_path, iam, row("r9", "p9", use="perhaps"), "invalid_option", "use_gate",
              "perhaps", "'perhaps' is not an option of gate use_gate "
                         "(allowed: yes (1), no (2), possibly (3))")


def test_skip_logic(tmp_path, iam):
    uses = [0, 1, 0, 0, 0, 0, 0]
    rd, q = check_one(tmp_path, iam, row("r9", "p9", use="no", uses=uses), "skip_logic",
                      "use_gate", "no", "intention_to_use is answered (use_manage_differently")
    assert "although gate use_gate is 'no'" in q["message"]
    assert "asked only when use_gate is 'yes'" in q["message"]


def test_nothing_answered(tmp_path, iam):
    line = "r9,p9,2012-03-01,family medicine" + "," * 23
    check_one(tmp_path, iam, line, "nothing_answered", None, None,
              "no answer cell of this row holds anything")


def test_invalid_date(tmp_path, iam):
    check_one(tmp_path, iam, row("r9", "p9", date="2012-13-45"), "invalid_date", "date",
              "2012-13-45", "'2012-13-45' is not a date; write dates as ISO 8601")
    check_one(tmp_path, iam, row("r9", "p9", date="03/05/2012"), "invalid_date", "date",
              "03/05/2012", "ISO 8601")


def test_missing_and_unknown_columns(tmp_path, iam):
    header = [("ci_learnd_new" if h == "ci_learned_new" else h) for h in HEADER]
    header = [h for h in header if h != "hb_prevention"]
    lines = []
    for g in GOOD:
        cells = g.split(",")
        del cells[HEADER.index("hb_prevention")]
        lines.append(",".join(cells))
    rd = read(write(tmp_path, "m.csv", csv_text(lines, header=header)), iam)
    assert rd.n_accepted == 3
    miss = {p.column: p for p in rd.problems if p.reason == "missing_column"}
    assert set(miss) == {"ci_learned_new", "hb_prevention"}
    assert miss["hb_prevention"].severity == "error" and miss["hb_prevention"].row is None
    assert "its cells are treated as not presented" in miss["hb_prevention"].message
    unk = [p for p in rd.problems if p.reason == "unknown_column"][0]
    assert unk.severity == "warning" and unk.column == "ci_learnd_new"
    assert "did you mean 'ci_learned_new'?" in unk.message
    assert rd.data["hb_prevention"].isna().all()
    assert "ci_learnd_new" not in rd.data.columns
    assert rd.group_columns == ("specialty",)


def test_warning_and_strict(tmp_path, iam):
    text = csv_text([GOOD[0], row("r9", "p9", cr="bad")])
    p = write(tmp_path, "s.csv", text)
    with pytest.warns(DataQualityWarning, match="1 of 2 rows accepted, 1 quarantined"):
        read_ratings(p, iam)
    with pytest.raises(RatingsError, match="strict mode accepts none") as e:
        read_ratings(p, iam, strict=True)
    assert e.value.problems[0].reason == "invalid_level"


# ------------------------------------------------------------------ many faults at once
FAULTS = {  # row -> (line, reason) ; rows are 2 + position in the faulty block
    "ragged_row": lambda: row("f1", "q1") + ",x",
    "truncated_row": lambda: "f2,q2,2012-01-01",
    "empty_row": lambda: "",
    "blank_id": lambda: row("f4", ""),
    "duplicate_id": lambda: row("R000001", "q5"),
    "not_a_number": lambda: row("f6", "q6", ci=["one", 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    "out_of_range": lambda: row("f7", "q7", ci=[3, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    "invalid_level": lambda: row("f8", "q8", cr="cr_sometimes"),
    "invalid_option": lambda: row("f9", "q9", use="maybe"),
    "skip_logic": lambda: row("f10", "q10", use="possibly", uses=[1, 0, 0, 0, 0, 0, 0]),
    "nothing_answered": lambda: "f11,q11,2012-01-01,other" + "," * 23,
    "invalid_date": lambda: row("f12", "q12", date="yesterday"),
}


def faulty_sample_text() -> str:
    sample = (ROOT / "examples" / "iam" / "data" / "iam-sample.csv").read_text()
    return sample + "\n".join(f() for f in FAULTS.values()) + "\n"


def test_many_faults_at_once(tmp_path, iam):
    p = write(tmp_path, "iam-faulty.csv", faulty_sample_text())
    rd = read(p, iam)
    n_sample = 3000
    # the duplicate quarantines both copies (R000001 of the sample, on row 2)
    assert rd.n_read == n_sample + len(FAULTS)
    assert rd.n_quarantined == len(FAULTS) + 1
    assert rd.n_accepted + rd.n_quarantined == rd.n_read
    q = rd.quarantine.set_index("row")
    first = n_sample + 2
    for k, reason in enumerate(FAULTS):
        assert reason in q.loc[first + k, "reason"].split(";"), (reason, q.loc[first + k])
    assert "duplicate_id" in q.loc[2, "reason"]
    assert set(FAULTS) <= set(reasons(rd))


# ------------------------------------------------------------------ other containers
def test_xlsx_parquet_and_in_memory(tmp_path, iam):
    base = read(write(tmp_path, "a.csv", csv_text(GOOD)), iam)
    df = pd.read_csv(tmp_path / "a.csv", dtype=str, keep_default_na=False)
    df.to_excel(tmp_path / "a.xlsx", index=False)
    df.to_parquet(tmp_path / "a.parquet")
    for name in ("a.xlsx", "a.parquet"):
        rd = read(tmp_path / name, iam)
        pd.testing.assert_frame_equal(rd.data, base.data)
    rd = check_ratings(df, iam, file="memory")
    pd.testing.assert_frame_equal(rd.data, base.data)
    # an in-memory table with numbers, and a bad cell: row numbers as in a spreadsheet
    df2 = base.data.copy()
    df2["ci_motivated"] = df2["ci_motivated"].astype("float64")
    df2.loc[1, "ci_motivated"] = 5.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        rd2 = check_ratings(df2, iam)
    assert qrow(rd2, 3)["reason"] == "out_of_range"
    assert qrow(rd2, 3)["ci_motivated"] == "5"


def test_long_format(tmp_path, iam):
    lines = ["rating_id,respondent_id,item_id,value",
             "r1,p1,ci_practice_improved,1", "r1,p1,ci_learned_new,0",
             "r1,p1,cr_partially,1", "r1,p1,use_gate,yes", "r1,p1,use_discuss,1",
             "r2,p2,clinical_relevance,cr_not", "r2,p2,ci_learned_new,1",
             "r3,p3,ci_bogus,1",                                    # unknown item
             "r4,p4,ci_motivated,1", "r4,p4,ci_motivated,0",        # duplicate entry
             "r5,p5,ci_motivated,2",                                # out of range
             ",p6,ci_motivated,1"]                                  # blank rating id
    rd = read(write(tmp_path, "long.csv", "\n".join(lines) + "\n"), iam)
    assert rd.source["format"] == "long"
    assert rd.n_read == 6 and rd.n_accepted == 2 and rd.n_quarantined == 4
    d = rd.data.set_index("rating_id")
    assert d.loc["r1", "clinical_relevance"] == "cr_partially"
    assert d.loc["r1", "use_discuss"] == 1 and d.loc["r1", "ci_learned_new"] == 0
    assert d.loc["r1", "ci_motivated"] is pd.NA
    assert d.loc["r2", "clinical_relevance"] == "cr_not"
    q = rd.quarantine.set_index("row")
    assert q.loc[9, "reason"] == "unknown_item" and "'ci_bogus'" in q.loc[9, "message"]
    assert q.loc[10, "reason"] == "duplicate_entry" and q.loc[10, "rows"] == "10,11"
    assert q.loc[12, "reason"] == "out_of_range"
    assert q.loc[13, "reason"] == "blank_id"


def test_spss(tmp_path, iam):
    pyreadstat = pytest.importorskip("pyreadstat")
    df = pd.DataFrame({
        "rating_id": ["r1", "r2"], "respondent_id": ["p1", "p2"],
        **{c: [1.0, 0.0] for c in CI},
        "clinical_relevance": [3.0, 1.0], "use_gate": [1.0, 2.0],
        **{c: [1.0, np.nan] for c in USE},
        "benefit_gate": [2.0, np.nan], **{c: [np.nan, np.nan] for c in HB}})
    labels = {"clinical_relevance": {1.0: "Not relevant", 2.0: "Partially relevant",
                                     3.0: "Totally relevant"},
              "use_gate": {1.0: "yes", 2.0: "no", 3.0: "possibly"}}
    p = tmp_path / "a.sav"
    pyreadstat.write_sav(df, str(p), variable_value_labels=labels)
    rd = read(p, iam)
    assert rd.source["format"] == "spss"
    # value labels win over the positional convention (code 3 -> "Totally relevant")
    assert rd.data["clinical_relevance"].tolist() == ["cr_totally", "cr_not"]
    assert rd.data["use_gate"].tolist() == ["yes", "no"]
    assert rd.data["benefit_gate"].tolist() == ["no", pd.NA]
    assert rd.n_accepted == 2


QUALTRICS = [
    ["StartDate", "EndDate", "Status", "Progress", "Finished", "RecordedDate", "ResponseId",
     "ExternalReference", "Q_CI_1", "Q_CI_2", "Q_CR", "Q_USE", "Q_USE_LIST_1",
     "Q_USE_LIST_7"],
    ["Start Date", "End Date", "Response Type", "Progress", "Finished", "Recorded Date",
     "Response ID", "External Data Reference", "Impact - practice", "Impact - learned",
     "Relevance", "Will you use it?", "Use - manage", "Use - decide"],
    ['{"ImportId":"startDate"}', '{"ImportId":"endDate"}', '{"ImportId":"status"}',
     '{"ImportId":"progress"}', '{"ImportId":"finished"}', '{"ImportId":"recordedDate"}',
     '{"ImportId":"_recordId"}', '{"ImportId":"externalDataReference"}',
     '{"ImportId":"QID1_1"}', '{"ImportId":"QID1_2"}', '{"ImportId":"QID2"}',
     '{"ImportId":"QID3"}', '{"ImportId":"QID4_1"}', '{"ImportId":"QID4_7"}'],
    ["2012-02-01 10:00:00", "2012-02-01 10:02:00", "0", "100", "1", "2012-02-01 10:02:00",
     "R_abc", "doc1", "1", "", "2", "1", "1", ""],
    ["2012-02-02 10:00:00", "2012-02-02 10:02:00", "0", "100", "1", "2012-02-02 10:02:00",
     "R_def", "doc2", "", "1", "1", "2", "", ""],
    ["2012-02-03 10:00:00", "2012-02-03 10:02:00", "0", "100", "1", "2012-02-03 10:02:00",
     "R_ghi", "doc2", "1", "1", "9", "2", "", ""],
]


def qualtrics_text():
    return "\n".join(",".join(f'"{c}"' if c else "" for c in r) for r in QUALTRICS) + "\n"


QMAP = """
mapping_version: "1.0"
instrument: iam@2011
columns:
  Q_CI_1: ci_practice_improved
  Q_CI_2: ci_learned_new
  Q_CR: clinical_relevance
  Q_USE: use_gate
  Q_USE_LIST_1: use_manage_differently
  Q_USE_LIST_7: use_decide_unsure
codes:
  clinical_relevance: {1: cr_totally, 2: cr_partially, 3: cr_not}
ignore: [StartDate, EndDate]
"""


def test_qualtrics_with_mapping(tmp_path, iam):
    p = write(tmp_path, "qualtrics.csv", qualtrics_text())
    m = write(tmp_path, "map.yaml", QMAP)
    rd = read(p, iam, mapping=m)
    assert rd.source["format"] == "qualtrics"
    assert rd.n_read == 3 and rd.n_accepted == 2
    d = rd.data.set_index("rating_id")
    assert d.loc["R_abc", "respondent_id"] == "doc1"
    # Qualtrics leaves unticked boxes blank: within an answered construct they become 0
    assert d.loc["R_abc", "ci_learned_new"] == 0 and d.loc["R_def", "ci_learned_new"] == 1
    assert d.loc["R_abc", "use_decide_unsure"] == 0
    assert d.loc["R_def", "use_manage_differently"] is pd.NA  # gate closed: not presented
    assert d.loc["R_abc", "clinical_relevance"] == "cr_partially"
    assert str(d.loc["R_abc", "date"]) == "2012-02-01 10:02:00"
    # data rows start on spreadsheet row 4 (three header rows)
    assert qrow(rd, 6)["reason"] == "invalid_level"
    missing = {p.column for p in rd.problems if p.reason == "missing_column"}
    assert "ci_motivated" in missing


def test_mapping_errors(tmp_path, iam):
    m = write(tmp_path, "bad.yaml", "columns:\n  Q1: ci_learnd_new\n  Q2: use_gate\n"
                                    "  Q3: use_gate\ncodes:\n  use_gate: {1: perhaps}\n"
                                    "colums: {}\n")
    with pytest.raises(RatingsError) as e:
        read(write(tmp_path, "a.csv", csv_text(GOOD)), iam, mapping=m)
    msgs = [p.message for p in e.value.problems]
    assert any("did you mean 'ci_learned_new'" in x for x in msgs)
    assert any("both map to 'use_gate'" in x for x in msgs)
    assert any("'perhaps' is not an option of use_gate" in x for x in msgs)
    assert any("unknown key 'colums'" in x for x in msgs)
    assert all(p.line is not None for p in e.value.problems)


def test_map_template(tmp_path, iam):
    from instrval.io.ratings import ratings_mapping_template
    from instrval.io.yamlfile import loads_document

    text = ratings_mapping_template(write(tmp_path, "qualtrics.csv", qualtrics_text()), iam)
    data = loads_document(text).data
    assert data["columns"]["ResponseId"] == "rating_id"
    assert data["columns"]["ExternalReference"] == "respondent_id"
    assert "Status" in data["ignore"]
    assert {"Q_CI_1", "Q_CR", "Q_USE"} <= set(data["groups"]) | set(data["unmatched"])
    assert "Targets no column matched" in text


# ------------------------------------------------------------------ REDCap
def test_redcap_sample_equals_canonical(iam):
    d = ROOT / "examples" / "iam" / "data"
    a = read(d / "iam-sample.csv", iam)
    b = read(d / "iam-sample-redcap.csv", iam, dictionary=d / "iam-redcap-dictionary.csv")
    assert b.source["format"] == "redcap" and b.source["record_rows"] == 72
    assert b.problems == ()
    pd.testing.assert_frame_equal(
        b.data.sort_values("rating_id").reset_index(drop=True), a.data)


def test_redcap_problems_and_hidden_zeros(tmp_path, iam):
    d = ROOT / "examples" / "iam" / "data"
    lines = (d / "iam-sample-redcap.csv").read_text().splitlines()
    header = lines[0].split(",")
    k_gate = header.index("use_gate")
    k_use1 = header.index("intention_to_use___1")
    # find a rating row with use_gate = 2 (no): its use boxes are 0 (hidden) -> fine
    i = next(i for i, ln in enumerate(lines) if i and ln.split(",")[k_gate] == "2")
    cells = lines[i].split(",")
    assert cells[k_use1] == "0"
    cells[k_use1] = "1"          # a ticked box behind a closed gate: skip-logic violation
    lines[i] = ",".join(cells)
    p = write(tmp_path, "rc.csv", "\n".join(lines) + "\n")
    rd = read(p, iam, dictionary=d / "iam-redcap-dictionary.csv")
    q = qrow(rd, i + 1)
    assert q["reason"] == "skip_logic"
    assert q["intention_to_use___1"] == "1"      # raw REDCap cells in the quarantine
    assert rd.n_accepted == 2999


# ------------------------------------------------------------------ chunks
def test_iter_ratings_parquet_chunks(tmp_path, iam):
    from instrval.datasets.iam import write_iam_parquet
    from instrval.io.ratings import count_ratings, iter_ratings

    p = write_iam_parquet(tmp_path / "x.parquet", 5000, 100, seed=3, chunk_size=1500)
    whole = read(p, iam)
    chunks = list(iter_ratings(p, iam, chunksize=1200))
    assert len(chunks) == 5
    assert chunks[1].source["chunk_offset"] == 1200
    tot = count_ratings(chunks, iam).to_dict()
    s = whole.summary()
    for k in ("read", "accepted", "quarantined", "respondents", "presented", "gates_open",
              "date_min", "date_max"):
        assert tot[k] == s[k], k
    assert tot["selected"]["use_decide_unsure"] == int((whole.data["use_decide_unsure"]
                                                        == 1).sum())
    # a rating id repeated in a later chunk is quarantined there
    df = whole.data.copy()
    df.loc[4000, "rating_id"] = df.loc[10, "rating_id"]
    df.to_parquet(tmp_path / "dup.parquet")
    chunks = list(iter_ratings(tmp_path / "dup.parquet", iam, chunksize=1000))
    tot = count_ratings(chunks, iam)
    assert tot.quarantined == 1 and tot.accepted == 4999
    assert chunks[4].quarantine["reason"].tolist() == ["duplicate_id"]


def test_missing_markers_get_a_hint(tmp_path, iam):
    """'NA' (R's write.csv default) is not read as blank, but the message says how to fix it."""
    f = tmp_path / "na.csv"
    f.write_text("rating_id,respondent_id,ci_learned_new\nr1,p1,NA\nr2,p2,abc\n")
    rd = inspect_ratings(f, iam)
    msgs = {p.value: p.message for p in rd.problems if p.reason == "not_a_number"}
    assert "missing answers must be blank cells" in msgs["NA"]
    assert 'na = ""' in msgs["NA"]
    assert "blank cells" not in msgs["abc"]


def test_error_problems_hold_every_problem_and_message_lists_fifty(tmp_path):
    """``RatingsError.problems`` holds every problem (errors.py's promise); only the message
    is shortened."""
    from instrval.io.ratings import MAX_LISTED_PROBLEMS

    inst = instrval.read_instrument(ROOT / "instruments" / "iam" / "iam-2011.yaml")
    head = "rating_id,respondent_id,ci_learned_new\n"
    body = "".join(f"r{i},p{i},7\n" for i in range(120))  # 120 out-of-range cells
    path = tmp_path / "bad.csv"
    path.write_text(head + body, encoding="utf-8")
    with pytest.raises(RatingsError) as info:
        read_ratings(path, inst)
    err = info.value
    out_of_range = [p for p in err.problems if p.row is not None]
    assert len(out_of_range) >= 120
    assert MAX_LISTED_PROBLEMS == RatingsError.max_listed == 50
    assert str(err).count("\n  - ") == 50
    assert f"and {len(err.problems) - 50} more problems" in str(err)
