"""The curated public API: every advertised name resolves, and importing is cheap."""

import subprocess
import sys

import instrval


def test_every_public_name_resolves():
    for name in instrval.__all__:
        assert getattr(instrval, name) is not None, name
    assert set(instrval.__all__) <= set(dir(instrval))


def test_unknown_attribute_is_an_attribute_error():
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        instrval.nope  # noqa: B018


def test_import_does_not_load_the_statistics():
    """`import instrval` loads the model and errors only; statistics load on first use."""
    code = ("import sys, instrval; "
            "print(any(m.startswith('instrval.stats') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_to_jsonable_fallback_applies_to_unknown_objects_only():
    from pathlib import Path

    import numpy as np

    from instrval._jsonable import to_jsonable

    data = {"p": Path("a/b"), "n": None, "x": np.float64("nan"), "k": np.int64(3), "s": "t"}
    assert to_jsonable(data, fallback=str) == {"p": "a/b", "n": None, "x": None, "k": 3,
                                              "s": "t"}
    assert to_jsonable(data)["p"] == Path("a/b")
