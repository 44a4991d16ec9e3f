"""One protocol for every result: to_dict through the one converter, to_frame, a short
repr, _repr_html_, immutable mappings, and the renamed keywords (old names warn)."""

from __future__ import annotations

import copy
import inspect
import pickle
import warnings
from pathlib import Path

import pandas as pd
import pytest
from numpy.testing import assert_allclose

import instrval
from instrval._choices import check_choice, renamed_keyword
from instrval._result import Result
from instrval.errors import StatisticsError
from instrval.stats.dimensionality import parallel_analysis
from instrval.stats.efa import efa
from instrval.stats.icc import icc
from instrval.stats.omega import omega, omega_one_factor

ROOT = Path(__file__).resolve().parent
BFI = pd.read_csv(ROOT / "data" / "bfi.csv", index_col=0).iloc[:, :10]

RESULT_CLASSES = [getattr(instrval, n) for n in instrval.__all__
                  if inspect.isclass(getattr(instrval, n))
                  and (n.endswith("Result") or n in ("JointDisplay", "InstrumentDiff"))
                  and n != "ValidationResult"]


def test_public_results_follow_the_protocol():
    assert len(RESULT_CLASSES) >= 19
    for cls in RESULT_CLASSES:
        assert issubclass(cls, Result), cls
        params = cls.__dataclass_params__
        assert params.frozen and not params.repr, cls
        for meth in ("to_dict", "to_frame", "__repr__", "_repr_html_", "plot_svg"):
            assert callable(getattr(cls, meth)), (cls, meth)


def test_efa_repr_is_short_and_names_key_numbers():
    res = efa(BFI, n_factors=2)
    text = repr(res)
    lines = text.splitlines()
    assert lines[0].startswith("EFAResult: n_factors = 2, method = minres")
    assert len(lines) <= 8 and max(map(len, lines)) <= 88 and len(text) < 800
    assert "n_obs = 2800" in text and "rmsea" in text
    html = res._repr_html_()
    assert html.startswith("<div><strong>EFAResult") and "<table" in html
    assert "MR1" in html


def test_mappings_inside_results_are_read_only_and_survive_copy_and_pickle():
    d = pd.DataFrame({"a": [1, 2, 3, 4, 5, 2], "b": [2, 2, 3, 5, 4, 2],
                      "c": [1, 3, 3, 4, 5, 3]})
    res = icc(d.reset_index().melt(id_vars="index", var_name="rater", value_name="score"),
              targets="index", raters="rater", ratings="score")
    with pytest.raises(TypeError):
        res.anova["x"] = 1.0  # type: ignore[index]
    for other in (pickle.loads(pickle.dumps(res)), copy.deepcopy(res)):
        assert dict(other.anova) == dict(res.anova)
        with pytest.raises(TypeError):
            other.anova["x"] = 1.0  # type: ignore[index]
    assert isinstance(res.to_dict()["anova"], dict)


def test_default_to_frame_and_to_dict_of_a_scalar_result():
    from instrval.stats.dimensionality import bartlett

    res = bartlett(BFI)
    frame = Result.to_frame(res)
    assert list(frame.columns) == [k for k, v in res.__dict__.items()
                                   if isinstance(v, (int, float, str, bool))]
    assert len(frame) == 1


def test_old_keyword_names_warn_and_give_the_same_result():
    new = parallel_analysis(BFI, n_iter=2, seed=3, method="ml")
    with pytest.warns(DeprecationWarning, match="fm= is deprecated"):
        old = parallel_analysis(BFI, n_iter=2, seed=3, fm="ml")
    assert_allclose(old.table.to_numpy(float), new.table.to_numpy(float), rtol=0)
    with pytest.warns(DeprecationWarning, match="use method="):
        o1 = omega(BFI, n_factors=2, fm="pa")
    assert o1.omega_total == omega(BFI, n_factors=2, method="pa").omega_total
    with pytest.warns(DeprecationWarning):
        o2 = omega_one_factor(BFI.iloc[:, :5], fm="ml")
    assert o2.omega == omega_one_factor(BFI.iloc[:, :5], method="ml").omega
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parallel_analysis(BFI, n_iter=1, seed=1)  # the new names do not warn
    with pytest.raises(StatisticsError, match="method must be one of 'minres', 'ml', 'pa'"):
        parallel_analysis(BFI, n_iter=1, method="uls")


def test_check_choice_and_renamed_keyword():
    assert check_choice("units", "rows", ("columns", "rows")) == "rows"
    with pytest.raises(ValueError, match="units must be one of 'columns', 'rows'; got 'x'"):
        check_choice("units", "x", ("columns", "rows"), error=ValueError)
    assert renamed_keyword("alpha", "confidence", None, 0.9, 0.95) == 0.9
    with pytest.warns(DeprecationWarning):
        assert renamed_keyword("alpha", "confidence", 0.1, 0.95, 0.95,
                               convert=lambda a: 1 - a) == pytest.approx(0.9)
