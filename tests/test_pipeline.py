"""run_validation / write_report / `instrval report`, end to end."""

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from instrval.cli import main
from instrval.io.instrument import check_instrument_file, read_instrument
from instrval.io.study import read_study, study_from_mapping
from instrval.pipeline import STEPS, run_validation, write_report

ROOT = Path(__file__).resolve().parents[1]
IAM = ROOT / "examples/iam"


def _small_study(tmp: Path, **extra):
    data = {"instrument": str(ROOT / "instruments/iam/iam-2011.yaml"),
            "ratings": str(IAM / "data/iam-sample.csv"),
            "coding": str(IAM / "coding/segments.csv"),
            "codebook": str(IAM / "coding/codebook.yaml"),
            "decisions": str(IAM / "expert_decisions.csv"),
            "seed": 11, "timestamp": "2014-06-30T12:00:00Z",
            "revision": {"version": "2014"}, "analyses": {"n_boot": 30}, **extra}
    return study_from_mapping(data, base_dir=tmp)


@pytest.mark.slow
def test_same_inputs_give_byte_identical_results(tmp_path):
    s = _small_study(tmp_path)
    a = write_report(run_validation(s, quiet=True), tmp_path / "a")
    b = write_report(run_validation(s, quiet=True), tmp_path / "b")
    for key in ("results_json", "revised_instrument", "markdown", "html", "xlsx"):
        assert a[key].read_bytes() == b[key].read_bytes(), key
    # a different seed changes the bootstrap intervals, and the file says so
    c = write_report(run_validation(s.replace(seed=12), quiet=True), tmp_path / "c")
    assert a["results_json"].read_bytes() != c["results_json"].read_bytes()


def test_progress_steps_and_quiet(tmp_path):
    s = _small_study(tmp_path)
    seen = []
    run_validation(s, progress=lambda i, n, label: seen.append((i, n, label)))
    assert seen == [(i + 1, len(STEPS), label) for i, label in enumerate(STEPS)]
    seen.clear()
    run_validation(s, progress=lambda *a: seen.append(a), quiet=True)
    assert seen == []


def test_small_iam_run_and_revised_instrument(tmp_path):
    res = run_validation(_small_study(tmp_path), quiet=True)
    out = write_report(res, tmp_path / "rep")
    rev_path = out["revised_instrument"]
    assert rev_path.name == "iam-2014.yaml"
    assert check_instrument_file(rev_path) == []
    rev = read_instrument(rev_path)
    assert rev.status == "draft" and rev.derived_from.version == "2011"
    assert rev.provenance["seed"] == 11
    assert set(rev.provenance["inputs"]) >= {"instrument", "ratings", "coding", "decisions"}
    assert all(len(v["sha256"]) == 64 for v in rev.provenance["inputs"].values())
    changes = [e for e in rev.changelog if e.version == "2014"]
    assert len(changes) == 23  # one entry per reviewed item
    t = res.joint.items.set_index("item_id")
    assert t.loc["ci_reassured", "convergence"] == "discordance"
    assert t.loc["ci_reassured", "decision"] == "keep"
    assert t.loc["ci_reassured", "decided_by"] == "expert"
    # the diff between old and new reads like the changelog
    if res.diff is not None:
        assert set(res.diff.removed) == {e.item for e in changes if e.action == "removed"}


def test_cli_flags_without_study_file(tmp_path):
    bfi = pd.read_csv(ROOT / "examples/bfi/bfi.csv").head(400)
    bfi.to_csv(tmp_path / "bfi.csv", index=False)
    out = tmp_path / "out"
    r = CliRunner().invoke(main, [
        "report", "--instrument", str(ROOT / "instruments/bfi/bfi-1.0.yaml"),
        "--ratings", str(tmp_path / "bfi.csv"), "--out", str(out), "--seed", "3",
        "--timestamp", "2024-01-01T00:00:00Z", "--version-label", "1.1", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["summary"]["revised_instrument"] == "bfi@1.1"
    res = json.loads((out / "results.json").read_text())
    assert set(res["reliability"]) == {"agreeableness", "conscientiousness", "extraversion",
                                       "neuroticism", "openness"}
    assert res["efa"]["n_factors"] == 5 and res["relevance"] is None
    assert res["qualitative"] is None
    assert res["timestamp"] == "2024-01-01T00:00:00+00:00"


def test_cli_errors_are_clean(tmp_path):
    r = CliRunner().invoke(main, ["report", str(tmp_path / "missing.yaml")])
    assert r.exit_code == 1 and "not found" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["report"])
    assert r.exit_code == 1 and "--instrument" in r.output
    bad = tmp_path / "s.yaml"
    bad.write_text("instrument: x.yaml\nseeed: 1\n")
    r = CliRunner().invoke(main, ["report", str(bad)])
    assert r.exit_code == 1 and "did you mean 'seed'" in r.output


def test_generate_if_missing(tmp_path, monkeypatch):
    import instrval.datasets.iam as iam_mod

    real = iam_mod.generate_iam_ratings
    monkeypatch.setattr(iam_mod, "generate_iam_ratings",
                        lambda seed=2012, **kw: real(n_ratings=3000, n_respondents=300,
                                                     seed=seed))
    s = _small_study(tmp_path, ratings={"file": "gen/iam.csv.gz", "generate_if_missing": "iam",
                                         "generate_seed": 7})
    res = run_validation(s, quiet=True)
    assert (tmp_path / "gen/iam.csv.gz").is_file()
    assert any("generated" in n for n in res.notes)
    assert res.ratings.n_read == 3000


@pytest.mark.slow
def test_full_iam_example_reproduces_the_published_study(tmp_path):
    study = read_study(IAM / "study.yaml")
    res = run_validation(study, quiet=True)
    write_report(res, tmp_path / "iam")
    s = res.summary()
    assert s["items_reviewed"] == 23 and s["removed"] == 2 and s["items_after"] == 21
    assert s["revised_instrument"] == "iam@2014" and s["open_questions"] == 0
    rel = res.relevance.items.set_index("item_id")
    assert res.relevance.n_ratings == 234196
    assert rel.loc["ci_dissatisfied_harmful", "ratio"] == pytest.approx(0.0486, abs=5e-5)
    assert rel.loc["use_decide_unsure", "ratio"] == pytest.approx(0.0304, abs=5e-5)
    assert rel.loc["use_decide_unsure", "presented"] == 45394
    assert set(res.relevance.not_relevant) == {"ci_dissatisfied_harmful", "use_decide_unsure"}
    t = res.joint.items.set_index("item_id")
    assert t.loc["ci_reassured", "convergence"] == "discordance"
    assert t.loc["ci_reassured", "decision"] == "keep"
    assert "distinct from confirmation" in t.loc["ci_reassured", "expert_rationale"]
    assert res.revised.derived_from.version == "2011"
    assert set(res.instrument.item_ids) - set(res.revised.item_ids) == {
        "ci_dissatisfied_harmful", "use_decide_unsure"}
    rq = res.qual.items.set_index("item_id")["representative"]
    assert int(rq.sum()) == 22 and not rq["ci_reassured"]


@pytest.mark.slow
def test_bfi_example(tmp_path):
    res = run_validation(read_study(ROOT / "examples/bfi/study.yaml"), quiet=True)
    write_report(res, tmp_path / "bfi")
    assert res.qual is None and res.relevance is None
    assert res.reliability["agreeableness"].alpha == pytest.approx(0.7030, abs=5e-5)
    assert res.efa is not None and res.cfa is not None and res.parallel is not None
    cos = res.cosmin.table.set_index("aspect")["rating"]
    assert cos["relevance"] == "indeterminate"
    assert cos["structural validity"] in ("sufficient", "insufficient")
    html = (tmp_path / "bfi/report.html").read_text()
    assert "Scree plot" in html and "Pattern loadings" in html


@pytest.fixture(scope="module")
def bfi_small(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bfi")
    pd.read_csv(ROOT / "examples/bfi/bfi.csv").head(600).to_csv(tmp / "bfi.csv", index=False)
    study = study_from_mapping({
        "instrument": str(ROOT / "instruments/bfi/bfi-1.0.yaml"), "ratings": "bfi.csv",
        "seed": 1, "timestamp": "2024-01-01T00:00:00Z", "revision": {"version": "1.1"},
        "analyses": {"efa": {"factors": 5}, "parallel_iter": 5}}, base_dir=tmp)
    res = run_validation(study, quiet=True)
    return res, write_report(res, tmp / "out")


def test_omega_in_results_json_equals_omega(bfi_small):
    """results.json's omega is instrval.stats.omega.omega (all items, 5 factors) and
    omega_one_factor per construct, on the same ratings (exact: same function, same data)."""
    from instrval.stats.omega import omega, omega_one_factor

    res, written = bfi_small
    data = json.loads(written["results_json"].read_text(encoding="utf-8"))
    items = [it.id for it in res.instrument.items]
    X = res.ratings.item_frame(items).astype(float)
    ref = omega(X, n_factors=5)
    assert data["omega"]["omega_total"] == ref.omega_total
    assert data["omega"]["omega_hierarchical"] == ref.omega_hierarchical
    assert data["omega"]["n_factors"] == 5
    for c in res.instrument.constructs:
        one = omega_one_factor(X[list(c.item_ids)])
        assert data["omega"]["scales"][c.id]["omega"] == one.omega
    html = written["html"].read_text(encoding="utf-8")
    assert "McDonald&#x27;s omega" in html or "McDonald's omega" in html
    assert f"{ref.omega_hierarchical:.3f}" in html and f"{ref.omega_total:.3f}" in html


def test_bfi_ordinal_cfa_and_cosmin(bfi_small):
    """Likert items with 6 categories: the CFA is fitted by ML and by WLSMV; the COSMIN
    structural-validity rating uses the WLSMV (scaled) fit."""
    from instrval.stats.cfa import cfa

    res, written = bfi_small
    assert res.cfa is not None and res.cfa_ordinal is not None
    assert res.cfa_ordinal.estimator == "wlsmv"
    items = [it.id for it in res.instrument.items]
    ref = cfa(res.ratings.item_frame(items), res.instrument, estimator="wlsmv")
    assert res.cfa_ordinal.fit["cfi_scaled"] == ref.fit["cfi_scaled"]
    data = json.loads(written["results_json"].read_text(encoding="utf-8"))
    assert data["cfa_wlsmv"]["estimator"] == "wlsmv"
    sv = res.cosmin.values["structural validity"]
    assert sv["estimator"] == "WLSMV" and sv["cfi"] == ref.fit["cfi_scaled"]
    f = ref.fit
    ok = (f["cfi_scaled"] > 0.95 or f["tli_scaled"] > 0.95 or f["rmsea_scaled"] < 0.06
          or f["srmr"] < 0.08)
    rating = res.cosmin.table.set_index("aspect").loc["structural validity", "rating"]
    assert rating == ("sufficient" if ok else "insufficient")
    html = written["html"].read_text(encoding="utf-8")
    for text in ("WLSMV (polychoric, scaled)", "ML (Pearson covariances)", "Scree plot",
                 "Pattern loadings", "95% CI (Feldt)", "G6", "r.drop"):
        assert text in html, text
