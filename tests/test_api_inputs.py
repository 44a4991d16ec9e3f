"""The public input API the commands are built on: ``FitMeasures`` (the fit of a CFA),
``read_cfa_model``, ``read_item_data`` / ``read_item_table`` and ``Study.with_overrides``.

Fit measures are checked against R lavaan 0.6 (tests/fixtures/cfa.json and sem_mlr.json,
written by tests/fixtures/r/cfa.R and sem_mlr.R) through lavaan's names, at rtol 1e-6 as in
tests/test_cfa.py and tests/test_sem_mlr.py.
"""

from __future__ import annotations

import dataclasses
import json
import math
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import instrval
from instrval.errors import StatisticsError, StudyError
from instrval.io.items import ItemData, read_cfa_model, read_item_data, read_item_table
from instrval.io.study import read_study, study_from_mapping
from instrval.stats.cfa import cfa
from instrval.stats.sem.fitmeasures import FIT_KEYS, LAVAAN_NAMES, FitMeasures

HERE = Path(__file__).parent
ROOT = HERE.parent
BFI = HERE / "data" / "bfi.csv"
HS = HERE / "data" / "HolzingerSwineford1939.csv"
BFI_INSTRUMENT = ROOT / "instruments" / "bfi" / "bfi-1.0.yaml"
HS_MODEL = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
            "speed": ["x7", "x8", "x9"]}
HS_SYNTAX = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"


# --------------------------------------------------------------------------- FitMeasures
@pytest.fixture(scope="module")
def hs_fit(hs):
    return cfa(hs, HS_MODEL)


def test_fit_is_a_frozen_dataclass_and_a_mapping(hs_fit):
    fit = hs_fit.fit
    assert isinstance(fit, FitMeasures) and dataclasses.is_dataclass(fit)
    assert instrval.FitMeasures is FitMeasures
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.cfi = 1.0  # type: ignore[misc]
    assert fit.cfi == fit["cfi"] == fit.get("cfi")
    assert list(fit) == list(FIT_KEYS) == list(fit.order)
    # ML computes no scaled measure: the field is None and the key is absent
    assert fit.chi2_scaled is None and "chi2_scaled" not in fit
    with pytest.raises(KeyError):
        fit["chi2_scaled"]
    with pytest.raises(KeyError):
        fit["order"]
    assert hs_fit.to_dict()["fit"] == fit.to_dict() == {k: fit[k] for k in FIT_KEYS}


def test_fit_under_lavaan_names_matches_r(hs_fit):
    ref = json.loads((HERE / "fixtures" / "cfa.json").read_text())["hs"]["fit"]
    ours = hs_fit.fit.to_lavaan()
    assert set(ours) == {LAVAAN_NAMES[k] for k in FIT_KEYS}
    for name, value in ours.items():
        assert_allclose(value, ref[name], rtol=1e-6, atol=1e-12, err_msg=name)


def test_mlr_fit_has_the_scaled_measures_of_lavaan(hs):
    fix = json.loads((HERE / "fixtures" / "sem_mlr.json").read_text())["hs_three"]
    fit = cfa(hs, fix["syntax"], estimator="mlr").fit
    assert fit.chi2_scaled is not None and fit.shift_parameter is None
    ours = fit.to_lavaan()
    for name in ("chisq.scaled", "chisq.scaling.factor", "baseline.chisq.scaled",
                 "cfi.scaled", "tli.scaled", "rmsea.scaled", "rmsea.ci.lower.scaled",
                 "rmsea.ci.upper.scaled", "chisq", "cfi", "aic", "bic"):
        assert_allclose(ours[name], fix["fit"][name], rtol=1e-6, err_msg=name)
    assert list(fit)[:len(FIT_KEYS)] == list(FIT_KEYS)


def test_every_field_has_a_lavaan_name():
    names = [f.name for f in dataclasses.fields(FitMeasures) if f.name != "order"]
    assert sorted(names) == sorted(LAVAAN_NAMES)


def test_fit_keeps_the_order_and_nan_of_its_estimator():
    fm = FitMeasures.from_dict({"chi2": 3.0, "df": 2.0, "chi2_scaled": 2.5,
                                "aic": math.nan})
    assert fm.order == ("chi2", "df", "chi2_scaled", "aic")
    assert math.isnan(fm.aic) and fm["aic"] != fm["aic"]
    assert fm.to_dict() == {"chi2": 3.0, "df": 2.0, "chi2_scaled": 2.5, "aic": None}
    again = pickle.loads(pickle.dumps(fm))
    assert again.order == fm.order and again.chi2 == 3.0
    assert FitMeasures(df=1.0, chi2=2.0).order == ("chi2", "df")  # field order by default
    assert FitMeasures.from_dict(fm) is fm


def test_fit_refuses_unknown_names_and_a_wrong_order():
    with pytest.raises(TypeError):
        FitMeasures.from_dict({"chisq": 1.0})
    with pytest.raises(ValueError, match="order"):
        FitMeasures(chi2=1.0, order=("df",))


def test_cfa_result_coerces_a_mapping(hs_fit):
    res = dataclasses.replace(hs_fit, fit=dict(hs_fit.fit))
    assert isinstance(res.fit, FitMeasures) and res.fit.to_dict() == hs_fit.fit.to_dict()


def test_summary_dict_is_what_cfa_json_prints(hs_fit, tmp_path, cli_json):
    model = tmp_path / "hs.yaml"
    model.write_text(json.dumps(HS_MODEL))
    out = cli_json("cfa", HS, "--model", model, "--json")
    assert out == json.loads(json.dumps(hs_fit.summary_dict()))
    assert list(out["fit"]) == ["chi2", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_low",
                                "rmsea_ci_high", "srmr", "aic", "bic"]


# --------------------------------------------------------------------------- model files
def test_read_cfa_model_syntax_and_mapping(tmp_path):
    lav = tmp_path / "hs.lav"
    lav.write_text(HS_SYNTAX)
    assert read_cfa_model(lav) == HS_SYNTAX
    yml = tmp_path / "hs.yaml"
    yml.write_text("visual: [x1, x2, x3]\ntextual: [x4, x5, x6]\n")
    assert read_cfa_model(yml) == {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"]}
    js = tmp_path / "hs.json"
    js.write_text(json.dumps({"f": ["a", 1]}))
    assert read_cfa_model(js) == {"f": ["a", "1"]}
    assert instrval.read_cfa_model is read_cfa_model


def test_read_cfa_model_errors(tmp_path):
    with pytest.raises(StatisticsError) as e:
        read_cfa_model(tmp_path / "none.yaml")
    assert "none.yaml" in str(e.value)
    flat = tmp_path / "flat.yaml"
    flat.write_text("- x1\n- x2\n")
    with pytest.raises(StatisticsError) as e:
        read_cfa_model(flat)
    assert [p.reason for p in e.value.problems] == ["bad_model"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("visual: [x1, x2]\ntextual: x4\nspeed: []\n")
    with pytest.raises(StatisticsError) as e:
        read_cfa_model(bad)
    found = {(p.reason, p.key, p.line, p.file) for p in e.value.problems}
    assert found == {("bad_items", "textual", 2, str(bad)), ("bad_items", "speed", 3, str(bad))}


# --------------------------------------------------------------------------- item data
@pytest.fixture(scope="module")
def bfi_raw():
    return pd.read_csv(BFI, index_col=0)


def test_named_items_reversed_on_the_observed_range(bfi_raw):
    d = read_item_data(BFI, items=["A1", "A2", "A3"], reverse=["A1"])
    assert isinstance(d, ItemData) and instrval.read_item_data is read_item_data
    assert d.items == ("A1", "A2", "A3") and list(d.data.columns) == ["A1", "A2", "A3"]
    assert d.reversed_items == ("A1",) and d.selection == "items"
    raw = bfi_raw[["A1", "A2", "A3"]].to_numpy(float)
    lo, hi = np.nanmin(raw), np.nanmax(raw)
    assert d.scales["A1"] == (lo, hi) == (1.0, 6.0)
    assert_allclose(d.data["A1"].to_numpy(), hi + lo - raw[:, 0], equal_nan=True)
    assert_allclose(d.data["A2"].to_numpy(), raw[:, 1], equal_nan=True)


def test_instrument_items_keys_and_scales(bfi_raw):
    d = read_item_data(BFI, instrument=BFI_INSTRUMENT, reverse=True)
    inst = instrval.read_instrument(BFI_INSTRUMENT)
    keyed = tuple(it.id for c in inst.constructs if c.kind in ("likert", "binary")
                  for it in c.items if it.reverse)
    assert d.selection == "instrument" and len(d.items) == 25
    assert d.reverse_keyed == keyed == d.reversed_items and "A1" in keyed
    assert_allclose(d.data["A1"].to_numpy(), 7 - bfi_raw["A1"].to_numpy(float), equal_nan=True)
    assert_allclose(d.data["A2"].to_numpy(), bfi_raw["A2"].to_numpy(float), equal_nan=True)
    plain = read_item_data(BFI, instrument=BFI_INSTRUMENT)
    assert plain.reversed_items == () and plain.reverse_keyed == keyed
    assert_allclose(plain.data["A1"].to_numpy(), bfi_raw["A1"].to_numpy(float), equal_nan=True)
    one = read_item_data(BFI, instrument=inst, construct="agreeableness")
    assert one.items == ("A1", "A2", "A3", "A4", "A5") and one.selection == "construct"
    assert one.to_dict()["scales"]["A1"] == [1.0, 6.0]


def test_default_selection_and_kept_columns(bfi_raw):
    d = read_item_data(BFI)
    assert d.selection == "numeric columns" and d.items == tuple(bfi_raw.columns)
    kept = read_item_data(BFI, items=["A1", "ZZ"], absent="ignore", keep_columns=True)
    assert kept.absent == ("ZZ",) and kept.items == ("A1",)
    assert list(kept.data.columns) == list(bfi_raw.columns)
    assert read_item_table(BFI).item_columns() == list(bfi_raw.columns)


def test_group_column_is_kept_and_never_an_item(bfi_raw, tmp_path):
    """``group=``: the grouping column of DIF and invariance is required, returned as read
    after the items, and left out of the default selection (every other column)."""
    d = read_item_data(BFI, all_numeric=True, group="gender")
    assert d.items == tuple(c for c in bfi_raw.columns if c != "gender")
    assert list(d.data.columns) == [*d.items, "gender"]
    assert d.data["gender"].tolist() == bfi_raw["gender"].tolist()
    one = read_item_data(BFI, instrument=BFI_INSTRUMENT, construct="agreeableness",
                         group="education")
    assert list(one.data.columns) == ["A1", "A2", "A3", "A4", "A5", "education"]
    with pytest.raises(StatisticsError) as e:
        read_item_data(BFI, items=["A1"], group="sex")
    assert [(p.reason, p.column) for p in e.value.problems] == [("unknown_column", "sex")]
    with pytest.raises(StatisticsError, match="group column 'gender' cannot also be an item"):
        read_item_data(BFI, items=["A1", "gender"], group="gender")
    text = tmp_path / "text_group.csv"
    text.write_text("g,q1,q2\nref,1,0\nfoc,0,1\n")
    assert read_item_data(text, all_numeric=True, group="g").items == ("q1", "q2")


def test_item_data_errors(tmp_path):
    with pytest.raises(StatisticsError) as e:
        read_item_data(BFI, items=["A1", "ZZ"])
    assert [(p.reason, p.column) for p in e.value.problems] == [("unknown_column", "ZZ")]
    junk = tmp_path / "junk.csv"
    junk.write_text("id,A1,A2\nr1,1,2\nr2,x,3\n")
    with pytest.raises(StatisticsError) as e:
        read_item_data(junk, items=["A1", "A2"])
    assert [(p.reason, p.row, p.column, p.value) for p in e.value.problems] == [
        ("not_a_number", 3, "A1", "x")]
    with pytest.raises(StatisticsError, match="hold text"):
        read_item_data(junk, all_numeric=True)
    with pytest.raises(StatisticsError, match="construct needs instrument"):
        read_item_data(BFI, construct="agreeableness")
    with pytest.raises(StatisticsError, match="either construct or items"):
        read_item_data(BFI, instrument=BFI_INSTRUMENT, construct="x", items=["A1"])
    with pytest.raises(StatisticsError, match="unknown construct 'nope'"):
        read_item_data(BFI, instrument=BFI_INSTRUMENT, construct="nope")
    with pytest.raises(StatisticsError, match="not among the items"):
        read_item_data(BFI, items=["A1"], reverse=["A2"])
    with pytest.raises(StatisticsError) as e:
        read_item_table(BFI, format="wide")
    assert (e.value.problems[0].reason, e.value.problems[0].key) == ("missing_key", "instrument")


# --------------------------------------------------------------------------- study overrides
def test_with_overrides(tmp_path):
    study = read_study(ROOT / "examples" / "iam" / "study.yaml")
    assert study.with_overrides() is study
    panel = tmp_path / "panel.csv"
    panel.write_text("x\n")
    s = study.with_overrides(seed=7, output="out", threshold=0.4, version_label="2.0",
                             timestamp="2024-01-01T00:00:00Z", panel="panel.csv",
                             base_dir=tmp_path)
    assert s.seed == 7 and s.output == tmp_path / "out" and s.panel == panel
    assert s.rules.relevance_min == 0.4 and s.revision_version == "2.0"
    assert s.timestamp == "2024-01-01T00:00:00+00:00"
    assert study.seed != 7  # the study itself is unchanged
    mapping = tmp_path / "map.yaml"
    mapping.write_text("x: 1\n")
    r = study.with_overrides(mapping=mapping)
    assert r.ratings.mapping == mapping and r.ratings.file == study.ratings.file


def test_with_overrides_errors(tmp_path):
    study = read_study(ROOT / "examples" / "iam" / "study.yaml")
    with pytest.raises(StudyError, match="--coding: file not found"):
        study.with_overrides(coding="nope.csv", base_dir=tmp_path)
    bare = study_from_mapping({"instrument": str(study.instrument)}, base_dir=tmp_path)
    with pytest.raises(StudyError, match="--ratings: file not found"):
        bare.with_overrides(ratings="nope.csv", base_dir=tmp_path)
    # the IAM study generates its ratings when the file is missing
    assert study.with_overrides(ratings="nope.csv", base_dir=tmp_path).ratings.file == \
        tmp_path / "nope.csv"
    with pytest.raises(StudyError, match="--mapping needs ratings"):
        bare.with_overrides(mapping="m.yaml")
    with pytest.raises(StudyError, match="not a safe version label"):
        study.with_overrides(version_label="../x")
    with pytest.raises(StudyError, match="--timestamp must be ISO 8601"):
        study.with_overrides(timestamp="yesterday")
    with pytest.raises(StudyError):
        study.with_overrides(threshold=2.0)


def test_parquet_parts_read_as_a_table(tmp_path, bfi_raw):
    from instrval.io.items import is_parquet_input

    parts = tmp_path / "parts"
    parts.mkdir()
    bfi_raw.iloc[:1000].reset_index(drop=True).to_parquet(parts / "part-0.parquet")
    bfi_raw.iloc[1000:].reset_index(drop=True).to_parquet(parts / "part-1.parquet")
    assert is_parquet_input(parts) and is_parquet_input(str(parts / "*.parquet"))
    assert not is_parquet_input(BFI)
    d = read_item_data(parts, items=["A1", "A2"], reverse=["A1"])
    assert d.format == "parquet" and d.data.shape == (2800, 2)
    assert_allclose(d.data["A1"].to_numpy(), 7 - bfi_raw["A1"].to_numpy(float), equal_nan=True)
    t = read_item_table(str(parts / "*.parquet"))
    assert t.rows.tolist() == list(range(2, 2802))
