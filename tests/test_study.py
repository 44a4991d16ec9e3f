"""Study files: keys, relative paths, errors that name the key, the line and the file."""

from pathlib import Path

import pytest

from instrval.errors import StudyError
from instrval.io.study import normalise_timestamp, read_study, study_from_mapping

ROOT = Path(__file__).resolve().parents[1]


def _write(tmp_path, text, name="study.yaml"):
    (tmp_path / "inst.yaml").write_text(
        (ROOT / "instruments/iam/iam-2011.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "r.csv").write_text("rating_id,respondent_id\n", encoding="utf-8")
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_example_studies_read():
    s = read_study(ROOT / "examples/iam/study.yaml")
    assert s.instrument == (ROOT / "instruments/iam/iam-2011.yaml").resolve()
    assert s.ratings.generate_if_missing == "iam" and s.ratings.generate_seed == 2012
    assert s.coding == (ROOT / "examples/iam/coding/segments.csv").resolve()
    assert s.rules.relevance_min == 0.10 and s.seed == 2012
    assert s.revision_version == "2014" and s.revision_status == "draft"
    assert s.timestamp == "2014-06-30T12:00:00+00:00"
    assert s.output == (ROOT / "examples/iam/report").resolve()
    assert s.display_path(s.instrument) == "../../instruments/iam/iam-2011.yaml"
    b = read_study(ROOT / "examples/bfi/study.yaml")
    assert b.analyses.efa == 5 and b.ratings.file.name == "bfi.csv"


def test_relative_paths_resolve_against_the_study_file(tmp_path, monkeypatch):
    sub = tmp_path / "sub"
    sub.mkdir()
    p = _write(sub, "instrument: inst.yaml\nratings: {file: r.csv}\nseed: 4\n")
    monkeypatch.chdir(tmp_path)
    s = read_study("sub/study.yaml")
    assert s.instrument == (sub / "inst.yaml").resolve()
    assert s.ratings.file == (sub / "r.csv").resolve()
    assert s.seed == 4 and s.file == p.resolve()


def test_unknown_keys_have_a_hint_and_a_line(tmp_path):
    p = _write(tmp_path, "instrument: inst.yaml\nratngs: r.csv\nrules:\n  relevance_mn: 0.2\n"
                         "analyses:\n  efa: {factors: 0}\n  cfa: maybe\n")
    with pytest.raises(StudyError) as e:
        read_study(p)
    probs = {pr.key: pr for pr in e.value.problems}
    assert "did you mean 'ratings'?" in probs["ratngs"].message
    assert probs["ratngs"].line == 2 and probs["ratngs"].file == str(p)
    assert "did you mean 'relevance_min'?" in probs["rules.relevance_mn"].message
    assert probs["rules.relevance_mn"].line == 4
    assert probs["analyses.efa"].reason == "invalid_value"
    assert probs["analyses.cfa"].line == 7
    assert str(p) in str(e.value)


def test_missing_files_and_wrong_values(tmp_path):
    p = _write(tmp_path, "format_version: '9'\ninstrument: nope.yaml\nseed: -1\n"
                         "timestamp: yesterday\nrevision: {status: final}\n"
                         "ratings: {file: r.csv, generate_if_missing: foo}\n")
    with pytest.raises(StudyError) as e:
        read_study(p)
    reasons = {pr.key: pr.reason for pr in e.value.problems}
    assert reasons == {"format_version": "unsupported_format_version",
                       "instrument": "file_not_found", "seed": "wrong_type",
                       "timestamp": "invalid_value", "revision.status": "invalid_value",
                       "ratings.generate_if_missing": "invalid_value"}


def test_instrument_is_required_and_generate_if_missing_allows_absent_file(tmp_path):
    with pytest.raises(StudyError, match="instrument is required"):
        study_from_mapping({"seed": 1}, base_dir=tmp_path)
    _write(tmp_path, "x: 1\n")
    s = study_from_mapping({"instrument": "inst.yaml",
                            "ratings": {"file": "gen.csv.gz", "generate_if_missing": "iam"}},
                           base_dir=tmp_path)
    assert s.ratings.file == tmp_path / "gen.csv.gz"


def test_yaml_errors_name_the_line(tmp_path):
    p = _write(tmp_path, "instrument: inst.yaml\ninstrument: again.yaml\n")
    with pytest.raises(StudyError) as e:
        read_study(p)
    assert e.value.problems[0].reason == "duplicate_key" and e.value.problems[0].line == 2
    with pytest.raises(StudyError, match="not found"):
        read_study(tmp_path / "absent.yaml")


def test_timestamp_and_pinned_quotes(tmp_path):
    assert normalise_timestamp("2014-06-30T12:00:00Z") == "2014-06-30T12:00:00+00:00"
    assert normalise_timestamp("2014-06-30") == "2014-06-30T00:00:00"
    _write(tmp_path, "x: 1\n")
    s = study_from_mapping({"instrument": "inst.yaml", "timestamp": "2014-06-30T12:00:00Z",
                            "pinned_quotes": {"ci_reassured": ["S1", "S2"]}},
                           base_dir=tmp_path)
    assert s.pinned_quotes == ("S1", "S2")
    assert s.to_dict()["timestamp"] == "2014-06-30T12:00:00+00:00"
