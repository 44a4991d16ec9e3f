"""The array merge of per-respondent sums and the batched bootstrap products give the
results of the plain forms exactly (same respondents, order, sums and intervals)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from instrval.model import scan
from instrval.model.scan import RelevanceCounts
from instrval.stats import relevance as rel

META = pd.DataFrame({"item_id": ["a", "b", "c"], "construct_id": ["x"] * 3,
                     "kind": ["binary"] * 3})


def _counts(rng: np.random.Generator, ids: list[str], first: np.ndarray) -> RelevanceCounts:
    n = len(ids)
    return RelevanceCounts(META, np.array([0, 0, 1]), (), np.array(ids, dtype=object),
                           np.asarray(first, dtype=np.int64),
                           rng.integers(0, 5, (n, 3)).astype(float),
                           rng.integers(0, 5, (n, 2)).astype(float), int(rng.integers(1, 99)))


def test_array_merge_equals_grouped_merge(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    pool = [f"C{i}" for i in range(50)]
    for _ in range(100):
        a_ids = list(rng.choice(pool, rng.integers(0, 30), replace=False))
        b_ids = list(rng.choice(pool, rng.integers(0, 30), replace=False))
        rows = rng.permutation(1000)
        a = _counts(rng, a_ids, rows[:len(a_ids)])
        b = _counts(rng, b_ids, rows[500:500 + len(b_ids)])
        assert scan._merge_unique(a, b) is not None
        fast = a.merge(b)
        with monkeypatch.context() as m:
            m.setattr(scan, "_merge_unique", lambda x, y: None)
            slow = a.merge(b)
        assert list(fast.respondents) == list(slow.respondents)
        np.testing.assert_array_equal(fast.first_row, slow.first_row)
        assert fast.Y.dtype == slow.Y.dtype and fast.Y.shape == slow.Y.shape
        np.testing.assert_array_equal(fast.Y, slow.Y)
        np.testing.assert_array_equal(fast.P, slow.P)
        assert fast.n_ratings == slow.n_ratings


def test_array_merge_declines_repeated_ids() -> None:
    rng = np.random.default_rng(2)
    a = _counts(rng, ["C1", "C1"], np.array([1, 2]))
    b = _counts(rng, ["C2"], np.array([3]))
    assert scan._merge_unique(a, b) is None
    assert list(a.merge(b).respondents) == ["C1", "C2"]


@pytest.mark.parametrize(("g", "n_boot"), [(5596, 300), (70_000, 37), (30, 200)])
def test_bootstrap_products_equal_one_product_per_draw(
        monkeypatch: pytest.MonkeyPatch, g: int, n_boot: int) -> None:
    rng = np.random.default_rng(g)
    Y = rng.integers(0, 30, (g, 4)).astype(float)
    M = Y + rng.integers(0, 5, (g, 4))
    batched = rel._bootstrap(Y, M, n_boot=n_boot, confidence=0.95,
                             rng=np.random.default_rng(7))
    monkeypatch.setattr(rel, "_BOOT_PRODUCT_CELLS", 1)
    plain = rel._bootstrap(Y, M, n_boot=n_boot, confidence=0.95,
                           rng=np.random.default_rng(7))
    np.testing.assert_array_equal(batched[0], plain[0])
    np.testing.assert_array_equal(batched[1], plain[1])
