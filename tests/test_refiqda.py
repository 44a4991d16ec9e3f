"""Tests of the REFI-QDA reader (.qdpx, .qde, .qdc) and of its defences.

The projects are built here, following the REFI-QDA Project schema (Users/User,
CodeBook/Codes/Code, Cases/Case/SourceRef, Sources/TextSource/PlainTextSelection/Coding/
CodeRef). Hostile inputs (billion laughs, external entities, zip bombs, path traversal,
nested archives) must be refused with a CodingError naming the reason.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from instrval.errors import CodingError
from instrval.io import coding as coding_io
from instrval.io.coding import read_codebook, read_coding
from instrval.io.instrument import read_instrument

ROOT = Path(__file__).parent.parent
IAM = read_instrument(ROOT / "instruments" / "iam" / "iam-2011.yaml")

G = {name: f"00000000-0000-0000-0000-{i:012d}" for i, name in enumerate([
    "alice", "bob", "cognitive", "reassured", "fits", "misread", "newcode", "src1", "src2",
    "case1", "case2", "sel1", "sel2", "sel3", "cod1", "cod2", "cod3", "cod4", "sel4",
    "cod5", "ghost"])}

TEXT1 = 'I was reassured, "less worried" & the dose was <5 mg.\nNext question.'
TEXT2 = "Reassured is the same as confirmed for me."


def project_xml(source2: str | None = None) -> str:
    src2 = source2 if source2 is not None else (
        f'<TextSource guid="{G["src2"]}" name="interview_P02.txt" '
        f'plainTextPath="internal://{G["src2"]}.txt">'
        f'<PlainTextSelection guid="{G["sel3"]}" startPosition="0" endPosition="{len(TEXT2)}" '
        f'creatingUser="{G["alice"]}">'
        f'<Coding guid="{G["cod4"]}" creatingUser="{G["alice"]}">'
        f'<CodeRef targetGUID="{G["misread"]}"/></Coding></PlainTextSelection>'
        f'<PlainTextSelection guid="{G["sel4"]}" startPosition="5" endPosition="999">'
        f'<Coding guid="{G["cod5"]}" creatingUser="{G["alice"]}">'
        f'<CodeRef targetGUID="{G["fits"]}"/></Coding></PlainTextSelection>'
        f"</TextSource>")
    t1 = TEXT1.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    end1 = TEXT1.index("\n")
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="IAM interviews" origin="test">
  <Users>
    <User guid="{G['alice']}" name="Alice"/>
    <User guid="{G['bob']}" name="Bob"/>
  </Users>
  <CodeBook><Codes>
    <Code guid="{G['cognitive']}" name="cognitive_impact" isCodable="false">
      <Code guid="{G['reassured']}" name="ci_reassured" isCodable="false">
        <Code guid="{G['fits']}" name="supports" isCodable="true"/>
        <Code guid="{G['misread']}" name="misread" isCodable="true">
          <Description>category: challenges
subcategory: misread</Description>
        </Code>
      </Code>
      <Code guid="{G['newcode']}" name="shared with patient" isCodable="true">
        <Description>category: missing_concept
theme: Shared with the patient</Description>
      </Code>
    </Code>
  </Codes></CodeBook>
  <Cases>
    <Case guid="{G['case1']}" name="P01"><SourceRef targetGUID="{G['src1']}"/></Case>
  </Cases>
  <Sources>
    <TextSource guid="{G['src1']}" name="interview_P01.txt">
      <PlainTextContent>{t1}</PlainTextContent>
      <PlainTextSelection guid="{G['sel1']}" startPosition="0" endPosition="{end1}"
          creatingUser="{G['alice']}">
        <Coding guid="{G['cod1']}" creatingUser="{G['alice']}">
          <CodeRef targetGUID="{G['fits']}"/></Coding>
        <Coding guid="{G['cod2']}" creatingUser="{G['bob']}">
          <CodeRef targetGUID="{G['fits']}"/></Coding>
      </PlainTextSelection>
      <PlainTextSelection guid="{G['sel2']}" startPosition="{end1 + 1}"
          endPosition="{len(TEXT1)}">
        <Coding guid="{G['cod3']}" creatingUser="{G['bob']}">
          <CodeRef targetGUID="{G['ghost']}"/></Coding>
      </PlainTextSelection>
    </TextSource>
    {src2}
  </Sources>
</Project>
"""


def make_qdpx(path: Path, members: dict[str, bytes | str] | None = None) -> Path:
    if members is None:
        members = {"project.qde": project_xml(), f"Sources/{G['src2']}.txt": TEXT2}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data.encode("utf-8") if isinstance(data, str) else data)
    return path


def test_read_qdpx_project(tmp_path):
    p = make_qdpx(tmp_path / "project.qdpx")
    data = read_coding(p, instrument=IAM)
    assert data.source["format"] == "refi-qda"
    assert data.source["sources"] == 2 and data.source["users"] == 2
    seg = data.segments
    end1 = TEXT1.index("\n")
    # two coders on the same selection -> same segment id, text sliced by character position
    assert list(seg["segment_id"]) == [f"interview_P01.txt:0-{end1}"] * 2 + [
        f"interview_P02.txt:0-{len(TEXT2)}"]
    assert seg.loc[0, "text"] == TEXT1[:end1]           # verbatim, unescaped
    assert list(seg["coder"]) == ["Alice", "Bob", "Alice"]
    assert list(seg["participant"]) == ["P01", "P01", "interview_P02"]  # Case, else source
    # the project's own codebook: path parts give item, construct and category
    assert seg.loc[0, "code"] == "cognitive_impact/ci_reassured/supports"
    assert list(seg["item_id"]) == ["ci_reassured"] * 3
    assert list(seg["category"]) == ["supports", "supports", "challenges"]
    assert seg.loc[2, "subcategory"] == "misread"
    # a coding pointing at an unknown code and a selection outside the text: quarantined
    reasons = sorted(x.reason for x in data.problems)
    assert reasons == ["bad_selection", "bad_selection"]
    assert data.n_read == 5 and len(data.quarantine) == 2
    msgs = " ".join(data.quarantine["message"])
    assert "not in the project's codebook" in msgs and "outside source" in msgs


def test_read_bare_qde_and_external_codebook(tmp_path):
    xml = project_xml(source2="")
    p = tmp_path / "project.qde"
    p.write_text(xml, encoding="utf-8")
    cb = tmp_path / "cb.yaml"
    cb.write_text("codes:\n  cognitive_impact/ci_reassured/supports: "
                  "{item_id: ci_reassured, category: supports}\n")
    data = read_coding(p, codebook=cb, instrument=IAM)
    assert len(data.segments) == 2
    assert [x.reason for x in data.problems] == ["bad_selection"]


def test_read_qdc_codebook(tmp_path):
    qdc = tmp_path / "codes.qdc"
    start = project_xml().index("<CodeBook>")
    end = project_xml().index("</CodeBook>") + len("</CodeBook>")
    body = project_xml()[start:end].replace("<CodeBook>", '<CodeBook xmlns="urn:QDA-XML:'
                                            'codebook:1.0" origin="test">')
    qdc.write_text('<?xml version="1.0" encoding="utf-8"?>\n' + body, encoding="utf-8")
    cb = read_codebook(qdc, instrument=IAM)
    assert cb["cognitive_impact/ci_reassured/misread"].category == "challenges"
    assert cb["cognitive_impact/ci_reassured/misread"].item_id == "ci_reassured"
    new = cb["cognitive_impact/shared with patient"]
    assert new.category == "missing_concept" and new.item_id is None
    assert new.construct_id == "cognitive_impact" and new.theme == "Shared with the patient"


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&lol4;"/>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE Project [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<Project xmlns="urn:QDA-XML:project:1.0" name="x"><Description>&xxe;</Description></Project>
"""


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY],
                         ids=["billion_laughs", "external_entity"])
def test_hostile_xml_is_refused(tmp_path, xml):
    with pytest.raises(CodingError) as exc:
        read_coding(make_qdpx(tmp_path / "evil.qdpx", {"project.qde": xml}))
    assert exc.value.problems[0].reason == "unsafe_xml"
    assert "not allowed" in str(exc.value)
    bare = tmp_path / "evil.qde"
    bare.write_text(xml)
    with pytest.raises(CodingError, match="unsafe|not allowed"):
        read_coding(bare)
    qdc = tmp_path / "evil.qdc"
    qdc.write_text(xml)
    with pytest.raises(CodingError, match="not allowed"):
        read_codebook(qdc)


def test_malformed_xml_and_wrong_root(tmp_path):
    with pytest.raises(CodingError) as exc:
        read_coding(make_qdpx(tmp_path / "a.qdpx", {"project.qde": "<Project><oops></Project>"}))
    assert exc.value.problems[0].reason == "xml_syntax"
    with pytest.raises(CodingError, match="not a REFI-QDA"):
        read_coding(make_qdpx(tmp_path / "b.qdpx", {"project.qde": "<Other/>"}))
    with pytest.raises(CodingError, match="no project.qde"):
        read_coding(make_qdpx(tmp_path / "c.qdpx", {"readme.txt": "hi"}))
    (tmp_path / "d.qdpx").write_bytes(b"PK\x03\x04 this is not a zip")
    with pytest.raises(CodingError, match="zip"):
        read_coding(tmp_path / "d.qdpx")


def test_zip_bomb_is_refused(tmp_path, monkeypatch):
    # 50 MB of zeros compress to about 50 kB: a ratio of ~1000, refused by the ratio cap
    bomb = make_qdpx(tmp_path / "bomb.qdpx", {"project.qde": project_xml(),
                                              "Sources/big.txt": b"\0" * (50 * 2**20)})
    with pytest.raises(CodingError) as exc:
        read_coding(bomb)
    assert exc.value.problems[0].reason == "archive_too_large"
    assert "zip bomb" in str(exc.value)
    # declared size above the member cap
    monkeypatch.setitem(coding_io.LIMITS, "max_member_bytes", 10 * 2**20)
    monkeypatch.setitem(coding_io.LIMITS, "max_ratio", 10**9)
    with pytest.raises(CodingError, match="declares"):
        read_coding(bomb)
    # total declared size
    monkeypatch.setitem(coding_io.LIMITS, "max_member_bytes", 10**12)
    monkeypatch.setitem(coding_io.LIMITS, "max_total_bytes", 2**20)
    with pytest.raises(CodingError, match="archive declares"):
        read_coding(bomb)


def test_member_that_expands_past_its_cap_is_refused(tmp_path, monkeypatch):
    # the project.qde itself is larger than the XML cap: reading stops at the cap
    p = make_qdpx(tmp_path / "p.qdpx")
    monkeypatch.setitem(coding_io.LIMITS, "max_xml_bytes", 100)
    with pytest.raises(CodingError, match="expands past"):
        read_coding(p)


def test_lying_declared_size_is_caught(tmp_path):
    # patch the sizes in the local and central headers to claim a tiny member
    p = make_qdpx(tmp_path / "p.qdpx")
    raw = bytearray(p.read_bytes())
    size = len(project_xml().encode()).to_bytes(4, "little")
    assert raw.count(size) >= 2
    raw = raw.replace(size, (10).to_bytes(4, "little"))
    p.write_bytes(bytes(raw))
    with pytest.raises(CodingError) as exc:
        read_coding(p)
    assert exc.value.problems[0].reason in ("bad_archive", "xml_syntax")


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/evil.txt", "Sources/../../x.txt",
                                  "C:/x.txt"])
def test_path_traversal_is_refused(tmp_path, name):
    p = make_qdpx(tmp_path / "t.qdpx", {"project.qde": project_xml(), name: "x"})
    with pytest.raises(CodingError) as exc:
        read_coding(p)
    assert exc.value.problems[0].reason == "archive_path_traversal"


def test_nested_archive_is_refused(tmp_path):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("project.qde", project_xml())
    p = make_qdpx(tmp_path / "n.qdpx", {"project.qde": project_xml(),
                                        "Sources/inner.zip": inner.getvalue()})
    with pytest.raises(CodingError) as exc:
        read_coding(p)
    assert exc.value.problems[0].reason == "nested_archive"
    # disguised: a zip stored under a .txt name that the project reads
    p2 = make_qdpx(tmp_path / "n2.qdpx", {"project.qde": project_xml(),
                                          f"Sources/{G['src2']}.txt": inner.getvalue()})
    with pytest.raises(CodingError, match="itself a zip"):
        read_coding(p2)


def test_too_many_members_is_refused(tmp_path, monkeypatch):
    monkeypatch.setitem(coding_io.LIMITS, "max_members", 5)
    members = {"project.qde": project_xml(), **{f"Sources/f{i}.txt": "x" for i in range(6)}}
    with pytest.raises(CodingError) as exc:
        read_coding(make_qdpx(tmp_path / "m.qdpx", members))
    assert exc.value.problems[0].reason == "archive_too_many_members"


def test_xlsx_goes_through_the_same_archive_checks(tmp_path):
    p = make_qdpx(tmp_path / "evil.xlsx", {"../x.xml": "x"})
    with pytest.raises(CodingError) as exc:
        read_coding(p)
    assert exc.value.problems[0].reason == "archive_path_traversal"
