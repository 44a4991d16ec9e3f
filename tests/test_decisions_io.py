"""The expert-decisions reader turns every unreadable file into a StudyError naming it."""

import pytest

from instrval.errors import StudyError
from instrval.io.decisions import read_decisions


@pytest.mark.parametrize(
    "name, content, reason, text",
    [
        ("empty.csv", b"", "empty_file", "is empty"),
        ("blank.csv", b"\n\n", "empty_file", "is empty"),
        ("latin1.csv", "item,decision,rationale\nx,keep,d\xe9j\xe0\n".encode("latin-1"),
         "encoding", "not UTF-8"),
        ("ragged.csv", b"item,decision,rationale\nx,keep,ok\ny,keep,fine,EXTRA\n",
         "ragged_row", "row has 4 cells but the header has 3"),
        ("fake.xlsx", b"PK\x03\x04 not really a workbook", "unreadable",
         "not a readable spreadsheet"),
        ("png.xlsx", b"\x89PNG\r\n\x1a\n" + bytes(64), "not_xlsx",
         "not a readable spreadsheet"),
    ],
)
def test_unreadable_files(tmp_path, name, content, reason, text):
    f = tmp_path / name
    f.write_bytes(content)
    with pytest.raises(StudyError) as exc:
        read_decisions(f)
    assert text in str(exc.value)
    assert str(f) in str(exc.value)
    assert [p.reason for p in exc.value.problems] == [reason]


def test_ragged_row_names_the_spreadsheet_row(tmp_path):
    f = tmp_path / "ragged.csv"
    f.write_text("item,decision,rationale\nx,keep,ok\ny,keep,fine,EXTRA\n")
    with pytest.raises(StudyError) as exc:
        read_decisions(f)
    assert exc.value.problems[0].row == 3


def test_directory_and_missing_file(tmp_path):
    with pytest.raises(StudyError, match="directory"):
        read_decisions(tmp_path)
    with pytest.raises(StudyError, match="not found"):
        read_decisions(tmp_path / "nope.csv")
