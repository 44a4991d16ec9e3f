r"""Confirmatory factor analysis by maximum likelihood, matching R lavaan's defaults.

The model is the covariance structure

.. math:: \Sigma(\theta) = \Lambda \Phi \Lambda^\top + \Theta

with loadings :math:`\Lambda` (an item loads only on the factors the model names), factor
covariances :math:`\Phi` (all free) and diagonal residual variances :math:`\Theta`.  Each
factor is identified by its first item (loading fixed to 1, lavaan's default) or, with
``std_lv=True``, by fixing its variance to 1.

The ML discrepancy (lavaan's ``estimator="ML"``, ``likelihood="normal"``) is

.. math:: F_{ML} = \log|\Sigma| + \mathrm{tr}(S\Sigma^{-1}) - \log|S| - p

with :math:`S` the sample covariance matrix divided by :math:`N` (not :math:`N-1`).  It is
minimised by Fisher scoring, finished by Newton steps, with the analytic gradient
:math:`g_k = \mathrm{tr}(\Sigma^{-1}(\Sigma - S)\Sigma^{-1}\,\partial\Sigma/\partial\theta_k)` and
the expected information
:math:`H_{kl} = \mathrm{tr}(\Sigma^{-1}\dot\Sigma_k\Sigma^{-1}\dot\Sigma_l)`, with step halving,
until the largest gradient element is below 1e-10 (lavaan's nlminb stops at a relative change of
1e-10 in F; both reach the same optimum to about 1e-7 in the estimates).

References
----------
Bollen, K. A. (1989). Structural Equations with Latent Variables. Wiley.
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. Journal of
Statistical Software, 48(2), 1-36.  Version 0.6.14's fit measures are reproduced here.
Browne, M. W., & Cudeck, R. (1993). Alternative ways of assessing model fit (RMSEA and its CI).
Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes (CFI, TLI, SRMR).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from instrval._jsonable import to_jsonable
from instrval._result import Result
from instrval.errors import ConvergenceWarning, HeywoodWarning, StatisticsError

__all__ = ["CFAResult", "cfa", "model_from_instrument"]

ESTIMATORS = ("ml", "wlsmv")
MISSING = ("listwise",)

#: Construct kinds whose items form a factor when an Instrument is given as the model.
FACTOR_KINDS = ("likert", "binary")


# --------------------------------------------------------------------------- model spec
def model_from_instrument(instrument: Any) -> dict[str, list[str]]:
    """The measurement model of an instrument: each likert/binary construct a factor.

    Parameters
    ----------
    instrument : Instrument
        Its ``constructs`` of kind ``likert`` or ``binary`` become factors named by the
        construct id, measured by the construct's ``item_ids`` in file order (the first is the
        marker).  ``multi_select`` and ``single_choice`` constructs are skipped.

    Returns
    -------
    dict
        ``{construct_id: [item ids]}``.
    """
    constructs = getattr(instrument, "constructs", None)
    if constructs is None:
        raise StatisticsError(
            f"the model must be a mapping {{factor: [items]}} or an Instrument, got "
            f"{type(instrument).__name__}")
    model = {c.id: list(c.item_ids) for c in constructs if c.kind in FACTOR_KINDS}
    if not model:
        raise StatisticsError(
            f"instrument {getattr(instrument, 'label', '?')} has no likert or binary "
            "constructs to use as factors")
    return model


def _parse_model(model: Any) -> dict[str, list[str]]:
    if isinstance(model, Mapping):
        spec = {}
        for f, items in model.items():
            if isinstance(items, str) or not isinstance(items, Sequence):
                raise StatisticsError(
                    f"factor {f!r}: items must be a list of item ids, got {items!r}")
            spec[str(f)] = [str(i) for i in items]
    else:
        spec = model_from_instrument(model)
    if not spec:
        raise StatisticsError("the model has no factors")
    for f, items in spec.items():
        if len(items) < 2:
            raise StatisticsError(
                f"factor {f!r} has {len(items)} item(s); each factor needs at least 2")
        dup = sorted({i for i in items if items.count(i) > 1})
        if dup:
            raise StatisticsError(f"factor {f!r} lists item(s) more than once: {', '.join(dup)}")
    return spec


def _model_data(data: pd.DataFrame, spec: dict[str, list[str]], what: str
                ) -> tuple[list[str], np.ndarray]:
    """The model's items (in order of first mention) and their columns of ``data`` as a
    float array (NaN for missing); ``what`` names the function in messages."""
    items: list[str] = []
    for fac in spec:
        for it in spec[fac]:
            if it not in items:
                items.append(it)
    cols = {str(c): c for c in data.columns}
    absent = [i for i in items if i not in cols]
    if absent:
        raise StatisticsError(
            f"the model's item(s) {', '.join(absent)} are not columns of the data "
            f"(columns: {', '.join(map(str, data.columns))})")
    try:
        x = data[[cols[i] for i in items]].to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise StatisticsError(f"{what} needs numeric item responses: {exc}") from None
    return items, x


def _loading_pattern(spec: dict[str, list[str]], items: list[str], std_lv: bool
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``(pattern, fixed_one)``, both (items x factors) bool: where an item loads, and the
    marker loadings fixed to 1 (each factor's first item, unless ``std_lv``)."""
    pattern = np.zeros((len(items), len(spec)), dtype=bool)
    fixed_one = np.zeros_like(pattern)
    for f, fac in enumerate(spec):
        for k, it in enumerate(spec[fac]):
            pattern[items.index(it), f] = True
            if k == 0 and not std_lv:
                fixed_one[items.index(it), f] = True
    return pattern, fixed_one


def _free_positions(pattern: np.ndarray, fixed_one: np.ndarray, std_lv: bool
                    ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The free loadings ``(item, factor)`` factor by factor, and the free factor
    (co)variances ``(f, g)`` with ``f >= g`` (no variances when ``std_lv``)."""
    p, m = pattern.shape
    lam_idx = [(i, f) for f in range(m) for i in range(p)
               if pattern[i, f] and not fixed_one[i, f]]
    phi_idx = [(f, g) for f in range(m) for g in range(f + 1) if not (std_lv and f == g)]
    return lam_idx, phi_idx


def _first_loadings_positive(lam: np.ndarray, phi: np.ndarray, pattern: np.ndarray) -> None:
    """Flip factors (in place) so that each factor's first loading is positive."""
    for f in range(pattern.shape[1]):
        first = np.flatnonzero(pattern[:, f])[0]
        if lam[first, f] < 0:
            lam[:, f] = -lam[:, f]
            phi[f, :] = -phi[f, :]
            phi[:, f] = -phi[:, f]


def _improper(items: list[str], resvar: np.ndarray, phi: np.ndarray, *, stacklevel: int
              ) -> list[str]:
    """Items with a residual variance <= 0, then ``"Phi"`` if :math:`\\Phi` is not positive
    definite; warns (:class:`~instrval.errors.HeywoodWarning`) when there is any, with the
    ``stacklevel`` the caller would give."""
    bad = [it for i, it in enumerate(items) if not resvar[i] > 0]
    if np.linalg.eigvalsh(phi).min() <= 0:
        bad.append("Phi")
    if bad:
        warnings.warn(
            "improper solution (Heywood case): "
            + ", ".join(f"negative residual variance of {b}" if b != "Phi"
                        else "factor covariance matrix not positive definite" for b in bad),
            HeywoodWarning, stacklevel=stacklevel + 1)
    return bad


# --------------------------------------------------------------------------- the structure
@dataclass
class _Structure:
    """Where the free parameters sit in Lambda, Phi and Theta."""

    items: list[str]
    factors: list[str]
    pattern: np.ndarray          # (p, m) bool: item loads on factor
    fixed_one: np.ndarray        # (p, m) bool: loading fixed to 1 (marker)
    std_lv: bool
    lam_idx: list[tuple[int, int]] = field(default_factory=list)
    phi_idx: list[tuple[int, int]] = field(default_factory=list)   # (f, g) with f >= g
    n_theta: int = 0

    def __post_init__(self) -> None:
        self.lam_idx, self.phi_idx = _free_positions(self.pattern, self.fixed_one, self.std_lv)
        self.n_theta = self.pattern.shape[0]

    @property
    def q(self) -> int:
        return len(self.lam_idx) + self.n_theta + len(self.phi_idx)

    def unpack(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p, m = self.pattern.shape
        lam = self.fixed_one.astype(float)
        k = 0
        for i, f in self.lam_idx:
            lam[i, f] = theta[k]
            k += 1
        th = theta[k:k + p].copy()
        k += p
        phi = np.eye(m) if self.std_lv else np.zeros((m, m))
        for f, g in self.phi_idx:
            phi[f, g] = phi[g, f] = theta[k]
            k += 1
        return lam, phi, th

    def sigma(self, theta: np.ndarray) -> np.ndarray:
        lam, phi, th = self.unpack(theta)
        return lam @ phi @ lam.T + np.diag(th)

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        """dSigma/dtheta_k as a (q, p, p) array."""
        lam, phi, _ = self.unpack(theta)
        p, _m = lam.shape
        lp = lam @ phi  # (p, m)
        out = np.zeros((self.q, p, p))
        k = 0
        for i, f in self.lam_idx:
            out[k, i, :] += lp[:, f]
            out[k, :, i] += lp[:, f]
            k += 1
        for i in range(p):
            out[k, i, i] = 1.0
            k += 1
        for f, g in self.phi_idx:
            if f == g:
                out[k] = np.outer(lam[:, f], lam[:, f])
            else:
                out[k] = np.outer(lam[:, f], lam[:, g]) + np.outer(lam[:, g], lam[:, f])
            k += 1
        return out


def _start(st: _Structure, S: np.ndarray) -> np.ndarray:
    """Starting values: each factor's first principal axis of its items' covariances."""
    p, m = st.pattern.shape
    lam = st.fixed_one.astype(float)
    phi = np.eye(m)
    for f in range(m):
        idx = np.flatnonzero(st.pattern[:, f])
        vals, vecs = np.linalg.eigh(S[np.ix_(idx, idx)])
        load = vecs[:, -1] * math.sqrt(max(vals[-1], 1e-8))
        if st.std_lv:
            lam[idx, f] = load * (1.0 if load[0] >= 0 else -1.0)
        else:
            marker = idx[np.flatnonzero(st.fixed_one[idx, f])[0]]
            lm = load[list(idx).index(marker)]
            if abs(lm) < 1e-8:
                lm = 1e-8
            lam[idx, f] = load / lm
            phi[f, f] = lm * lm
    # items on several factors: share the start
    multi = st.pattern.sum(axis=1) > 1
    lam[multi] = np.where(st.fixed_one[multi], lam[multi], lam[multi] / 2.0)
    theta = [lam[i, f] for i, f in st.lam_idx]
    theta += list(np.diag(S) / 2.0)
    theta += [phi[f, g] if f == g else 0.0 for f, g in st.phi_idx]
    return np.array(theta, dtype=float)


def _fml(S: np.ndarray, sigma: np.ndarray, logdet_s: float) -> tuple[float, np.ndarray | None]:
    try:
        c = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return math.inf, None
    logdet = 2.0 * np.sum(np.log(np.diag(c)))
    inv = np.linalg.inv(sigma)
    return float(logdet + np.trace(S @ inv) - logdet_s - S.shape[0]), inv


def _gradient(st: _Structure, S: np.ndarray, theta: np.ndarray) -> np.ndarray | None:
    """Analytic gradient of F_ML, or None where Sigma is not positive definite."""
    sigma = st.sigma(theta)
    try:
        np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return None
    inv = np.linalg.inv(sigma)
    return np.einsum("ij,kij->k", inv @ (sigma - S) @ inv, st.jacobian(theta))


def _fd_hessian(st: _Structure, S: np.ndarray, theta: np.ndarray) -> np.ndarray | None:
    """Central differences of the analytic gradient (for the final Newton steps)."""
    q = theta.size
    h = np.empty((q, q))
    for k in range(q):
        eps = 1e-6 * max(1.0, abs(theta[k]))
        e = np.zeros(q)
        e[k] = eps
        gp = _gradient(st, S, theta + e)
        gm = _gradient(st, S, theta - e)
        if gp is None or gm is None:
            return None
        h[:, k] = (gp - gm) / (2.0 * eps)
    return (h + h.T) / 2.0


def _fit(st: _Structure, S: np.ndarray, max_iter: int = 500, gtol: float = 1e-10
         ) -> tuple[np.ndarray, float, int, bool]:
    """Minimise F_ML; returns (theta, F, iterations, converged).

    Fisher scoring (expected information, step halving) while the largest gradient element is
    above 1e-4, then Newton steps with the Hessian from central differences of the analytic
    gradient (Fisher scoring alone converges only linearly when the model misfits), until the
    largest gradient element is below ``gtol``.
    """
    logdet_s = float(np.linalg.slogdet(S)[1])
    theta = _start(st, S)
    f, inv = _fml(S, st.sigma(theta), logdet_s)
    if inv is None:
        raise StatisticsError("the starting values give an implied covariance matrix that is "
                              "not positive definite")
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        sigma = st.sigma(theta)
        d = st.jacobian(theta)
        g = np.einsum("ij,kij->k", inv @ (sigma - S) @ inv, d)
        gmax = float(np.max(np.abs(g)))
        if gmax < gtol:
            converged = True
            break
        if gmax < 1e-4:
            hess = _fd_hessian(st, S, theta)
            if hess is not None and np.linalg.eigvalsh(hess).min() > 0:
                step = -np.linalg.solve(hess, g)
                cand = theta + step
                gc = _gradient(st, S, cand)
                if gc is not None and np.max(np.abs(gc)) < gmax:
                    fc, invc = _fml(S, st.sigma(cand), logdet_s)
                    if invc is not None and fc <= f + 1e-12 * max(1.0, abs(f)):
                        theta, f, inv = cand, fc, invc
                        continue
        a = np.einsum("ij,kjl->kil", inv, d)
        h = np.einsum("kij,lji->kl", a, a)
        try:
            step = -np.linalg.solve(h, g)
        except np.linalg.LinAlgError:
            step = -np.linalg.lstsq(h, g, rcond=None)[0]
        t = 1.0
        improved = False
        for _ in range(40):
            cand = theta + t * step
            fc, invc = _fml(S, st.sigma(cand), logdet_s)
            if invc is not None and fc <= f + 1e-4 * t * float(g @ step):
                theta, f, inv = cand, fc, invc
                improved = True
                break
            t /= 2.0
        if not improved:
            # no further decrease possible in floating point: accept if the gradient is tiny
            converged = gmax < 1e-7
            break
    return theta, f, it, converged


# --------------------------------------------------------------------------- fit measures
def _rmsea_ci(x2: float, df: float, n: float, level: float = 0.90) -> tuple[float, float]:
    """lavaan's ``lav_fit_rmsea_ci``: invert the noncentral chi-square for lambda."""
    if not (math.isfinite(x2) and df >= 1):
        return (math.nan, math.nan)
    upper_p = 1 - (1 - level) / 2
    lower_p = (1 - level) / 2

    def lo_fn(lam: float) -> float:
        return float(stats.ncx2.cdf(x2, df, lam) if lam > 0 else stats.chi2.cdf(x2, df)) - upper_p

    def up_fn(lam: float) -> float:
        return float(stats.ncx2.cdf(x2, df, lam) if lam > 0 else stats.chi2.cdf(x2, df)) - lower_p

    if lo_fn(0.0) < 0:
        lower = 0.0
    else:
        lam_l = optimize.brentq(lo_fn, 0.0, x2, xtol=1e-12, rtol=1e-14)
        lower = math.sqrt(lam_l / (n * df))
    n_rmsea = max(n, x2 * 4)
    if up_fn(n_rmsea) > 0 or up_fn(0.0) < 0:
        upper = 0.0
    else:
        lam_u = optimize.brentq(up_fn, 0.0, n_rmsea, xtol=1e-12, rtol=1e-14)
        upper = math.sqrt(lam_u / (n * df))
    return lower, upper


# --------------------------------------------------------------------------- result
@dataclass(frozen=True, repr=False)
class CFAResult(Result):
    """A fitted confirmatory factor model.

    Attributes
    ----------
    fit : dict
        ``chi2``, ``df``, ``pvalue``, ``cfi``, ``tli``, ``rmsea``, ``rmsea_ci_low``,
        ``rmsea_ci_high``, ``srmr``, ``aic``, ``bic``, ``loglik``, ``loglik_unrestricted``,
        ``baseline_chi2``, ``baseline_df``, ``fmin`` (lavaan's ``F_ML / 2``), ``npar``, ``n``.
    loadings : DataFrame
        One row per loading: ``factor``, ``item_id``, ``estimate``, ``se``, ``z``, ``pvalue``,
        ``std_lv``, ``std_all``, ``fixed`` (the marker loadings, fixed to 1, have se NaN).
    residual_variances : DataFrame
        One row per item: ``item_id``, ``estimate``, ``se``, ``std_all`` (= 1 - R^2).
    factor_covariances : DataFrame
        The estimated :math:`\\Phi` (factors as index and columns).
    factor_correlations : DataFrame
        :math:`\\Phi` rescaled to correlations.
    parameters : DataFrame
        Every parameter in lavaan's ``parameterEstimates`` layout: ``lhs``, ``op``, ``rhs``,
        ``estimate``, ``se``, ``z``, ``pvalue``, ``std_lv``, ``std_all``, ``free``.
    implied_covariance, sample_covariance : DataFrame
        :math:`\\Sigma(\\hat\\theta)` and :math:`S` (divisor N).
    n : int
        Rows used (complete on the model's items).
    converged : bool
    iterations : int
    heywood : bool
        True if a residual variance is negative (or zero) or :math:`\\Phi` is not positive
        definite (an improper solution); ``heywood_items`` names the items / ``"Phi"``.
    """

    fit: dict[str, float]
    loadings: pd.DataFrame
    residual_variances: pd.DataFrame
    factor_covariances: pd.DataFrame
    factor_correlations: pd.DataFrame
    parameters: pd.DataFrame
    implied_covariance: pd.DataFrame
    sample_covariance: pd.DataFrame
    model: dict[str, list[str]]
    n: int
    estimator: str
    missing: str
    std_lv: bool
    converged: bool
    iterations: int
    heywood: bool
    heywood_items: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        """The loadings table (one row per factor-item pair)."""
        return self.loadings.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``fit``, ``loadings`` (records with ``factor``, ``item_id``,
        ``estimate``, ``std_all``, ``se`` ...), ``factor_correlations`` (records with
        ``factor`` then one key per factor), ``residual_variances``, ``n``, flags."""
        fc = self.factor_correlations.copy()
        fc.insert(0, "factor", [str(i) for i in fc.index])
        return {
            "fit": to_jsonable(dict(self.fit)),
            "loadings": to_jsonable(self.loadings),
            "factor_correlations": to_jsonable(fc.reset_index(drop=True)),
            "residual_variances": to_jsonable(self.residual_variances),
            "n": int(self.n),
            "estimator": self.estimator,
            "missing": self.missing,
            "std_lv": bool(self.std_lv),
            "converged": bool(self.converged),
            "iterations": int(self.iterations),
            "heywood": bool(self.heywood),
            "heywood_items": list(self.heywood_items),
        }


# --------------------------------------------------------------------------- the function
def cfa(data: pd.DataFrame, model: Any, *, estimator: str = "ml", missing: str = "listwise",
        std_lv: bool = False) -> CFAResult:
    r"""Confirmatory factor analysis by maximum likelihood, as ``lavaan::cfa`` (0.6.14).

    Parameters
    ----------
    data : DataFrame
        One numeric column per item (other columns are ignored).
    model : mapping or Instrument
        ``{factor: [item ids]}`` (an item may appear under several factors: a
        cross-loading), or an :class:`~instrval.model.instrument.Instrument`, each of whose
        likert/binary constructs becomes a factor of its items (:func:`model_from_instrument`).
        The first item of each factor is its marker (loading fixed to 1).
    estimator : {"ml", "wlsmv"}
        ``"ml"``: maximum likelihood (lavaan ``estimator="ML"``). ``"wlsmv"``: ordered
        items (polychoric correlations, DWLS, robust standard errors, scaled-shifted
        chi-square), handed to :func:`instrval.stats.cfa_ordinal.cfa_ordinal`.
    missing : {"listwise"}
        Rows with a missing answer to any item of the model are dropped (lavaan's default).
    std_lv : bool
        Identify the factors by fixing their variances to 1 (all loadings free) instead of
        fixing the first loading (lavaan ``std.lv=TRUE``).

    Returns
    -------
    CFAResult

    Notes
    -----
    Fit measures, as lavaan's ``fitMeasures`` with N the number of rows used:

    * :math:`\chi^2 = N F_{ML}` with :math:`df = p(p+1)/2 - q`; ``pvalue`` its upper tail.
    * Baseline (independence) model: :math:`\chi^2_0 = N(\sum\log s_{ii} - \log|S|)`,
      :math:`df_0 = p(p-1)/2`.
    * CFI :math:`= 1 - \max(\chi^2-df,0)/\max(\chi^2-df, \chi^2_0-df_0, 0)`;
      TLI :math:`= (\chi^2_0/df_0 - \chi^2/df)/(\chi^2_0/df_0 - 1)`.
    * RMSEA :math:`= \sqrt{\max(\chi^2/(N\,df) - 1/N, 0)}` (N, not N - 1); its 90% CI solves
      :math:`F_{\chi^2_{df}(\lambda)}(\chi^2) = .95` and :math:`.05` for :math:`\lambda`, then
      :math:`\sqrt{\lambda/(N\,df)}` (lavaan's ``lav_fit_rmsea_ci``).
    * SRMR (lavaan's ``srmr``, which without a mean structure is ``srmr_bentler``):
      :math:`\sqrt{\sum_{i\le j} r_{ij}^2 / (p(p+1)/2)}` with
      :math:`r_{ij} = (s_{ij}-\hat\sigma_{ij})/\sqrt{s_{ii}s_{jj}}`.
    * :math:`\log L = -\frac N2 (p\log 2\pi + \log|\hat\Sigma| + \mathrm{tr}(S\hat\Sigma^{-1}))`,
      AIC :math:`= -2\log L + 2q`, BIC :math:`= -2\log L + q\log N`.

    Standard errors come from the expected information, :math:`\mathrm{acov} =
    (\frac N2 H)^{-1}` (lavaan's default for complete data).  ``std_all`` rescales by the
    model-implied SDs of the items and the factor SDs (lavaan ``standardizedSolution``).

    Improper solutions are not prevented (lavaan leaves variances unbounded): a negative
    residual variance or a non-positive-definite :math:`\Phi` gives a
    :class:`~instrval.errors.HeywoodWarning` and ``heywood=True``; non-convergence gives a
    :class:`~instrval.errors.ConvergenceWarning` and ``converged=False``.

    R equivalent::

        fit <- lavaan::cfa("visual =~ x1 + x2 + x3 ...", data = d)   # std.lv = TRUE
        fitMeasures(fit); parameterEstimates(fit, standardized = TRUE)

    Examples
    --------
    >>> import pandas as pd
    >>> hs = pd.read_csv("tests/data/HolzingerSwineford1939.csv")  # doctest: +SKIP
    >>> res = cfa(hs, {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
    ...                "speed": ["x7", "x8", "x9"]})                 # doctest: +SKIP
    >>> round(res.fit["chi2"], 3)                                    # doctest: +SKIP
    85.306
    """
    est = str(estimator).lower()
    if est not in ESTIMATORS:
        raise StatisticsError(
            f"estimator={estimator!r} is not available; choose one of {ESTIMATORS}")
    if est == "wlsmv":
        from instrval.stats.cfa_ordinal import cfa_ordinal

        return cfa_ordinal(data, model, std_lv=std_lv, missing=missing)
    if missing not in MISSING:
        raise StatisticsError(f"missing={missing!r} is not allowed; choose one of {MISSING}")
    if not isinstance(data, pd.DataFrame):
        raise StatisticsError(f"cfa needs a pandas DataFrame, got {type(data).__name__}")
    spec = _parse_model(model)
    factors = list(spec)
    items, x = _model_data(data, spec, "cfa")
    x = x[~np.isnan(x).any(axis=1)]
    n, p = x.shape
    if n < 2:
        raise StatisticsError(f"only {n} complete rows on the model's items")
    xc = x - x.mean(axis=0)
    S = xc.T @ xc / n
    zero_var = [items[i] for i in range(p) if not S[i, i] > 0]
    if zero_var:
        raise StatisticsError("items without variance: " + ", ".join(zero_var))
    if np.linalg.eigvalsh(S).min() <= 0:
        raise StatisticsError("the sample covariance matrix of the model's items is singular "
                              "(fewer complete rows than items, or a linear dependence)")
    m = len(factors)
    pattern, fixed_one = _loading_pattern(spec, items, std_lv)
    st = _Structure(items, factors, pattern, fixed_one, bool(std_lv))
    q = st.q
    df = p * (p + 1) // 2 - q
    if df < 0:
        raise StatisticsError(
            f"the model is not identified: {q} free parameters but only {p * (p + 1) // 2} "
            "variances and covariances")
    theta, fval, iters, converged = _fit(st, S)
    if not converged:
        warnings.warn(f"the CFA did not converge after {iters} iterations; the estimates are "
                      "not reliable", ConvergenceWarning, stacklevel=2)
    lam, phi, th = st.unpack(theta)
    if st.std_lv:  # sign convention: each factor's first loading positive
        _first_loadings_positive(lam, phi, pattern)
        theta = _repack(st, lam, phi, th)
    sigma = lam @ phi @ lam.T + np.diag(th)
    inv = np.linalg.inv(sigma)
    # ---- standard errors (expected information)
    d = st.jacobian(theta)
    a = np.einsum("ij,kjl->kil", inv, d)
    h = np.einsum("kij,lji->kl", a, a)
    info = n / 2.0 * h
    try:
        if np.linalg.cond(info) > 1e14:
            raise np.linalg.LinAlgError
        acov = np.linalg.inv(info)
        se = np.sqrt(np.where(np.diag(acov) > 0, np.diag(acov), np.nan))
    except np.linalg.LinAlgError:
        warnings.warn("the information matrix is singular: the model may not be identified; "
                      "standard errors are not available", ConvergenceWarning, stacklevel=2)
        se = np.full(q, np.nan)
    # ---- fit measures
    chi2 = n * fval
    pval = float(stats.chi2.sf(chi2, df)) if df > 0 else math.nan
    logdet_s = float(np.linalg.slogdet(S)[1])
    base_chi2 = n * (float(np.sum(np.log(np.diag(S)))) - logdet_s)
    base_df = p * (p - 1) / 2
    t1 = max(chi2 - df, 0.0)
    t2 = max(chi2 - df, base_chi2 - base_df, 0.0)
    cfi = 1.0 - t1 / t2 if t2 > 0 else 1.0
    tli = ((base_chi2 / base_df - chi2 / df) / (base_chi2 / base_df - 1.0)
           if df > 0 else math.nan)
    rmsea = math.sqrt(max(chi2 / n / df - 1.0 / n, 0.0)) if df > 0 else 0.0
    ci_lo, ci_hi = _rmsea_ci(chi2, df, n)
    sd = np.sqrt(np.diag(S))
    resid = (S - sigma) / np.outer(sd, sd)
    srmr = math.sqrt(float(np.sum(resid[np.tril_indices(p)] ** 2)) / (p * (p + 1) / 2))
    log2pi = math.log(2.0 * math.pi)
    logdet_sig = float(np.linalg.slogdet(sigma)[1])
    loglik = -n / 2.0 * (p * log2pi + logdet_sig + float(np.trace(S @ inv)))
    loglik_u = -n / 2.0 * (p * log2pi + logdet_s + p)
    fit = {
        "chi2": float(chi2), "df": float(df), "pvalue": pval, "cfi": float(cfi),
        "tli": float(tli), "rmsea": float(rmsea), "rmsea_ci_low": float(ci_lo),
        "rmsea_ci_high": float(ci_hi), "srmr": float(srmr),
        "aic": float(-2.0 * loglik + 2.0 * q), "bic": float(-2.0 * loglik + q * math.log(n)),
        "loglik": float(loglik), "loglik_unrestricted": float(loglik_u),
        "baseline_chi2": float(base_chi2), "baseline_df": float(base_df),
        "fmin": float(fval / 2.0), "npar": float(q), "n": float(n),
    }
    # ---- tables
    vsd = np.sqrt(np.diag(sigma))
    fsd = np.sqrt(np.where(np.diag(phi) > 0, np.diag(phi), np.nan))
    se_of: dict[tuple[str, int, int], float] = {}
    k = 0
    for i, f in st.lam_idx:
        se_of[("lam", i, f)] = se[k]
        k += 1
    for i in range(p):
        se_of[("th", i, i)] = se[k]
        k += 1
    for f, g in st.phi_idx:
        se_of[("phi", f, g)] = se[k]
        k += 1
    rows = []
    load_rows = []
    for f, fac in enumerate(factors):
        for it in spec[fac]:
            i = items.index(it)
            e = lam[i, f]
            s = se_of.get(("lam", i, f), math.nan)
            r = _param_row(fac, "=~", it, e, s, e * fsd[f], e * fsd[f] / vsd[i],
                           ("lam", i, f) in se_of)
            rows.append(r)
            load_rows.append({"factor": fac, "item_id": it, "estimate": r["estimate"],
                              "se": r["se"], "z": r["z"], "pvalue": r["pvalue"],
                              "std_lv": r["std_lv"], "std_all": r["std_all"],
                              "fixed": not r["free"]})
    res_rows = []
    for i, it in enumerate(items):
        s = se_of[("th", i, i)]
        r = _param_row(it, "~~", it, th[i], s, th[i], th[i] / sigma[i, i], True)
        rows.append(r)
        res_rows.append({"item_id": it, "estimate": r["estimate"], "se": r["se"],
                         "std_all": r["std_all"]})
    for f in range(m):
        for g in range(f, m):
            s = se_of.get(("phi", g, f), math.nan)
            cor = phi[f, g] / (fsd[f] * fsd[g])
            rows.append(_param_row(factors[f], "~~", factors[g], phi[f, g], s, cor, cor,
                                   ("phi", g, f) in se_of))
    phi_df = pd.DataFrame(phi, index=factors, columns=factors)
    cor_lv = phi / np.outer(fsd, fsd)
    bad = _improper(items, th, phi, stacklevel=2)
    return CFAResult(
        fit=fit,
        loadings=pd.DataFrame(load_rows),
        residual_variances=pd.DataFrame(res_rows),
        factor_covariances=phi_df,
        factor_correlations=pd.DataFrame(cor_lv, index=factors, columns=factors),
        parameters=pd.DataFrame(rows),
        implied_covariance=pd.DataFrame(sigma, index=items, columns=items),
        sample_covariance=pd.DataFrame(S, index=items, columns=items),
        model={f: list(v) for f, v in spec.items()}, n=int(n), estimator=est,
        missing=missing, std_lv=bool(std_lv), converged=bool(converged), iterations=int(iters),
        heywood=bool(bad), heywood_items=tuple(bad))


def _repack(st: _Structure, lam: np.ndarray, phi: np.ndarray, th: np.ndarray) -> np.ndarray:
    vals = [lam[i, f] for i, f in st.lam_idx] + list(th) + [phi[f, g] for f, g in st.phi_idx]
    return np.array(vals, dtype=float)


def _param_row(lhs: str, op: str, rhs: str, est: float, se: float, std_lv: float,
               std_all: float, free: bool) -> dict[str, Any]:
    z = est / se if free and se and math.isfinite(se) and se > 0 else math.nan
    pv = 2.0 * float(stats.norm.sf(abs(z))) if math.isfinite(z) else math.nan
    return {"lhs": lhs, "op": op, "rhs": rhs, "estimate": float(est),
            "se": float(se) if free else math.nan, "z": float(z), "pvalue": pv,
            "std_lv": float(std_lv), "std_all": float(std_all), "free": bool(free)}
