"""CFA models in lavaan syntax (ML) against R lavaan 0.6.14, and the syntax parser.

Reference values: tests/fixtures/sem.json, written by tests/fixtures/r/sem.R (Holzinger &
Swineford 1939: three factors, correlated residuals, a higher-order factor, a bifactor model
with orthogonal factors, fixed values / starts / labels / an intercept, std.lv).

Tolerances: fit measures at rtol 1e-6 (SRMR and the RMSEA interval, which lavaan finds with
uniroot's default tolerance, at 1e-5); estimates and standard errors at
atol 1e-4, standardized values at rtol 1e-4 (lavaan's nlminb stops at a relative change of
1e-10 in F, which leaves differences up to 1e-5 in the estimates of the bifactor model).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from instrval.errors import HeywoodWarning, StatisticsError
from instrval.stats.cfa import cfa
from instrval.stats.sem.partable import build_partable, parse_parameter_name
from instrval.stats.sem.syntax import parse_syntax

HERE = Path(__file__).parent
FIX = json.loads((HERE / "fixtures" / "sem.json").read_text())
MODELS = [k for k in FIX if k != "versions"]

FIT_MAP = {
    "chi2": "chisq", "df": "df", "pvalue": "pvalue", "cfi": "cfi", "tli": "tli",
    "rmsea": "rmsea", "rmsea_ci_low": "rmsea.ci.lower", "rmsea_ci_high": "rmsea.ci.upper",
    "aic": "aic", "bic": "bic", "loglik": "logl", "loglik_unrestricted": "unrestricted.logl",
    "baseline_chi2": "baseline.chisq", "baseline_df": "baseline.df", "fmin": "fmin",
    "npar": "npar", "n": "ntotal",
}


@pytest.fixture(scope="module")
def fits(hs):
    out = {}
    for key in MODELS:
        ref = FIX[key]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HeywoodWarning)   # the bifactor model's x1
            out[key] = cfa(hs, ref["syntax"], std_lv=ref["std_lv"],
                           orthogonal=ref["orthogonal"])
    return out


@pytest.mark.parametrize("key", MODELS)
def test_fit_measures_match_lavaan(fits, key):
    res, ref = fits[key], FIX[key]["fit"]
    assert res.converged
    for ours, theirs in FIT_MAP.items():
        rtol = 1e-5 if ours.startswith("rmsea_ci") else 1e-6   # lavaan's uniroot tolerance
        assert_allclose(res.fit[ours], ref[theirs], rtol=rtol, atol=1e-12, err_msg=ours)
    assert_allclose(res.fit["srmr"], ref["srmr"], rtol=1e-5)


@pytest.mark.parametrize("key", MODELS)
def test_parameters_match_lavaan(fits, key):
    res = fits[key]
    ref = pd.DataFrame(FIX[key]["params"])
    merged = ref.merge(res.parameters, on=["lhs", "op", "rhs"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    assert_allclose(merged["estimate"], merged["est"], atol=1e-4, err_msg="estimates")
    free = merged["free"].to_numpy(dtype=bool)
    assert np.isnan(merged.loc[~free, "se_y"]).all()
    assert_allclose(merged.loc[free, "se_y"], merged.loc[free, "se_x"], atol=1e-4,
                    err_msg="se")
    assert_allclose(merged["std_all"], merged["std.all"], rtol=1e-4, atol=1e-5,
                    err_msg="std.all")
    assert_allclose(merged["std_lv"], merged["std.lv"], rtol=1e-4, atol=1e-5,
                    err_msg="std.lv")


def test_labels_make_parameters_equal(fits):
    pe = fits["modifiers"].parameters
    a = pe[pe["label"] == "a"]
    assert len(a) == 2
    assert a["estimate"].iloc[0] == a["estimate"].iloc[1]


def test_fixed_values_are_kept(fits):
    pe = fits["modifiers"].parameters.set_index(["lhs", "op", "rhs"])
    assert pe.loc[("visual", "~~", "speed"), "estimate"] == 0.0
    assert pe.loc[("speed", "~~", "speed"), "estimate"] == 1.0
    assert bool(pe.loc[("speed", "=~", "x7"), "free"])          # NA* frees the marker
    assert not bool(pe.loc[("visual", "=~", "x1"), "free"])


def test_syntax_three_factor_equals_mapping_model(fits, hs):
    mapping = cfa(hs, {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
                       "speed": ["x7", "x8", "x9"]})
    for k in ("chi2", "cfi", "rmsea", "srmr", "aic"):
        assert_allclose(fits["three"].fit[k], mapping.fit[k], rtol=1e-9)
    assert_allclose(fits["three"].loadings["estimate"], mapping.loadings["estimate"],
                    atol=1e-7)


def test_higher_order_factor_correlations(fits):
    fc = fits["higher_order"].factor_correlations
    assert list(fc.index) == ["visual", "textual", "speed", "g"]
    assert_allclose(np.diag(fc.to_numpy()), 1.0)


def test_bifactor_is_flagged_improper(fits):
    res = fits["bifactor"]
    assert res.heywood and "x1" in res.heywood_items
    assert res.factor_correlations.loc["g", "visual"] == 0.0


# ------------------------------------------------------------------ the parser
def test_parser_reads_modifiers_and_continuations():
    st = parse_syntax("f =~ 1*x1 + start(.5)*x2 + a*x3 +\n  NA*x4 # comment\n"
                      "x1 ~~ x2; f ~ 1\nx3 ~~ c(0.5, NA)*x3")
    assert [(s.lhs, s.op, s.rhs) for s in st] == [
        ("f", "=~", "x1"), ("f", "=~", "x2"), ("f", "=~", "x3"), ("f", "=~", "x4"),
        ("x1", "~~", "x2"), ("f", "~1", ""), ("x3", "~~", "x3")]
    assert st[0].modifier(0).fixed == 1.0
    assert st[1].modifier(0).start == 0.5
    assert st[2].modifier(0).label == "a"
    assert st[3].modifier(0).free
    assert st[3].line == 1
    assert st[6].modifier(0).fixed == 0.5 and st[6].modifier(1).free


@pytest.mark.parametrize("text,where", [
    ("f =~ x1 + x2\ny ~ x1", "line 2"),
    ("f =~ x1 + + x2", "line 1"),
    ("f =~ x1 + x2\n\nf =~ x1", "line 3"),
    ("f =~ x1 + x2 + x3\nx1 ~~ x2\nx2 ~~ x1", "line 3"),
    ("f =~ x1 + x2\ng := 2*f", "line 2"),
    ("f =~ x1 + foo(1)*x2", "line 1"),
    ("just words", "line 1"),
])
def test_parser_errors_name_line_and_term(text, where):
    with pytest.raises(StatisticsError, match=where) as exc:
        build_partable(text)
    assert exc.value.problems and exc.value.problems[0].line == int(where.split()[1])


def test_unknown_variable_and_missing_column(hs):
    with pytest.raises(StatisticsError, match="line 2: z9 is neither"):
        build_partable("f =~ x1 + x2 + x3\nz9 ~~ x1")
    with pytest.raises(StatisticsError, match="not columns of the data"):
        cfa(hs, "f =~ x1 + x2 + nope")


def test_parameter_names():
    assert parse_parameter_name("x1 ~ 1") == ("x1", "~1", "")
    assert parse_parameter_name("visual=~x2") == ("visual", "=~", "x2")
    assert parse_parameter_name("x1~~x1") == ("x1", "~~", "x1")
    with pytest.raises(StatisticsError, match="cannot read the parameter"):
        parse_parameter_name("x1")


def test_partable_defaults_match_lavaanify():
    pt = build_partable("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n"
                        "g =~ visual + textual")
    free = {(r.lhs, r.op, r.rhs) for r in pt.rows if r.free}
    # first-order factors are endogenous: no covariance between them; g has a variance
    assert ("visual", "~~", "textual") not in {(r.lhs, r.op, r.rhs) for r in pt.rows}
    assert ("g", "~~", "g") in free and ("visual", "~~", "visual") in free
    assert ("g", "=~", "visual") not in free and ("g", "=~", "textual") in free
    assert pt.nfree == 4 + 6 + 1 + 3


# ------------------------------------------------------------------ the command line
HS_CSV = str(HERE / "data" / "HolzingerSwineford1939.csv")


def test_cli_cfa_reads_lavaan_syntax(tmp_path):
    from click.testing import CliRunner

    import instrval.cli.cfa  # noqa: F401  (registers the command)
    from instrval.cli._base import main

    model = tmp_path / "bifactor.lav"
    model.write_text(FIX["bifactor"]["syntax"] + "\n")
    out = CliRunner().invoke(main, ["cfa", HS_CSV, "--model", str(model), "--std-lv",
                                    "--orthogonal", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert_allclose(doc["fit"]["chi2"], FIX["bifactor"]["fit"]["chisq"], rtol=1e-6)
    assert_allclose(doc["fit"]["cfi"], FIX["bifactor"]["fit"]["cfi"], rtol=1e-6)


def test_cli_cfa_syntax_error_names_file_and_line(tmp_path):
    from click.testing import CliRunner

    import instrval.cli.cfa  # noqa: F401
    from instrval.cli._base import main

    model = tmp_path / "bad.lav"
    model.write_text("f =~ x1 + x2 + x3\nf ~ x4\n")
    out = CliRunner().invoke(main, ["cfa", HS_CSV, "--model", str(model)])
    assert out.exit_code != 0
    assert f"{model}: model syntax, line 2" in out.output
    assert "Traceback" not in out.output
