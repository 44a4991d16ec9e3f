"""One place that limits BLAS threads for small-matrix work.

Threaded BLAS (OpenBLAS, MKL) gains nothing on the small matrices of psychometrics
(tens to a few hundred columns) and slows down badly when the machine is busy: every
product wakes all threads, which then wait for cores. The statistics wrap their inner
loops (bootstraps, parallel analysis, polychoric and ordinal CFA iterations, EFA) in
:func:`small_matrix_blas`, which keeps BLAS on one thread for the duration and restores
the previous setting afterwards. Large products outside these blocks keep every thread.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["small_matrix_blas", "single_threaded_blas"]

F = TypeVar("F", bound=Callable[..., Any])


def small_matrix_blas() -> contextlib.AbstractContextManager[Any]:
    """A context manager keeping BLAS on one thread (``threadpoolctl``)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def single_threaded_blas(func: F) -> F:
    """Decorator form of :func:`small_matrix_blas` for a whole function."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with small_matrix_blas():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
