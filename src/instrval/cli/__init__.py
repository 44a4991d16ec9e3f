"""The ``instrval`` command line: a thin layer over the public API.

Each submodule adds the commands of one capability to :data:`main`.
"""

from instrval.cli import (  # noqa: F401  (imported for the commands they register)
    cfa,
    coding,
    content_validity,
    cosmin,
    dif,
    factor,
    instrument,
    invariance,
    irt,
    publish,
    ratings,
    relevance,
    reliability,
    report,
)
from instrval.cli._base import main

__all__ = ["main"]
