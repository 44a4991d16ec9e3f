"""Hostile input: every payload of the adversarial review, refused with a named error.

Each test builds its payload (big ones streamed, or against small limits set through the
``INSTRVAL_MAX_...`` environment variables) and checks the reason code, the message and,
for the command line, the exit status: 1 for bad input, 130 for Ctrl-C, never 70
("internal error"). See docs/security.md.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import signal
import subprocess
import sys
import threading
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import instrval
from instrval.cli import main
from instrval.errors import (
    CodingError,
    DataQualityWarning,
    InstrumentError,
    PanelError,
    PublishError,
    RatingsError,
    StatisticsError,
    StudyError,
)
from instrval.io.coding import read_codebook, read_coding
from instrval.io.files import Limits, check_parquet, limits, read_input_bytes
from instrval.io.instrument import read_instrument
from instrval.io.mapping import load_mapping
from instrval.io.panel import read_panel
from instrval.io.ratings import inspect_ratings, iter_ratings, read_ratings
from instrval.io.study import read_study
from instrval.io.tables import read_table
from instrval.model.checks import check_instrument_data

ROOT = Path(__file__).resolve().parents[1]
IAM_FILE = ROOT / "instruments" / "iam" / "iam-2011.yaml"
BFI_FILE = ROOT / "instruments" / "bfi" / "bfi-1.0.yaml"
MiB = 1 << 20


@pytest.fixture(scope="module")
def iam():
    return instrval.read_instrument(IAM_FILE)


@pytest.fixture(scope="module")
def bfi():
    return instrval.read_instrument(BFI_FILE)


def reasons(exc_info) -> list[str]:
    return [p.reason for p in exc_info.value.problems]


def wide_bfi(n: int = 20, *, cell=lambda i, j: (i + j) % 6 + 1) -> str:
    items = [f"{c}{k}" for c in "ACENO" for k in range(1, 6)]
    lines = ["rating_id,respondent_id," + ",".join(items)]
    lines += [f"r{i},p{i}," + ",".join(str(cell(i, j)) for j in range(len(items)))
              for i in range(n)]
    return "\n".join(lines) + "\n"


def gzip_of_zeros(path: Path, size: int, head: bytes = b"") -> Path:
    """A gzip file inflating to ``size`` bytes (a header line then zeros), streamed."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(path, "wb") as fh:
        fh.write(comp.compress(head))
        block = b"0" * MiB
        for _ in range(size // MiB):
            fh.write(comp.compress(block))
        fh.write(comp.flush())
    return path


def xlsx_bytes(sheet_xml: bytes, shared: bytes | None = None) -> bytes:
    """A minimal workbook (one sheet) built by hand, so that payloads are cheap."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/'
            '2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
            'openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
            'sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '</Types>'))
        z.writestr("_rels/.rels", (
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'))
        z.writestr("xl/workbook.xml", (
            '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/'
            'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" '
            'r:id="rId1"/></sheets></workbook>'))
        z.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>'))
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        if shared is not None:
            z.writestr("xl/sharedStrings.xml", shared)
    return buf.getvalue()


SHEET_HEAD = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
              b'spreadsheetml/2006/main"><sheetData>')
SHEET_TAIL = b"</sheetData></worksheet>"


def sheet(rows: list[list[object]]) -> bytes:
    out = [SHEET_HEAD]
    for r in rows:
        cells = "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' if isinstance(v, str)
                        else f"<c><v>{v}</v></c>" for v in r)
        out.append(f"<row>{cells}</row>".encode())
    out.append(SHEET_TAIL)
    return b"".join(out)


# ============================================================ 1. writes outside --out
def test_version_with_path_is_refused_by_the_checker(iam):
    data = iam.to_dict()
    data["version"] = "x/../../../victim/important"
    probs = check_instrument_data(data)
    assert [p.reason for p in probs] == ["invalid_version"]
    assert probs[0].key == "version"
    for bad in ("../x", "a\\b", ".hidden", "", "x" * 65):
        data["version"] = bad
        assert {p.reason for p in check_instrument_data(data)} & {"invalid_version",
                                                                   "empty_value"}
    data["version"] = "2.1.0+local_1"
    assert check_instrument_data(data) == []


def test_version_label_option_cannot_leave_the_output(tmp_path):
    bfi = pd.read_csv(ROOT / "examples/bfi/bfi.csv").head(200)
    bfi.to_csv(tmp_path / "bfi.csv", index=False)
    out = tmp_path / "a" / "b" / "out"
    r = CliRunner().invoke(main, [
        "report", "--instrument", str(BFI_FILE), "--ratings", str(tmp_path / "bfi.csv"),
        "--out", str(out), "--version-label", "../../../x"])
    assert r.exit_code == 1, r.output
    assert "not a safe version label" in r.output
    assert not any(p.name.startswith("bfi-") for p in tmp_path.rglob("*.yaml"))


def test_revision_refuses_unsafe_labels(iam):
    from instrval.integrate.revision import revise_instrument as revise

    with pytest.raises(StudyError, match="not a safe version label"):
        revise(iam, pd.DataFrame(columns=["item_id", "row_type"]), version="../../x")


def test_report_paths_stay_inside_the_folder(tmp_path):
    from instrval.pipeline import _inside

    assert _inside(tmp_path, "report.html") == tmp_path / "report.html"
    for bad in ("../x.yaml", "/etc/passwd", "tables/../../x", "."):
        with pytest.raises(StudyError) as exc:
            _inside(tmp_path, bad)
        assert reasons(exc) == ["path_outside_output"]


# ============================================================ 2. YAML alias expansion
LAUGHS = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n"
    for i in range(8))  # 9**9 = 387 million strings from 300 bytes


@pytest.mark.parametrize("reader, error, name", [
    (lambda p, inst: read_instrument(p), InstrumentError, "i.yaml"),
    (lambda p, inst: read_study(p), StudyError, "study.yaml"),
    (lambda p, inst: load_mapping(p, inst), RatingsError, "mapping.yaml"),
    (lambda p, inst: read_codebook(p), CodingError, "codebook.yaml"),
])
def test_alias_bombs_are_refused_by_every_yaml_reader(tmp_path, iam, reader, error, name):
    assert len(LAUGHS) < 600
    p = tmp_path / name
    p.write_text("codes: {}\nprovenance: {}\n" + LAUGHS)
    with pytest.raises(Exception) as exc:
        reader(p, iam)
    assert isinstance(exc.value, instrval.InstrvalError)
    assert "yaml_alias" in reasons(exc)
    assert "aliases" in str(exc.value)


def test_alias_bomb_inside_provenance_of_an_instrument(tmp_path):
    text = IAM_FILE.read_text(encoding="utf-8")
    body = "".join("  " + ln + "\n" for ln in LAUGHS.splitlines())
    p = tmp_path / "iam.yaml"
    p.write_text(text + "provenance:\n" + body)
    with pytest.raises(InstrumentError) as exc:
        read_instrument(p)
    assert reasons(exc) == ["yaml_alias"]


def test_self_referring_alias_and_deep_nesting(tmp_path):
    p = tmp_path / "i.yaml"
    p.write_text("a: &a [1, *a]\n")
    with pytest.raises(InstrumentError) as exc:
        read_instrument(p)
    assert reasons(exc) == ["yaml_alias"]
    j = tmp_path / "i.json"
    j.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InstrumentError) as exc:
        read_instrument(j)
    assert reasons(exc) == ["too_complex"]


def test_few_aliases_still_read(tmp_path):
    from instrval.io.yamlfile import loads_document

    doc = loads_document("base: &b {min: 1, max: 5}\nx: *b\ny: *b\n")
    assert doc.data["y"] == {"min": 1, "max": 5}


# ============================================================ 3. decompression bombs
def test_gzip_bomb_is_refused_for_ratings_tables_and_panels(tmp_path, bfi):
    # 64 MiB of one character: about 64 KiB compressed, a ratio near 1000
    bomb = gzip_of_zeros(tmp_path / "r.csv.gz", 64 * MiB, b"rating_id,A1\n")
    assert bomb.stat().st_size < 200_000
    with pytest.raises(RatingsError) as exc:
        read_ratings(bomb, bfi)
    assert reasons(exc) == ["decompression_bomb"] and "inflates" in str(exc.value)
    with pytest.raises(StatisticsError) as exc:
        read_table(bomb)
    assert reasons(exc) == ["decompression_bomb"]
    panel = gzip_of_zeros(tmp_path / "panel.csv", 64 * MiB, b"expert,item,relevance\n")
    with pytest.raises(PanelError) as exc:
        read_panel(panel)
    assert reasons(exc) == ["decompression_bomb"]


def test_gzip_size_limit_is_configurable(tmp_path, bfi, monkeypatch):
    text = wide_bfi(2000)
    p = tmp_path / "r.csv.gz"
    p.write_bytes(gzip.compress(text.encode()))
    assert read_ratings(p, bfi).n_accepted == 2000  # the defaults read it
    monkeypatch.setenv("INSTRVAL_MAX_INFLATED_BYTES", "10000")
    with pytest.raises(RatingsError) as exc:
        read_ratings(p, bfi)
    assert reasons(exc) == ["decompression_bomb"] and "INSTRVAL_MAX_INFLATED_BYTES" in str(
        exc.value)


def test_xlsx_with_one_huge_cell_is_refused(tmp_path, bfi):
    huge = b"<sst><si><t>" + b"A" * (64 * MiB) + b"</t></si></sst>"
    data = xlsx_bytes(sheet([["rating_id", "A1"]]).replace(
        b"</sheetData>", b'<row><c t="s"><v>0</v></c></row></sheetData>'), huge)
    assert len(data) < 1 * MiB
    for reader, error in ((lambda p: read_ratings(p, bfi), RatingsError),
                          (read_table, StatisticsError), (read_panel, PanelError),
                          (lambda p: instrval.read_decisions(p), StudyError)):
        p = tmp_path / "x.xlsx"
        p.write_bytes(data)
        with pytest.raises(error) as exc:
            reader(p)
        assert reasons(exc) == ["decompression_bomb"], reader


def test_xlsx_with_three_million_rows_is_refused_before_parsing(tmp_path, bfi, monkeypatch):
    monkeypatch.setenv("INSTRVAL_MAX_RATIO", "100000")  # let the row limit speak
    body = b"<row><c><v>1</v></c><c><v>2</v></c></row>" * 3_000_000
    data = xlsx_bytes(SHEET_HEAD + b'<row><c t="inlineStr"><is><t>rating_id</t></is></c>'
                      b'<c t="inlineStr"><is><t>A1</t></is></c></row>' + body + SHEET_TAIL)
    p = tmp_path / "big.xlsx"
    p.write_bytes(data)
    with pytest.raises(RatingsError) as exc:
        read_ratings(p, bfi)
    assert reasons(exc) == ["too_many_rows"] and "1,048,576" in str(exc.value)
    with pytest.raises(StatisticsError) as exc:
        read_table(p)
    assert reasons(exc) == ["too_many_rows"]


def test_xlsx_row_and_cell_limits_are_configurable(tmp_path, monkeypatch):
    rows = [["A1", "A2"]] + [[i % 5 + 1, i % 4 + 1] for i in range(300)]
    p = tmp_path / "t.xlsx"
    p.write_bytes(xlsx_bytes(sheet(rows)))
    assert read_table(p).data.shape == (300, 2)
    monkeypatch.setenv("INSTRVAL_MAX_SHEET_CELLS", "500")
    with pytest.raises(StatisticsError) as exc:
        read_table(p)
    assert reasons(exc) == ["too_many_cells"]
    monkeypatch.setenv("INSTRVAL_MAX_SHEET_ROWS", "100")
    with pytest.raises(StatisticsError) as exc:
        read_table(p)
    assert reasons(exc) == ["too_many_rows"]


def _parquet(path: Path, n: int, row_group: int) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    items = [f"{c}{k}" for c in "AC" for k in range(1, 6)]
    cols = {"rating_id": pa.array([f"r{i}" for i in range(n)]),
            "respondent_id": pa.array([f"p{i % 97}" for i in range(n)])}
    cols.update({it: pa.array(np.full(n, 3, dtype=np.int64)) for it in items})
    pq.write_table(pa.table(cols), path, row_group_size=row_group, compression="zstd")
    return path


def test_parquet_too_big_to_read_whole_but_streamed(tmp_path, bfi, monkeypatch):
    p = _parquet(tmp_path / "r.parquet", 20_000, 2_000)
    monkeypatch.setenv("INSTRVAL_MAX_MEMORY_BYTES", str(1 * MiB))
    with pytest.raises(RatingsError) as exc:
        read_ratings(p, bfi)  # the whole table would need ~3 MiB
    assert reasons(exc) == ["too_large"] and "iter_ratings" in str(exc.value)
    # streamed one row group at a time (~0.2 MiB each), the same file is read
    total = sum(rd.n_read for rd in iter_ratings(p, bfi, chunksize=2_000))
    assert total == 20_000


def test_parquet_row_group_that_cannot_fit_is_refused(tmp_path, bfi, monkeypatch):
    p = _parquet(tmp_path / "r.parquet", 20_000, 20_000)
    monkeypatch.setenv("INSTRVAL_MAX_MEMORY_BYTES", str(1 * MiB))
    with pytest.raises(RatingsError) as exc:
        next(iter_ratings(p, bfi, chunksize=1_000))
    assert reasons(exc) == ["too_large"] and "row group 0" in str(exc.value)


def test_parquet_inflation_ratio(tmp_path):
    import pyarrow.parquet as pq

    p = _parquet(tmp_path / "r.parquet", 30_000, 30_000)
    meta = pq.read_metadata(p)
    lim = Limits(max_parquet_ratio=5.0)
    with pytest.raises(RatingsError) as exc:
        check_parquet(meta, file=str(p), error=RatingsError, whole=False, limits=lim,
                      file_bytes=p.stat().st_size)
    assert reasons(exc) == ["decompression_bomb"]
    # the default limits accept it, whole or streamed
    assert check_parquet(p, file=str(p), error=RatingsError, whole=True).num_rows == 30_000


def test_default_limits_fit_large_legitimate_inputs():
    lim = limits()
    assert lim.max_sheet_rows == 1_048_576  # Excel's own maximum
    # a streamed row group of 1 million long-format ratings (4 columns) fits easily
    assert lim.max_memory_bytes > 1_000_000 * (16 + 3 * 8) * 4
    assert lim.max_ratio >= 100 and lim.max_inflated_bytes >= 1 << 30


# ============================================================ 4. special files
@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="POSIX only")
def test_devices_are_refused(bfi, iam):
    for call in (lambda: read_table("/dev/zero"), lambda: read_ratings("/dev/zero", bfi),
                 lambda: read_instrument("/dev/zero"), lambda: read_panel("/dev/zero"),
                 lambda: read_coding("/dev/zero")):
        with pytest.raises(instrval.InstrvalError) as exc:
            call()
        assert reasons(exc) == ["not_a_regular_file"]
        assert "a device" in str(exc.value)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX only")
def test_fifo_without_writer_does_not_hang(tmp_path, bfi):
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    result: list[object] = []

    def attempt() -> None:
        try:
            read_ratings(fifo, bfi)
        except RatingsError as exc:
            result.append(exc)

    t = threading.Thread(target=attempt, daemon=True)
    t.start()
    t.join(60)
    if t.is_alive():  # unblock the reader before failing
        with open(fifo, "wb"):
            pass
        pytest.fail("reading a FIFO with no writer hung")
    assert result and result[0].problems[0].reason == "not_a_regular_file"
    r = subprocess.run([sys.executable, "-m", "instrval", "instrument", "check", str(fifo)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "named pipe" in r.stdout + r.stderr


def test_file_size_limit(tmp_path, monkeypatch):
    p = tmp_path / "t.csv"
    p.write_text(wide_bfi(50))
    monkeypatch.setenv("INSTRVAL_MAX_FILE_BYTES", "100")
    with pytest.raises(StatisticsError) as exc:
        read_table(p)
    assert reasons(exc) == ["too_large"]
    assert read_input_bytes(p, error=StatisticsError, what="x", limit=10) == p.read_bytes()[:10]


# ============================================================ 5. quarantine formulas
def test_ratings_quarantine_is_neutralised(tmp_path):
    payloads = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "  =1+1", "\uff1d1+1"]
    text = wide_bfi(3) + "".join(f"q{i},{v},1,1\n" for i, v in enumerate(payloads))
    export = tmp_path / "r.csv"
    export.write_text(text)
    q = tmp_path / "q.csv"
    r = CliRunner().invoke(main, ["ratings", "check", "--instrument", str(BFI_FILE),
                                  str(export), "--quarantine", str(q)])
    assert r.exit_code == 0, r.output
    cells = [c for row in csv.reader(io.StringIO(q.read_text(), newline="")) for c in row]
    for v in payloads:
        assert v not in cells
        assert "'" + v in cells


# ============================================================ 6. CR inside a cell
def test_carriage_return_cannot_start_a_row():
    from instrval.report.tables import csv_text, neutralise

    df = pd.DataFrame({"quote": ["fine\r=HYPERLINK(\"http://x\")", "a\n+b", "plain"],
                       "n": [1, 2, 3]})
    text = csv_text(df)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 4  # header + 3: no row split by the CR
    assert rows[1][0] == "fine\r'=HYPERLINK(\"http://x\")"
    assert rows[2][0] == "a\n'+b"
    # also read as a spreadsheet would by splitting on any line break
    for line in text.replace("\r", "\n").split("\n"):
        assert not line.lstrip(' "').startswith(("=", "+", "@", "\uff1d"))
    assert neutralise("  =1+1") == "'  =1+1"
    assert neutralise("\uff1dSUM(A1)") == "'\uff1dSUM(A1)"
    assert neutralise("x\r\n@cmd") == "x\r\n'@cmd"


def test_report_table_with_cr_in_a_quote(tmp_path):
    from instrval.report.tables import write_csv, write_xlsx

    df = pd.DataFrame({"item_id": ["q1"], "text": ["He said\r=1+2"]})
    p = write_csv(df, tmp_path / "quotes.csv")
    assert p.read_bytes() == b'item_id,text\nq1,"He said\r\'=1+2"\n'
    x = write_xlsx({"quotes": df}, tmp_path / "t.xlsx")
    import openpyxl

    ws = openpyxl.load_workbook(x).active
    # (XML turns the CR into a line feed)
    assert ws["B2"].value.replace("\r", "\n") == "He said\n'=1+2"
    assert ws["B2"].data_type == "s"


# ============================================================ 7. ids differing by case
def test_case_twin_ids_are_refused(bfi):
    data = bfi.to_dict()
    items = data["constructs"][0]["items"]
    items.append({**items[0], "id": items[0]["id"].lower()})
    probs = check_instrument_data(data)
    assert [p.reason for p in probs] == ["case_twin_id"]
    assert "differs only by case" in probs[0].message


# ============================================================ 8. one stray quote
def test_unterminated_quote_reports_the_swallowed_lines(tmp_path, bfi):
    lines = wide_bfi(100).splitlines()
    lines[10] = lines[10].replace(",", ',"', 1)  # row 11: a quote that never closes
    p = tmp_path / "r.csv"
    p.write_text("\n".join(lines) + "\n")
    rd = inspect_ratings(p, bfi)
    probs = [pr for pr in rd.problems if pr.reason == "unterminated_quote"]
    assert len(probs) == 1
    assert probs[0].row == 11 and probs[0].line == 11
    assert probs[0].value == "lines 11-101"
    assert "swallowing 90 line(s)" in probs[0].message
    assert rd.n_accepted == 9


# ============================================================ 9. publish reads once
def test_publish_stores_the_bytes_it_checked(tmp_path, monkeypatch):
    import instrval.io.registry as registry

    src = tmp_path / "iam.yaml"
    src.write_bytes(IAM_FILE.read_bytes())

    def second_read(*a, **k):
        raise AssertionError("the instrument file was read twice")

    monkeypatch.setattr(registry, "read_instrument", second_read)
    monkeypatch.setattr(Path, "read_bytes", lambda self: second_read())
    res = registry.publish(src, tmp_path / "reg")
    monkeypatch.undo()
    assert Path(res.path).read_bytes() == IAM_FILE.read_bytes()


# ============================================================ 10. correlations memory
def test_correlations_refuse_a_matrix_that_cannot_fit(tmp_path, monkeypatch):
    from instrval.stats.correlation import correlation_matrix

    df = pd.DataFrame(np.random.default_rng(1).integers(1, 6, size=(50, 20_000)),
                      columns=[f"v{j}" for j in range(20_000)])
    with pytest.raises(StatisticsError) as exc:
        correlation_matrix(df)
    assert reasons(exc) == ["too_large"] and "20,000 columns" in str(exc.value)
    # the command line, on a smaller table against a smaller limit
    p = tmp_path / "wide.csv"
    df.iloc[:, :400].to_csv(p, index=False)
    monkeypatch.setenv("INSTRVAL_MAX_MEMORY_BYTES", str(MiB))
    r = CliRunner().invoke(main, ["correlations", str(p)])
    assert r.exit_code == 1 and "400 columns" in r.output


# ============================================================ 11. silently ignored data
def test_duplicate_code_column_in_a_coding_table(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("segment_id,text,code,code\nS1,hello,a,b\n")
    with pytest.raises(CodingError) as exc:
        read_coding(p)
    assert reasons(exc) == ["duplicate_column"] and exc.value.problems[0].column == "code"


def test_duplicate_relevance_column_in_a_panel(tmp_path):
    p = tmp_path / "panel.csv"
    p.write_text("expert,item,relevance,relevance\nE1,q1,4,1\n")
    with pytest.raises(PanelError) as exc:
        read_panel(p)
    assert reasons(exc) == ["duplicate_column"]
    x = tmp_path / "panel.xlsx"
    x.write_bytes(xlsx_bytes(sheet([["expert", "item", "relevance", "relevance"],
                                    ["E1", "q1", 4, 1]])))
    with pytest.raises(PanelError) as exc:
        read_panel(x)
    assert reasons(exc) == ["duplicate_column"]


def test_conflicting_redcap_record_level_rows(tmp_path, bfi):
    items = [f"{c}{k}" for c in "ACENO" for k in range(1, 6)]
    head = ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance", "specialty",
            *items]
    rows = [["1", "", "", "family", *[""] * 25],
            ["1", "", "", "surgery", *[""] * 25],  # a second record-level row disagrees
            ["1", "rating", "1", "", *["3"] * 25],
            ["2", "", "", "family", *[""] * 25],
            ["2", "rating", "1", "", *["4"] * 25]]
    p = tmp_path / "redcap.csv"
    p.write_text("\n".join(",".join(r) for r in [head, *rows]) + "\n")
    rd = inspect_ratings(p, bfi, format="redcap")
    probs = [pr for pr in rd.problems if pr.reason == "conflicting_record_row"]
    assert len(probs) == 1
    assert probs[0].row == 3 and probs[0].column == "specialty"
    assert probs[0].value == "surgery" and "row 2 gives 'family'" in probs[0].message


# ============================================================ 12. exit codes
def test_bad_inputs_exit_1_not_70(tmp_path):
    runner = CliRunner()
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 50_000 + "]" * 50_000)
    big = tmp_path / "big.yaml"
    big.write_text(IAM_FILE.read_text(encoding="utf-8") + "provenance: {n: " + "9" * 5000
                   + "}\n")
    for f in (deep, big):
        r = runner.invoke(main, ["instrument", "check", str(f)])
        assert r.exit_code == 1, r.output
        assert "internal error" not in r.output
    reg = tmp_path / "reg"
    reg.mkdir()
    (reg / "index.json").write_text(json.dumps(
        {"format": "instrval-registry", "format_version": "1.0",
         "entries": [{"id": "iam"}, 5]}))
    r = runner.invoke(main, ["publish", str(IAM_FILE), "--registry", str(reg)])
    assert r.exit_code == 1 and "damaged" in r.output, r.output
    r = runner.invoke(main, ["ratings", "generate-iam", "--out", str(tmp_path / "g"),
                             "--n-ratings", "-5"])
    assert r.exit_code == 2 and "-5" in r.output
    r = runner.invoke(main, ["ratings", "generate-iam", "--out", str(tmp_path / "g"),
                             "--n-ratings", "10000000000"])
    assert r.exit_code == 2
    r = runner.invoke(main, ["report", "--instrument", str(BFI_FILE), "--ratings",
                             str(ROOT / "examples/bfi/bfi.csv"), "--out",
                             str(tmp_path / "o"), "--timestamp", "2200-01-01T00:00:00Z"])
    assert r.exit_code == 1 and "2107" in r.output, r.output


def test_registry_entry_pointing_outside_is_refused(tmp_path):
    reg = tmp_path / "reg"
    reg.mkdir()
    (reg / "index.json").write_text(json.dumps(
        {"format": "instrval-registry", "format_version": "1.0",
         "entries": [{"id": "iam", "version": "2011", "file": "../../etc/passwd",
                      "sha256": "0" * 64}]}))
    with pytest.raises(PublishError) as exc:
        instrval.Registry(reg).get("iam", "2011")
    assert reasons(exc) == ["corrupt_index"] and "outside the registry" in str(exc.value)


# ============================================================ 13. Ctrl-C
def test_ctrl_c_is_aborted_130(monkeypatch, tmp_path):
    import instrval.io.tables as tables

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(tables, "read_table", interrupted)
    r = CliRunner().invoke(main, ["reliability", str(tmp_path / "x.csv")])
    assert r.exit_code == 130 and "Aborted!" in r.output
    assert "Traceback" not in r.output


@pytest.mark.skipif(not hasattr(signal, "SIGINT"), reason="needs SIGINT")
def test_ctrl_c_turned_into_a_parse_error_is_still_aborted(monkeypatch, tmp_path):
    import instrval.io.tables as tables

    def parser(*a, **k):  # a library that catches the interrupt and reports a bad file
        try:
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):
                pass
        except KeyboardInterrupt:
            raise StatisticsError("x.csv: cannot read the file as CSV") from None
        return None

    monkeypatch.setattr(tables, "read_table", parser)
    r = CliRunner().invoke(main, ["reliability", str(tmp_path / "x.csv")])
    assert r.exit_code == 130 and "Aborted!" in r.output
    assert "cannot read" not in r.output


def test_ctrl_c_while_importing():
    code = ("import builtins, sys\n"
            "real = builtins.__import__\n"
            "def imp(name, *a, **k):\n"
            "    if name == 'instrval.cli':\n"
            "        raise KeyboardInterrupt\n"
            "    return real(name, *a, **k)\n"
            "builtins.__import__ = imp\n"
            "sys.argv = ['instrval', '--help']\n"
            "from instrval.__main__ import run\n"
            "run()\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 130 and r.stderr.strip() == "Aborted!"


# ============================================================ 14. report folder as a whole
def test_report_folder_is_replaced_as_a_whole(tmp_path, monkeypatch):
    from instrval.io.study import study_from_mapping
    from instrval.pipeline import run_validation, write_report

    bfi = pd.read_csv(ROOT / "examples/bfi/bfi.csv").head(300)
    bfi.to_csv(tmp_path / "bfi.csv", index=False)
    study = study_from_mapping({"instrument": str(BFI_FILE),
                                "ratings": str(tmp_path / "bfi.csv"), "seed": 1,
                                "timestamp": "2024-01-01T00:00:00Z",
                                "revision": {"version": "1.1"}}, base_dir=tmp_path)
    res = run_validation(study, quiet=True)
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_text("old report")
    (out / "notes.txt").write_text("mine")

    def late_failure(*a, **k):
        raise OSError("disk full")

    import instrval.report.html as html

    monkeypatch.setattr(html, "render_html", late_failure)
    with pytest.raises(OSError, match="disk full"):
        write_report(res, out)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "report.html"]
    assert (out / "report.html").read_text() == "old report"
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".out.tmp")] == []
    monkeypatch.undo()
    written = write_report(res, out)
    assert written["revised_instrument"] == out / "bfi-1.1.yaml"
    assert (out / "notes.txt").read_text() == "mine"
    assert "old report" not in (out / "report.html").read_text()
    fresh = write_report(res, tmp_path / "new" / "rep")
    assert fresh["html"].parent == tmp_path / "new" / "rep"


# ============================================================ 15. long quoted cells
def test_long_quoted_cell_is_read_and_an_absurd_one_names_its_row(tmp_path, bfi,
                                                                  monkeypatch):
    long = "x" * (200 * 1024)  # over the csv module's 128 KiB default
    text = "rating_id,respondent_id,comment,A1\n" + "".join(
        f'r{i},p{i},"{long if i == 5 else "ok"}",3\n' for i in range(10))
    p = tmp_path / "r.csv"
    p.write_text(text)
    # the 24 bfi items absent from the file are reported; every row is read
    with pytest.warns(DataQualityWarning, match="10 of 10 rows accepted"):
        assert read_ratings(p, bfi).n_accepted == 10
    monkeypatch.setenv("INSTRVAL_MAX_CELL_BYTES", "100000")
    with pytest.raises(RatingsError) as exc:
        read_ratings(p, bfi)
    assert exc.value.problems[0].row == 7 and "longer than 100,000" in str(exc.value)


# ============================================================ minor
def test_republishing_into_a_read_only_registry(tmp_path, monkeypatch):
    import instrval.io.registry as registry

    reg = tmp_path / "reg"
    registry.publish(IAM_FILE, reg)

    def no_lock(self):
        raise PermissionError(13, "Permission denied", str(reg / ".lock"))

    monkeypatch.setattr(registry.Registry, "lock", no_lock)
    res = registry.publish(IAM_FILE, reg)
    assert res.created is False


def test_infinite_and_huge_values_are_named(tmp_path):
    from instrval.stats.correlation import correlation_matrix

    p = tmp_path / "t.csv"
    p.write_text("a,b\n1,1e308\n2,3\n3,1e309\n")
    with pytest.raises(StatisticsError) as exc:
        read_table(p).numeric()
    assert [(pr.reason, pr.row, pr.column) for pr in exc.value.problems] == [
        ("out_of_range", 2, "b"), ("out_of_range", 4, "b")]
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1e308, 3.0, np.inf]})
    with pytest.raises(StatisticsError, match="too large values"):
        correlation_matrix(df)


def test_bad_codebook_lists_every_problem(tmp_path):
    p = tmp_path / "cb.yaml"
    p.write_text("codes:\n  a: 5\n  b: [1]\n  c: {category: fits}\n  d: {category: nonsense}\n")
    with pytest.raises(CodingError) as exc:
        read_codebook(p)
    keys = [pr.key for pr in exc.value.problems]
    assert "codes.a" in keys and "codes.b" in keys and len(keys) >= 3


def test_spreadsheet_messages_say_what_is_wrong(tmp_path):
    p = tmp_path / "panel.xlsx"
    p.write_text("expert,item,relevance\nE1,q1,4\n")
    with pytest.raises(PanelError) as exc:
        read_panel(p)
    assert reasons(exc) == ["not_xlsx"]
    msg = str(exc.value)
    assert "specify an engine" not in msg and "text (a CSV file?)" in msg
    p.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    with pytest.raises(PanelError) as exc:
        read_panel(p)
    assert "not a readable spreadsheet" in str(exc.value)
    assert str(exc.value).strip() != "zip"


def test_qualcoder_database_is_named(tmp_path):
    p = tmp_path / "project.csv"
    p.write_bytes(b"SQLite format 3\x00" + bytes(200))
    with pytest.raises(CodingError) as exc:
        read_coding(p)
    assert "QualCoder" in str(exc.value) and "UTF-8" not in str(exc.value)
