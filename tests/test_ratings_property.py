"""Property: any corrupted export gives checked data that reconciles, or a RatingsError.

Hypothesis corrupts a small valid IAM export (cells, header names, encodings, truncation,
delimiters, inserted quotes and line breaks) and the reader must either return
RatingData with ``accepted + quarantined = read`` (and a Problem for every quarantined
row) or raise :class:`instrval.errors.RatingsError` with a message - never anything else.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import instrval
from instrval.errors import DataQualityWarning, RatingsError
from instrval.io.ratings import check_ratings, read_ratings

ROOT = Path(__file__).resolve().parents[1]
IAM = instrval.read_instrument(ROOT / "instruments" / "iam" / "iam-2011.yaml")
SAMPLE = (ROOT / "examples" / "iam" / "data" / "iam-sample.csv").read_text().splitlines()
BASE = "\n".join(SAMPLE[:13]) + "\n"  # header + 12 ratings

junk = st.sampled_from(["", " ", "x", "2", "-1", "1.5", "yes", "NA", "cr_totally", "é",
                        '"', '"a,b"', "1e3", "nan", "2012-02-30", "\t", ";", "R000002"])


@st.composite
def corrupted(draw):
    lines = BASE.split("\n")[:-1]
    cells = [ln.split(",") for ln in lines]
    for _ in range(draw(st.integers(0, 8))):
        i = draw(st.integers(0, len(cells) - 1))
        if not cells[i]:
            continue
        j = draw(st.integers(0, len(cells[i]) - 1))
        cells[i][j] = draw(junk if i else st.sampled_from(
            ["", "rating_id", "ci_learned_new", "use_gate", "X", "date", "ci_motivated "]))
    if draw(st.booleans()):
        i = draw(st.integers(1, len(cells) - 1))
        op = draw(st.sampled_from(["drop_cell", "add_cell", "blank_line", "dup_line"]))
        if op == "drop_cell" and cells[i]:
            cells[i].pop()
        elif op == "add_cell":
            cells[i].append("z")
        elif op == "blank_line":
            cells[i] = []
        else:
            cells.insert(i, list(cells[i]))
    sep = draw(st.sampled_from([",", ";", "\t"]))
    text = "\n".join(sep.join(c) for c in cells) + "\n"
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]
    enc = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16", "latin-1"]))
    try:
        data = text.encode(enc)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    if draw(st.booleans()):
        k = draw(st.integers(0, max(0, len(data) - 1)))
        data = data[:k] + draw(st.binary(min_size=1, max_size=3)) + data[k:]
    return data


def check_result(rd):
    assert rd.n_accepted + rd.n_quarantined == rd.n_read
    assert rd.source["rows_read"] == rd.n_read
    errs_rows = {p.row for p in rd.problems if p.severity == "error" and p.row is not None}
    assert set(rd.quarantine["row"].astype(int)) <= errs_rows
    assert rd.data["rating_id"].notna().all()


def read_or_refused(read):
    """Call ``read()`` (data-quality warnings silenced): either it raises a RatingsError that
    lists its problems (returned), or its result passes :func:`check_result`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        try:
            rd = read()
        except RatingsError as exc:
            assert exc.problems
            return exc
    check_result(rd)
    return rd


@pytest.mark.slow
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(data=corrupted())
def test_corrupted_exports(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("prop") / "export.csv"
    p.write_bytes(data)
    out = read_or_refused(lambda: read_ratings(p, IAM))
    if isinstance(out, RatingsError):
        assert str(out).strip()


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_corrupted_frames(data):
    df = pd.read_csv(ROOT / "examples" / "iam" / "data" / "iam-sample.csv", nrows=10,
                     dtype=object, keep_default_na=False)
    for _ in range(data.draw(st.integers(0, 10))):
        i = data.draw(st.integers(0, len(df) - 1))
        j = data.draw(st.integers(0, df.shape[1] - 1))
        df.iat[i, j] = data.draw(st.one_of(junk, st.none(), st.integers(-3, 9),
                                           st.floats(allow_nan=True)))
    read_or_refused(lambda: check_ratings(df, IAM))


@pytest.mark.parametrize("cut", [0, 1, 50, 300, 1000])
def test_truncation_points(tmp_path, cut):
    p = tmp_path / "t.csv"
    p.write_text(BASE[:cut])
    read_or_refused(lambda: read_ratings(p, IAM))
