"""Tests of instrval.stats.agreement.

Witnesses: psych::cohen.kappa (tests/fixtures/r/agreement.R -> tests/fixtures/agreement.json),
published worked examples (Fleiss 1971 as on Wikipedia: kappa = 0.210; Krippendorff 2011:
nominal .743, ordinal .815, interval .849, ratio .797) and values worked out by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from instrval.errors import StatisticsError
from instrval.model.coding import CodingData
from instrval.stats.agreement import (
    coder_agreement,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    percent_agreement,
)
from instrval.validate.coding import check_segments

ROOT = Path(__file__).parent
FIX = json.loads((ROOT / "fixtures" / "agreement.json").read_text())
KD = np.array([[np.nan if v is None else v for v in row]
               for row in FIX["krippendorff"]["data"]], dtype=float)


@pytest.mark.parametrize("case", FIX["cohen"], ids=[c["name"] for c in FIX["cohen"]])
def test_cohen_kappa_matches_psych(case):
    data = pd.DataFrame(case["data"])
    weights = np.array(case["weights"]) if case.get("weights") else "quadratic"
    r = cohen_kappa(data, weights=weights, confidence=1 - case["alpha"])
    # tolerance 1e-12: same formulas, floating-point differences only
    assert_allclose([r.kappa, r.weighted_kappa, r.var_kappa, r.var_weighted],
                    [case["kappa"], case["weighted_kappa"], case["var_kappa"],
                     case["var_weighted"]], rtol=1e-12, atol=1e-12)
    assert_allclose([r.ci_low, r.weighted_ci_low], case["ci_low"], atol=1e-12)
    assert_allclose([r.ci_high, r.weighted_ci_high], case["ci_high"], atol=1e-12)
    assert r.n == case["n"]


def test_cohen_kappa_hand_worked():
    # table [[1, 1], [0, 2]] / 4: po = .75, pc = .5*.25 + .5*.75 = .5 -> kappa = .5
    r = cohen_kappa([[1, 1], [2, 2], [1, 2], [2, 2]])
    assert_allclose(r.kappa, 0.5, atol=1e-15)
    # two levels: quadratic weights are the identity, so weighted = unweighted
    assert_allclose(r.weighted_kappa, 0.5, atol=1e-15)
    f = r.to_frame()
    assert list(f["type"]) == ["unweighted", "weighted"]
    assert r.to_dict()["levels"] == [1, 2]


def test_cohen_kappa_drops_incomplete_pairs_and_checks_input():
    r = cohen_kappa(pd.DataFrame({"a": [1, 2, None, 1], "b": [1, 2, 2, 2]}))
    assert r.n == 3
    with pytest.raises(StatisticsError, match="exactly 2 raters"):
        cohen_kappa(np.ones((4, 3)))
    with pytest.raises(StatisticsError, match="weights must be"):
        cohen_kappa([[1, 1], [2, 1]], weights="cubic")
    with pytest.raises(StatisticsError, match="not among the levels"):
        cohen_kappa([[1, 1], [2, 3]], levels=[1, 2])
    with pytest.raises(StatisticsError, match="confidence"):
        cohen_kappa([[1, 1], [2, 1]], confidence=1.5)


def test_cohen_kappa_old_alpha_keyword_warns_and_agrees():
    data = [[1, 1], [2, 2], [1, 2], [2, 2], [3, 3], [1, 3]]
    new = cohen_kappa(data, confidence=0.9)
    with pytest.warns(DeprecationWarning, match="alpha= is deprecated"):
        old = cohen_kappa(data, alpha=0.1)
    assert_allclose([old.ci_low, old.ci_high], [new.ci_low, new.ci_high], rtol=1e-12)
    with pytest.raises(TypeError, match="confidence= only"):
        cohen_kappa(data, alpha=0.1, confidence=0.9)


def test_fleiss_kappa_wikipedia_example():
    counts = pd.read_csv(ROOT / "data" / "fleiss_counts_wiki.csv", index_col=0)
    # the file holds the 10 subjects x 5 categories counts of 14 raters (Wikipedia)
    assert counts.shape == (10, 5) and set(counts.sum(axis=1)) == {14}
    r = fleiss_kappa(counts)
    assert_allclose(r.kappa, 0.210, atol=5e-4)          # published, 3 decimals
    assert_allclose(r.p_observed, 0.378, atol=5e-4)     # published P-bar
    assert_allclose(r.p_expected, 0.213, atol=5e-4)     # published P-bar_e
    ref = FIX["fleiss"]                                 # R implementation, full precision
    assert_allclose([r.kappa, r.p_observed, r.p_expected, r.se0],
                    [ref["kappa"], ref["p_observed"], ref["p_expected"], ref["se0"]],
                    rtol=1e-12)
    assert_allclose(r.categories["proportion"], ref["p_category"], rtol=1e-12)
    # independent Python implementation (statsmodels comes with pingouin)
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    assert_allclose(r.kappa, inter_rater.fleiss_kappa(counts.to_numpy()), rtol=1e-12)


def test_fleiss_kappa_from_raw_ratings_and_errors():
    raw = pd.DataFrame([["a", "a", "b"], ["b", "b", "b"], ["a", "b", "a"], ["a", "a", "a"]])
    counts = [[2, 1], [0, 3], [2, 1], [3, 0]]
    assert_allclose(fleiss_kappa(raw, counts=False).kappa, fleiss_kappa(counts).kappa)
    with pytest.raises(StatisticsError, match="same number of raters"):
        fleiss_kappa([[2, 0], [1, 2]])
    with pytest.raises(StatisticsError, match="complete ratings"):
        fleiss_kappa(pd.DataFrame([["a", None], ["a", "b"]]), counts=False)


@pytest.mark.parametrize("level,published", [("nominal", 0.743), ("ordinal", 0.815),
                                             ("interval", 0.849), ("ratio", 0.797)])
def test_krippendorff_alpha_paper_example(level, published):
    r = krippendorff_alpha(KD, level=level)
    assert_allclose(r.alpha, published, atol=5e-4)      # Krippendorff (2011), 3 decimals
    ref = FIX["krippendorff"][level]
    assert_allclose(r.alpha, ref["alpha"], rtol=1e-12)  # R implementation
    assert r.n_pairable == 40 and r.n_units == 11       # unit 12 has one value only
    # units in rows gives the same
    assert_allclose(krippendorff_alpha(KD.T, level=level, units="rows").alpha, r.alpha)


def test_krippendorff_alpha_nominal_hand_worked_and_errors():
    # nominal, 2 coders, 3 units: values 1,1 | 2,2 | 1,2 -> o = [[2,1],[1,2]], n = 6,
    # alpha = 1 - (n-1) * 2 / (2 * n1 * n2) = 1 - 5*2/(2*9) = 0.4444...
    assert_allclose(krippendorff_alpha([[1, 2, 1], [1, 2, 2]]).alpha, 1 - 10 / 18)
    assert krippendorff_alpha([["a", "b"], ["a", "b"]]).alpha == 1.0
    with pytest.raises(StatisticsError, match="level must be"):
        krippendorff_alpha(KD, level="cardinal")
    with pytest.raises(StatisticsError, match="numeric"):
        krippendorff_alpha([["a", "b"], ["a", "a"]], level="interval")


def test_percent_agreement():
    assert percent_agreement([[1, 1], [1, 2], [2, 2], [3, 3]]) == 0.75
    # units with one rating are left out; three raters must all agree
    assert percent_agreement([[1, 1, 1], [1, None, None], [1, 2, 1]]) == 0.5
    assert np.isnan(percent_agreement([[1, None]]))


def _coding(rows):
    raw = pd.DataFrame(rows, columns=["segment_id", "participant", "text", "code", "coder"])
    raw["row"] = range(2, len(raw) + 2)
    seg, q, probs = check_segments(raw)
    assert q.empty
    return CodingData(segments=seg, quarantine=q, problems=tuple(probs))


def test_coder_agreement_hand_worked():
    rows = []
    # 4 segments coded by A and B; s1: both x; s2: A x, B y; s3: both y; s4: both y+z
    for sid, a, b in [("s1", ["x"], ["x"]), ("s2", ["x"], ["y"]), ("s3", ["y"], ["y"]),
                      ("s4", ["y", "z"], ["y", "z"])]:
        rows += [(sid, "P1", f"text {sid}", c, "A") for c in a]
        rows += [(sid, "P1", f"text {sid}", c, "B") for c in b]
    rows.append(("s5", "P2", "only A", "x", "A"))  # coded once: not in the comparison
    res = coder_agreement(_coding(rows))
    assert res.n_segments == 4 and res.coders == ("A", "B")
    x = res.codes.set_index("code").loc["x"]
    # code x: A = 1,1,0,0; B = 1,0,0,0 -> po = .75, pc = .5*.25 + .5*.75 = .5, kappa = .5
    assert_allclose(x["percent_agreement"], 0.75)
    assert_allclose(x["cohen_kappa"], 0.5)
    z = res.codes.set_index("code").loc["z"]
    assert_allclose(z["cohen_kappa"], 1.0)
    assigned = res.overall.set_index("scope").loc["assigned_codes"]
    # labels A: x, x, y, y+z; B: x, y, y, y+z -> po = .75;
    # pc = P(x) .5*.25 + P(y) .25*.5 + P(y+z) .25*.25 = .3125 -> kappa = .4375/.6875
    assert_allclose(assigned["percent_agreement"], 0.75)
    assert_allclose(assigned["cohen_kappa"], 0.4375 / 0.6875)
    d = res.to_dict()
    assert set(d) == {"coders", "n_segments", "overall", "codes"}
    json.dumps(d)


def test_coder_agreement_single_coder_is_empty():
    res = coder_agreement(_coding([("s1", "P1", "t", "x", "A")]))
    assert res.n_segments == 0 and res.codes.empty
    with pytest.raises(StatisticsError, match="unknown coder"):
        coder_agreement(_coding([("s1", "P1", "t", "x", "A")]), coders=["Z"])


def test_coder_agreement_iam_example():
    from instrval.io.coding import read_coding
    data = read_coding(ROOT.parent / "examples" / "iam" / "coding" / "segments.csv")
    res = coder_agreement(data)
    assert res.coders == ("A", "B")
    overall = res.overall.set_index("scope")
    k = overall.loc["assigned_codes", "cohen_kappa"]
    assert 0.7 <= k <= 0.85
    # about a fifth of the segments were coded twice
    assert 0.15 <= res.n_segments / data.segments["segment_id"].nunique() <= 0.3


def _reference_coder_agreement(coding):
    """A straightforward implementation (one pandas table per code, the public statistics
    called on each): the vectorised coder_agreement must give the same numbers."""
    seg = coding.segments
    seg = seg[seg["coder"].notna()]
    per_seg = seg.groupby("segment_id")["coder"].nunique()
    shared = sorted(per_seg[per_seg >= 2].index)
    sub = seg[seg["segment_id"].isin(shared)]
    coders = sorted(sub["coder"].unique())
    sets = {(s, c): set(g["code"]) for (s, c), g in sub.groupby(["segment_id", "coder"])}

    def stats(table):
        out = {"percent_agreement": percent_agreement(table)}
        values = {v for v in table.to_numpy().ravel() if not pd.isna(v)}
        out["cohen_kappa"] = (cohen_kappa(table.dropna(), weights="unweighted").kappa
                              if len(coders) == 2 and len(values) > 1 else np.nan)
        counts = [[sum(1 for v in row if v == c) for c in sorted(values, key=str)]
                  for row in table.itertuples(index=False)]
        out["fleiss_kappa"] = fleiss_kappa(counts).kappa if len(values) > 1 else np.nan
        out["krippendorff_alpha"] = krippendorff_alpha(table, units="rows").alpha
        return out

    rows, pooled = {}, []
    for code in sorted(sub["code"].unique()):
        t = pd.DataFrame([[float(code in sets[(s, c)]) if (s, c) in sets else np.nan
                           for c in coders] for s in shared], columns=coders)
        pooled.append(t)
        rows[code] = stats(t)
    labels = pd.DataFrame([["+".join(sorted(sets[(s, c)])) if (s, c) in sets else np.nan
                            for c in coders] for s in shared], columns=coders)
    return rows, stats(pd.concat(pooled, ignore_index=True)), stats(labels)


def _random_coding(seed):
    rng = np.random.default_rng(seed)
    rows = []
    codes = ["a", "b", "c", "d"]
    for i in range(40):
        base = set(rng.choice(codes, size=rng.integers(1, 3), replace=False))
        for coder in ("A", "B"):
            if coder == "B" and rng.random() < 0.4:
                continue  # coded once only
            mine = set(base)
            if rng.random() < 0.3:
                mine ^= {str(rng.choice(codes))}
            rows += [(f"s{i:02d}", f"P{i % 7}", f"text {i}", c, coder) for c in sorted(mine)
                     or ["a"]]
    return _coding(rows)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_coder_agreement_equals_reference_implementation(seed):
    data = _random_coding(seed)
    res = coder_agreement(data)
    per_code, pooled, labels = _reference_coder_agreement(data)
    got = res.codes.set_index("code")
    assert list(got.index) == list(per_code)
    cols = ["percent_agreement", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha"]
    for code, ref in per_code.items():
        # two coders: every sum is exact, so the numbers are identical
        assert_allclose(got.loc[code, cols].astype(float), [ref[c] for c in cols],
                        rtol=1e-12, equal_nan=True)
    overall = res.overall.set_index("scope")
    assert_allclose(overall.loc["pooled", cols].astype(float), [pooled[c] for c in cols],
                    rtol=1e-12, equal_nan=True)
    assert_allclose(overall.loc["assigned_codes", cols].astype(float),
                    [labels[c] for c in cols], rtol=1e-12, equal_nan=True)


def test_statistics_with_missing_and_string_values_match_loops():
    # percent agreement and alpha of a 3-coder table with strings and gaps, by hand:
    # units (a,a,-) (a,b,b) (-,c,c) (b,-,-): 3 pairable units, 2 agree -> PA = 2/3
    t = pd.DataFrame([["a", "a", None], ["a", "b", "b"], [None, "c", "c"], ["b", None, None]])
    assert percent_agreement(t) == 2 / 3
    # coincidences: unit 1 a-a x2 (m=2); unit 2 (m=3) a-b x2, b-b x2 /2; unit 3 c-c x2
    # o_aa = 2, o_ab = o_ba = 1, o_bb = 1, o_cc = 2 -> n = 7, n_a = 3, n_b = 2, n_c = 2
    # D_o = 2 / 7; D_e = (7*7 - 9 - 4 - 4) / (7 * 6) = 32 / 42 -> alpha = 1 - (2/7) / (32/42)
    assert_allclose(krippendorff_alpha(t, units="rows").alpha, 1 - (2 / 7) / (32 / 42),
                    rtol=1e-14)
