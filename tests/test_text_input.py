"""One decoding policy and one delimiter sniffer for every tabular reader (io/text.py),
the same named error for a missing file, and one catalogue of reason codes."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import instrval
from instrval.errors import REASONS, DataQualityWarning, InstrvalError, RatingsError, Reason
from instrval.io.coding import read_coding
from instrval.io.decisions import read_decisions
from instrval.io.panel import read_panel
from instrval.io.ratings import iter_ratings, read_ratings
from instrval.io.redcap_dictionary import parse_redcap_dictionary
from instrval.io.tables import read_table
from instrval.io.text import decode_text, decode_text_with, sniff_delimiter

ROOT = Path(__file__).resolve().parents[1]
IAM = ROOT / "examples" / "iam"
IAM_FILE = ROOT / "instruments" / "iam" / "iam-2011.yaml"


@pytest.fixture(scope="module")
def iam():
    return instrval.read_instrument(IAM_FILE)


def _cp1252(src: Path, dst: Path, *, old: str, new: str) -> Path:
    text = src.read_text(encoding="utf-8")
    assert old in text
    dst.write_bytes(text.replace(old, new, 1).encode("cp1252"))
    return dst


# ------------------------------------------------------------------ the policy itself
@pytest.mark.parametrize(("raw", "text", "encoding"), [
    (b"a,b\n1,2\n", "a,b\n1,2\n", "utf-8"),
    (b"\xef\xbb\xbfa,b\n", "a,b\n", "utf-8"),
    ("a,b\n\u00e9,2\n".encode("utf-16"), "a,b\n\u00e9,2\n", "utf-16"),
    ("a,b\n\u00e9\u2019,2\n".encode("cp1252"), "a,b\n\u00e9\u2019,2\n", "cp1252"),
    (b"a,b\n\x81,2\n", "a,b\n\x81,2\n", "latin-1"),  # 0x81 is undefined in cp1252
])
def test_decode_policy(raw, text, encoding):
    with pytest.warns(DataQualityWarning) if encoding in ("cp1252", "latin-1") else \
            _no_warning():
        assert decode_text_with(raw, file="x.csv", error=RatingsError) == (text, encoding)


class _no_warning:
    def __enter__(self):
        import warnings
        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("error", DataQualityWarning)

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


@pytest.mark.parametrize(("raw", "line"), [
    (b"a,b\n1,\x00\n", 2),
    (b"%PDF-1.4 ...", None),
    (b"\x89PNG\r\n", None),
    (bytes(b for b in range(1, 32) if b not in (9, 10, 13)) * 40 + b"\xff", 1),
])
def test_binary_content_is_not_text(raw, line):
    with pytest.raises(RatingsError) as exc:
        decode_text(raw, file="in.csv", error=RatingsError)
    (p,) = exc.value.problems
    assert p.reason == "not_text" and p.file == "in.csv" and p.line == line
    assert str(exc.value).startswith("in.csv")


@pytest.mark.parametrize(("text", "sep"), [
    ("a,b,c\n", ","), ("a;b;c\n1,5;2;3\n", ";"), ("a\tb\tc", "\t"), ("a|b|c\n", "|"),
    ('"x;y;z",b\n', ","), ("\n\n a;b\n", ";"), ("single\n1\n", ","), ("", ","),
    ("a,b;c\n", ","),  # a tie: the first of , ; TAB |
])
def test_sniff_delimiter(text, sep):
    assert sniff_delimiter(text) == sep


# ------------------------------------------------------- every reader follows the policy
def test_rating_exports_accept_windows_1252_like_tables(tmp_path, iam):
    """Rating exports used to refuse Windows-1252 text that data tables decode."""
    src = IAM / "data" / "iam-sample-redcap.csv"
    text = src.read_text(encoding="utf-8")
    p = tmp_path / "ratings.csv"
    p.write_bytes(text.encode("cp1252"))
    # the same file, first as UTF-8, then as Windows-1252 with an accent in a cell
    ref = read_ratings(src, iam, dictionary=IAM / "data" / "iam-redcap-dictionary.csv")
    first = text.splitlines()[1].split(",")
    assert first[3]  # the specialty of the first row
    p.write_bytes(text.replace(first[3], first[3] + "\u00e9", 1).encode("cp1252"))
    with pytest.warns(DataQualityWarning, match="ratings.csv is not UTF-8"):
        rd = read_ratings(p, iam, dictionary=IAM / "data" / "iam-redcap-dictionary.csv")
    assert rd.n_accepted == ref.n_accepted


def test_every_reader_reads_windows_1252(tmp_path, iam):
    dec = _cp1252(IAM / "expert_decisions.csv", tmp_path / "decisions.csv",
                  old="expert panel", new="expert p\u00e4nel")
    with pytest.warns(DataQualityWarning, match="decisions.csv is not UTF-8"):
        out = read_decisions(dec, iam)
    assert any("p\u00e4nel" in str(v) for v in out.table["who"])
    seg = _cp1252(IAM / "coding" / "segments.csv", tmp_path / "segments.csv",
                  old="gout", new="g\u00f6ut")
    with pytest.warns(DataQualityWarning, match="segments.csv is not UTF-8"):
        read_coding(seg, instrument=iam, codebook=IAM / "coding" / "codebook.yaml")
    dd = _cp1252(IAM / "data" / "iam-redcap-dictionary.csv", tmp_path / "dd.csv",
                 old="Record ID", new="R\u00e9cord ID")
    d = parse_redcap_dictionary(dd, error=RatingsError)
    assert [p.reason for p in d.problems if p.severity == "warning"].count("encoding") == 1
    t = tmp_path / "t.csv"
    t.write_bytes("x;y\n1;\u00e9\n".encode("cp1252"))
    with pytest.warns(DataQualityWarning):
        tab = read_table(t)
    assert tab.encoding == "cp1252" and tab.delimiter == ";"


@pytest.mark.parametrize("reader", ["ratings", "decisions", "coding", "panel", "table"])
def test_every_reader_refuses_binary_alike(tmp_path, iam, reader):
    p = tmp_path / "in.csv"
    p.write_bytes(b"a,b\n1,\x00\n")
    call = {"ratings": lambda: read_ratings(p, iam),
            "decisions": lambda: read_decisions(p, iam),
            "coding": lambda: read_coding(p, instrument=iam),
            "panel": lambda: read_panel(p, iam),
            "table": lambda: read_table(p)}[reader]
    with pytest.raises(InstrvalError) as exc:
        call()
    assert [q.reason for q in exc.value.problems] == ["not_text"]
    assert str(p) in str(exc.value)


def test_decisions_semicolon_delimited(tmp_path, iam):
    src = IAM / "expert_decisions.csv"
    import csv
    import io
    rows = list(csv.reader(io.StringIO(src.read_text(encoding="utf-8"))))
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows(rows)
    p = tmp_path / "dec.csv"
    p.write_text(out.getvalue(), encoding="utf-8")
    a = read_decisions(src, iam).table
    b = read_decisions(p, iam).table
    assert a.equals(b)


# ------------------------------------------------------------- the same named error
def test_iter_ratings_missing_file_is_a_ratings_error_at_the_call(tmp_path, iam):
    with pytest.raises(RatingsError) as exc:
        iter_ratings(tmp_path / "absent.csv", iam)  # not even iterated
    assert [p.reason for p in exc.value.problems] == ["file_not_found"]
    with pytest.raises(RatingsError) as exc2:
        read_ratings(tmp_path / "absent.csv", iam)
    assert [p.reason for p in exc2.value.problems] == ["file_not_found"]


# ------------------------------------------------------------ one catalogue of codes
_LITERAL = re.compile(r'Problem\(\s*(?:reason\s*=\s*)?"([a-z][a-z0-9_]*)"')


def test_every_reason_code_in_src_is_catalogued():
    src = ROOT / "src" / "instrval"
    used: dict[str, set[str]] = {}
    for f in src.rglob("*.py"):
        for m in _LITERAL.finditer(f.read_text(encoding="utf-8")):
            used.setdefault(m.group(1), set()).add(str(f.relative_to(src)))
    assert len(used) > 40  # the pattern finds the constructions
    missing = {c: sorted(fs) for c, fs in used.items() if c not in REASONS}
    assert not missing, f"reason codes not in errors.REASONS: {missing}"


def test_catalogue_one_code_per_meaning():
    assert set(REASONS) == {r.value for r in Reason}
    assert len(set(REASONS.values())) == len(REASONS)
    # former synonyms are gone from src/
    src = ROOT / "src" / "instrval"
    text = "\n".join(f.read_text(encoding="utf-8") for f in src.rglob("*.py"))
    for old in ("non_numeric", "unparseable", "missing_file", "not_utf8", "too_deep",
                "out_of_memory"):
        assert not re.search(rf'Problem\(\s*"{old}"', text), old
