"""Report sections for comparisons between groups and item response theory.

Differential item functioning (study key ``dif``), item response models (``irt``) and
multi-group measurement invariance (``invariance``): their display tables (rendered by the
HTML templates ``sections/dif.html.j2``, ``irt.html.j2``, ``invariance.html.j2`` and by
the Markdown report), the sentences that introduce them, and the tables for ``tables/``.
The statistics come from :mod:`instrval.stats.dif`, :mod:`instrval.stats.irt` and
:mod:`instrval.stats.sem`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from instrval.report.format import fmt_value
from instrval.report.tables import DisplayTable, columns

__all__ = ["dif_frame", "irt_frame", "invariance_frame", "group_tables",
           "group_display_tables", "dif_intro", "irt_intro", "invariance_intro",
           "DIF_COLUMNS", "MH_COLUMNS", "IRT_COLUMNS", "INVARIANCE_COLUMNS"]

Col = tuple[str, str, str]  # column, header, format

#: Columns of the DIF table (logistic regression; Zumbo 1999).
DIF_COLUMNS: list[Col] = [
    ("construct", "scale", "code"), ("item_id", "item", "code"),
    ("n_reference", "n ref.", "int"), ("n_focal", "n focal", "int"),
    ("chi2_13", "\u03c7\u00b2 (2 df)", "f2"), ("p_13", "p", "p"),
    ("r2_change_13", "\u0394R\u00b2 (Nagelkerke)", "f3"), ("p_12", "p uniform", "p"),
    ("p_23", "p non-uniform", "p"), ("effect_class", "class", "text"),
    ("dif_type", "type", "text"), ("flag", "flagged", "bool")]
#: Columns of the DIF table (Mantel-Haenszel; Holland & Thayer 1988).
MH_COLUMNS: list[Col] = [
    ("construct", "scale", "code"), ("item_id", "item", "code"),
    ("n_reference", "n ref.", "int"), ("n_focal", "n focal", "int"),
    ("mh_chi2", "MH \u03c7\u00b2", "f2"), ("p", "p", "p"), ("or_mh", "OR (MH)", "f3"),
    ("delta_mh", "ETS \u0394", "f2"), ("effect_class", "ETS class", "text"),
    ("flag", "flagged", "bool")]
#: Columns of the IRT item table.
IRT_COLUMNS: list[Col] = [
    ("construct", "scale", "code"), ("item_id", "item", "code"), ("n", "n", "int"),
    ("a", "a", "f3"), ("difficulty", "difficulty", "f3"), ("location", "location", "f3"),
    ("se", "SE", "f3"), ("thresholds", "thresholds", "text"), ("infit", "infit", "f2"),
    ("outfit", "outfit", "f2"), ("s_x2", "S-X\u00b2", "f2"), ("df", "df", "num"),
    ("p_adjusted", "p (FDR)", "p"), ("misfit", "misfit", "bool")]
#: Columns of the invariance levels table.
INVARIANCE_COLUMNS: list[Col] = [
    ("level", "level", "text"), ("chi2", "\u03c7\u00b2", "f2"), ("df", "df", "num"),
    ("cfi", "CFI", "f3"), ("tli", "TLI", "f3"), ("rmsea", "RMSEA", "f3"),
    ("srmr", "SRMR", "f3"), ("delta_chi2", "\u0394\u03c7\u00b2", "f2"),
    ("delta_df", "\u0394df", "num"), ("delta_pvalue", "p", "p"),
    ("delta_cfi", "\u0394CFI", "f3"), ("delta_rmsea", "\u0394RMSEA", "f3"),
    ("holds", "holds", "bool")]


# ---------------------------------------------------------------------- frames
def dif_frame(r: Any) -> pd.DataFrame:
    """The DIF items of every scale in one table (empty when DIF was not run)."""
    dif = r.dif
    if not dif:
        return pd.DataFrame()
    return pd.concat([res.items for res in dif.values()], ignore_index=True)


def irt_frame(r: Any) -> pd.DataFrame:
    """The IRT items of every scale, thresholds as text (empty when IRT was not run)."""
    irt = r.irt
    frames = []
    for cid, res in irt.items():
        d = res.items.copy()
        d.insert(0, "construct", cid)
        d.insert(1, "model", res.model)
        th = res.thresholds
        d["thresholds"] = [
            ", ".join(fmt_value(v + 0.0, "f2").replace("-0.00", "0.00")
                      for v in th.loc[th["item_id"] == i, "value"])
            if res.model in ("pcm", "rsm", "grm") else None for i in d["item_id"]]
        frames.append(d)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def invariance_frame(r: Any) -> pd.DataFrame:
    """The invariance levels (empty when invariance was not run)."""
    inv = r.invariance
    return inv.levels.copy() if inv is not None else pd.DataFrame()


def group_tables(r: Any) -> dict[str, pd.DataFrame]:
    """The tables of these sections for ``tables/`` (only those computed)."""
    out = {}
    for name, frame in (("dif", dif_frame(r)), ("irt_items", irt_frame(r)),
                        ("invariance", invariance_frame(r))):
        if len(frame):
            out[name] = frame
    return out


# ---------------------------------------------------------------------- texts
def dif_intro(r: Any) -> str:
    spec = r.study.dif
    first = next(iter(r.dif.values()))
    method = ("ordinal logistic regression (proportional-odds models item ~ total, + group, "
              "+ total \u00d7 group; Swaminathan & Rogers 1990; Zumbo 1999), classes by the "
              f"Nagelkerke R\u00b2 change (B >= {r.rules.dif_r2_change_min:g}, Jodoin & "
              "Gierl 2001)" if first.method == "ordinal" else
              "Mantel-Haenszel (Holland & Thayer 1988) with ETS classes (B: |\u0394| >= "
              f"{r.rules.dif_ets_delta_min:g}; Zwick 2012)")
    n_flag = sum(len(res.flagged) for res in r.dif.values())
    return (f"Groups by {spec.group}: reference {first.reference}, focal {first.focal}. "
            f"Method: {method}; alpha {first.alpha:g}; matching on each scale's total score "
            f"(reverse keys applied){', purified' if first.purify else ''}. "
            f"{n_flag} item(s) flagged (class B or C); flagged items fire rule R23-dif "
            "in the joint display.")


def irt_intro(cid: str, res: Any) -> str:
    names = {"rasch": "Rasch model", "pcm": "partial credit model",
             "rsm": "rating scale model", "2pl": "two-parameter logistic model",
             "grm": "graded response model"}
    lr = res.lr_test
    lr_text = (f" Andersen's LR test (median split): LR = {fmt_value(lr.lr, 'f2')}, "
               f"df = {lr.df}, p {_ptext(lr.p)}." if lr is not None else "")
    return (f"{cid}: {names.get(res.model, res.model)} ({res.estimation}), n = {res.n}, "
            f"log-likelihood {fmt_value(res.loglik, 'f2')}, reliability "
            f"{fmt_value(res.reliability, 'f3')}.{lr_text} Misfit: {res.misfit_rule}. "
            "Reverse-keyed items were recoded before fitting.")


def _ptext(p: Any) -> str:
    s = fmt_value(p, "p")
    return s if s.startswith("<") else f"= {s}"


def invariance_intro(r: Any) -> str:
    inv = r.invariance
    spec = r.study.invariance
    crit = dict(inv.criteria)
    groups = ", ".join(f"{g} (n = {n})" for g, n in inv.groups.items())
    c = (f"configural holds when CFI >= {crit.get('configural_cfi_min', 0.90):.2f} and "
         f"RMSEA <= {crit.get('configural_rmsea_max', 0.08):.2f}; each further level holds "
         f"when the level before holds, \u0394CFI >= {crit.get('delta_cfi_min', -0.010):.3f} "
         f"and \u0394RMSEA <= {crit.get('delta_rmsea_max', 0.015):.3f} (Chen 2007)")
    ordinal = str(inv.estimator).lower() == "wlsmv"
    meaning = {"configural": "same pattern", "metric": "+ equal loadings",
               "thresholds": "+ equal thresholds",
               "scalar": ("equal loadings and thresholds" if ordinal
                          else "+ equal intercepts"),
               "strict": "+ equal residual variances"}
    names = [str(lv) for lv in inv.levels["level"]]
    levels = ", ".join(f"{n} ({meaning[n]})" if n in meaning else n for n in names)
    return (f"Multi-group CFA across {spec.group}: {groups}; estimator "
            f"{str(inv.estimator).upper()}. Levels: {levels}. Criteria: {c}.")


# ---------------------------------------------------------------------- display
def _truthy(v: Any) -> bool:
    return v is not None and v is not pd.NA and bool(v)


def group_display_tables(r: Any) -> dict[str, DisplayTable]:
    """The displayed tables of these sections: ``dif``, ``irt_<scale>`` (one per scale)
    and ``invariance`` (only those computed)."""
    t: dict[str, DisplayTable] = {}
    if r.dif:
        cols = DIF_COLUMNS if next(iter(r.dif.values())).method == "ordinal" else MH_COLUMNS
        df = dif_frame(r)
        df["flagged_row"] = [_truthy(v) for v in df["flag"]]
        t["dif"] = DisplayTable(df, columns(*cols), shade="flagged_row",
                                caption="Differential item functioning per item")
    if r.irt:
        frame = irt_frame(r)
        frame["misfit_row"] = ([_truthy(v) for v in frame["misfit"]]
                               if "misfit" in frame else False)
        for cid, res in r.irt.items():
            sub = frame[frame["construct"] == cid]
            cols = [c for c in IRT_COLUMNS if c[0] in sub.columns and sub[c[0]].notna().any()]
            t[f"irt_{cid}"] = DisplayTable(sub, columns(*cols), shade="misfit_row",
                                           caption=f"Item parameters and fit ({res.model})")
    if r.invariance is not None:
        t["invariance"] = DisplayTable(
            invariance_frame(r), columns(*INVARIANCE_COLUMNS),
            caption="Measurement invariance: fit of each level and change from the level "
                    "before")
    return t
