"""QualCoder (coded-text report, SQLite project) and ATLAS.ti REFI-QDA exports."""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path

import pytest

from instrval.errors import CodingError
from instrval.io.coding import LIMITS, qualcoder_segments, read_coding
from instrval.stats.agreement import coder_agreement

DATA = Path(__file__).resolve().parent / "data" / "qualcoder"


def test_qualcoder_report_is_detected_and_codings_pair_across_coders():
    cd = read_coding(DATA / "coded_text_report.csv")
    assert cd.source["format"] == "qualcoder"
    seg = cd.segments
    # the two coders' codings of the same passage share one segment, per file
    assert seg["segment_id"].nunique() == 3
    assert set(seg.groupby("segment_id")["coder"].nunique()) == {2}
    assert set(seg["document"]) == {"interview_01.txt", "interview_02.txt"}
    # the image coding is quarantined with its reason, not dropped
    assert len(cd.quarantine) == 1
    assert any(p.reason == "not_text" for p in cd.problems)
    agr = coder_agreement(cd)
    assert agr.to_dict()  # agreement is computed on the 3 shared segments
    assert int(agr.n_segments) == 3


def test_segments_from_positions_union_overlapping_spans():
    docs = ["a", "a", "a", "b"]
    ids = qualcoder_segments(docs, ["", "", "", ""], [(0, 10), (5, 20), (30, 40), (5, 20)])
    assert ids == ["a:0-20", "a:0-20", "a:30-40", "b:5-20"]


def _qualcoder_project(folder: Path) -> Path:
    # the CREATE TABLE statements of QualCoder's __main__.py for the tables read
    folder.mkdir()
    conn = sqlite3.connect(folder / "data.qda")
    conn.executescript("""
    CREATE TABLE source (id integer primary key, name text, fulltext text, mediapath text,
        memo text, owner text, date text, av_text_id integer, risid integer, unique(name));
    CREATE TABLE cases (caseid integer primary key, name text, memo text, owner text,
        date text, constraint ucm unique(name));
    CREATE TABLE case_text (id integer primary key, caseid integer, fid integer,
        pos0 integer, pos1 integer, owner text, date text, memo text);
    CREATE TABLE code_name (cid integer primary key, name text, memo text, catid integer,
        owner text, date text, color text, supercid integer, unique(name));
    CREATE TABLE code_text (ctid integer primary key, cid integer, fid integer,
        seltext text, pos0 integer, pos1 integer, owner text, date text, memo text,
        avid integer, important integer, unique(cid,fid,pos0,pos1, owner));
    """)
    text = "I check the recommendation first. Then I decide what to change."
    conn.execute("INSERT INTO source VALUES (1, 'p01.txt', ?, NULL, '', 'anna', '', NULL, "
                 "NULL)", (text,))
    conn.execute("INSERT INTO cases VALUES (1, 'P01', '', 'anna', '')")
    conn.execute("INSERT INTO case_text VALUES (1, 1, 1, 0, 63, 'anna', '', '')")
    conn.execute("INSERT INTO code_name VALUES (1, 'supports', '', NULL, 'anna', '', "
                 "'#fff', NULL)")
    conn.execute("INSERT INTO code_name VALUES (2, 'learned', '', NULL, 'anna', '', "
                 "'#fff', NULL)")
    rows = [(1, 1, 1, text[0:33], 0, 33, "anna"), (2, 1, 1, text[2:33], 2, 33, "ben"),
            (3, 2, 1, text[34:63], 34, 63, "anna"), (4, 1, 1, text[34:60], 34, 60, "ben")]
    conn.executemany("INSERT INTO code_text VALUES (?, ?, ?, ?, ?, ?, ?, '', '', NULL, 0)",
                     rows)
    conn.commit()
    conn.close()
    return folder


def test_qualcoder_project_database_is_read(tmp_path):
    proj = _qualcoder_project(tmp_path / "study.qda")
    before = (proj / "data.qda").read_bytes()
    for target in (proj, proj / "data.qda"):
        cd = read_coding(target)
        assert cd.source["format"] == "qualcoder"
        assert cd.source["container"] == "sqlite"
        seg = cd.segments
        assert sorted(seg["segment_id"].unique()) == ["p01.txt:0-33", "p01.txt:34-63"]
        assert set(seg["participant"]) == {"P01"}
        assert set(seg["coder"]) == {"anna", "ben"}
    assert (proj / "data.qda").read_bytes() == before  # opened read-only


def test_qualcoder_database_bounds(tmp_path, monkeypatch):
    proj = _qualcoder_project(tmp_path / "study.qda")
    monkeypatch.setitem(LIMITS, "max_db_rows", 3)
    with pytest.raises(CodingError, match="more than 3 codings"):
        read_coding(proj)
    monkeypatch.setitem(LIMITS, "max_db_rows", 2_000_000)
    monkeypatch.setitem(LIMITS, "max_db_bytes", 10)
    with pytest.raises(CodingError, match="over the cap"):
        read_coding(proj)
    other = tmp_path / "other.qda"
    other.mkdir()
    sqlite3.connect(other / "data.qda").execute("CREATE TABLE t (x)").connection.close()
    monkeypatch.setitem(LIMITS, "max_db_bytes", 2**30)
    with pytest.raises(CodingError, match="not a QualCoder project database"):
        read_coding(other)


# The project header, users and code GUIDs as ATLAS.ti 23 writes them (upper-case GUIDs;
# the header is that of a REFI-QDA export by "ATLAS.ti for Windows 23.2.3"); a code group
# per the REFI-QDA 1.5 <Sets> element; coded text invented for the test.
ATLAS = """<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" origin="ATLAS.ti for Windows 23.2.3.27778"
  name="study" creatingUserGUID="088B08AC-D5CD-4ADB-8B71-B4F3459C177F">
  <Users>
    <User guid="088B08AC-D5CD-4ADB-8B71-B4F3459C177F" name="Anna" />
    <User guid="C32A2BD5-537F-4838-8B17-DF9EFBAFDF4B" name="Ben" />
  </Users>
  <CodeBook><Codes>
    <Code guid="A182CD3A-D83C-4D8C-BC80-26D9103EC6D6" name="checks the guideline" isCodable="true"/>
    <Code guid="2D2466F0-D77F-4F8C-BDF9-628966B6B74D" name="misread option" isCodable="true"/>
  </Codes></CodeBook>
  <Sources>
    <TextSource guid="5A3A7E80-0C4E-4A7B-9E5B-1C2D3E4F5A6B" name="P01.txt">
      <PlainTextContent>I check the guideline. The second option confused me.</PlainTextContent>
      <PlainTextSelection guid="6B4B8F91-1D5F-4B8C-AF6C-2D3E4F5A6B7C" startPosition="0"
          endPosition="22" creatingUser="{088b08ac-d5cd-4adb-8b71-b4f3459c177f}">
        <Coding guid="7C5C9FA2-2E6F-4C9D-B07D-3E4F5A6B7C8D"
            creatingUser="{088b08ac-d5cd-4adb-8b71-b4f3459c177f}">
          <CodeRef targetGUID="{a182cd3a-d83c-4d8c-bc80-26d9103ec6d6}"/></Coding>
        <Coding guid="8D6DAFB3-3F70-4DAE-81 8E-4F5A6B7C8D9E"
            creatingUser="c32a2bd5-537f-4838-8b17-df9efbafdf4b">
          <CodeRef targetGUID="A182CD3A-D83C-4D8C-BC80-26D9103EC6D6"/></Coding>
      </PlainTextSelection>
      <PlainTextSelection guid="9E7EB0C4-4071-4EBF-928F-5A6B7C8D9EAF" startPosition="23"
          endPosition="53" creatingUser="C32A2BD5-537F-4838-8B17-DF9EFBAFDF4B">
        <Coding guid="AF8FC1D5-5182-4FC0-A390-6B7C8D9EAFB0">
          <CodeRef targetGUID="2D2466F0-D77F-4F8C-BDF9-628966B6B74D"/></Coding>
      </PlainTextSelection>
    </TextSource>
  </Sources>
  <Sets>
    <Set guid="B0A0D2E6-6293-40D1-B4A1-7C8D9EAFB0C1" name="clinical_relevance">
      <MemberCode targetGUID="A182CD3A-D83C-4D8C-BC80-26D9103EC6D6"/>
    </Set>
    <Set guid="C1B1E3F7-73A4-41E2-85B2-8D9EAFB0C1D2" name="challenges">
      <MemberCode targetGUID="2D2466F0-D77F-4F8C-BDF9-628966B6B74D"/>
    </Set>
  </Sets>
</Project>
""".replace("81 8E", "818E")


def test_atlas_ti_code_groups_and_users(tmp_path):
    from instrval.io.instrument import read_instrument

    iam = read_instrument(Path(__file__).resolve().parents[1] / "instruments/iam/iam-2011.yaml")
    p = tmp_path / "atlas.qdpx"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("project.qde", ATLAS)
    cd = read_coding(p, instrument=iam)
    seg = cd.segments
    # coders come from <Users>, whatever the GUID spelling (case, braces)
    assert sorted(seg["coder"]) == ["Anna", "Ben", "Ben"]
    assert not [q for q in cd.problems if "coder" in q.reason]
    book = cd.codebook
    # code groups: a group named by a construct id gives the construct, a category name
    # the category
    assert book.entries["checks the guideline"].construct_id == "clinical_relevance"
    assert book.entries["misread option"].category == "challenges"
    assert cd.source["code_groups"] == 2


def test_text_overlap_rule():
    from instrval.io.coding import _text_overlap

    a = "I was not sure what the second option meant."
    b = "the second option meant. It reads like the first."  # 24 characters shared
    assert _text_overlap(a, b) and _text_overlap(b, a)
    assert _text_overlap(a, a[5:20])  # one inside the other
    assert not _text_overlap("four five six seven", "five six seven eight")  # < 20
