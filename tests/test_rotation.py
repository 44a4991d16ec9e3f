"""instrval.stats.rotation against R (stats::varimax, psych::kaiser(.,"Promax"),
GPArotation::oblimin/quartimin/geominQ), starting from R's own unrotated loadings so that
extraction differences do not enter: the rotations are the same deterministic iterations
(same start, step and stop rules), so they are compared at 1e-8 after psych's sign and
order conventions (tests/fixtures/r/efa.R -> efa_bfi.json)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from instrval.errors import StatisticsError
from instrval.stats.rotation import geomin, oblimin, promax, quartimin, rotate, varimax

ROOT = Path(__file__).resolve().parents[1]
FIX = json.loads((ROOT / "tests/fixtures/efa_bfi.json").read_text())
P = len(FIX["items"])


def _unrotated(data: str, fm: str) -> np.ndarray:
    return np.array(FIX["cases"][f"{data}_{fm}_none"]["loadings"]).reshape(P, 5)


def _psych_order(L, phi):
    s = np.sign(L.sum(axis=0))
    s[s == 0] = 1
    L = L * s
    phi = phi * s[:, None] * s[None, :]
    order = np.argsort(-np.diag(phi @ L.T @ L), kind="stable")
    return L[:, order], phi[np.ix_(order, order)]


@pytest.mark.parametrize("data", ["pairwise", "complete"])
@pytest.mark.parametrize("fm", ["minres", "ml", "pa"])
@pytest.mark.parametrize("name,func", [("varimax", varimax), ("promax", promax),
                                       ("oblimin", oblimin), ("quartimin", quartimin),
                                       ("geominQ", geomin)])
def test_rotation_matches_r(data, fm, name, func):
    A = _unrotated(data, fm)
    rot = func(A)
    assert rot.converged
    L, phi = _psych_order(rot.loadings, rot.phi)
    c = FIX["cases"][f"{data}_{fm}_{name}"]
    assert_allclose(L, np.array(c["loadings"]).reshape(P, 5), atol=1e-8)
    assert_allclose(phi, np.array(c["phi"]).reshape(5, 5), atol=1e-8)


def test_rotation_identities():
    A = _unrotated("pairwise", "minres")
    vm = varimax(A)
    assert_allclose(vm.rotmat @ vm.rotmat.T, np.eye(5), atol=1e-12)
    assert_allclose(A @ vm.rotmat, vm.loadings, atol=1e-12)
    ob = oblimin(A)
    # oblique: L = A T^-T, A = L T', the common part L Phi L' is unchanged
    assert_allclose(np.diag(ob.phi), 1.0, atol=1e-12)
    assert_allclose(ob.loadings @ ob.phi @ ob.loadings.T, A @ A.T, atol=1e-10)
    pm = promax(A)
    assert_allclose(pm.loadings @ pm.phi @ pm.loadings.T, A @ A.T, atol=1e-10)


def test_gpa_iteration_limit_reports_non_convergence():
    A = _unrotated("pairwise", "minres")
    assert not oblimin(A, max_iter=2).converged


def test_single_factor_and_unknown_rotation():
    A = _unrotated("pairwise", "minres")[:, :1]
    assert_allclose(rotate(A, "oblimin").loadings, A)
    with pytest.raises(StatisticsError, match="varimax"):
        rotate(_unrotated("pairwise", "minres"), "equamax")
