"""The click group and the helpers every command shares.

Commands are thin: they parse options, call the public API, and print a table or JSON.
Library errors (:class:`~instrval.errors.InstrvalError`) and operating-system errors
(a file that cannot be written...) become one clear message on standard error and exit
status 1; click's usage errors exit with status 2; Ctrl-C prints "Aborted!" and exits with
status 130, whenever it comes (even when a library turned it into another error). Any
other exception is a bug: it is reported in one line with exit status 70
(``INSTRVAL_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import warnings
from typing import TYPE_CHECKING, Any

import click

from instrval._jsonable import to_jsonable
from instrval._version import __version__
from instrval.errors import InstrvalError, InstrvalWarning

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["main", "emit_json", "verbosity", "is_quiet", "note", "detail", "force_option",
           "refuse_overwrite", "to_jsonable", "echo_table", "p_text", "plural",
           "EXIT_INPUT_ERROR", "EXIT_INTERNAL_ERROR", "EXIT_INTERRUPTED"]

#: Exit status for bad input (click uses 2 for bad command-line usage).
EXIT_INPUT_ERROR = 1
#: Exit status for an unexpected error inside instrval (a bug; BSD's EX_SOFTWARE).
EXIT_INTERNAL_ERROR = 70


#: Exit status after Ctrl-C (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130

_interrupted: list[bool] = []


def _on_sigint(signum: int, frame: Any) -> None:
    """Remember the interrupt (a library may turn the KeyboardInterrupt into another
    error, e.g. a parse error) and raise it."""
    _interrupted.append(True)
    raise KeyboardInterrupt


def aborted() -> None:
    """Print "Aborted!" and exit with status 130 (Ctrl-C)."""
    click.echo("Aborted!", err=True)
    sys.exit(EXIT_INTERRUPTED)


class _Group(click.Group):
    """A click group that turns instrval errors into clean messages."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        previous = None
        _interrupted.clear()
        try:
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                previous = signal.signal(signal.SIGINT, _on_sigint)
        except ValueError:  # not the main thread
            previous = None
        try:
            return super().main(*args, **kwargs)
        except KeyboardInterrupt:  # outside a command (while parsing options)
            aborted()
        except SystemExit as exc:  # click's own "Aborted!" exits with status 1
            if _interrupted and exc.code == 1:
                raise SystemExit(EXIT_INTERRUPTED) from None
            raise
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)

    def invoke(self, ctx: click.Context) -> Any:
        caught: list[warnings.WarningMessage] = []
        started = time.perf_counter()
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", InstrvalWarning)
                return super().invoke(ctx)
        except (KeyboardInterrupt, click.exceptions.Abort):
            click.echo("Aborted!", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except InstrvalError as exc:
            if _interrupted:
                click.echo("Aborted!", err=True)
                ctx.exit(EXIT_INTERRUPTED)
            click.secho(f"Error: {_named(str(exc), ctx)}", err=True, fg="red")
            ctx.exit(EXIT_INPUT_ERROR)
        except OSError as exc:
            if _interrupted:
                click.echo("Aborted!", err=True)
                ctx.exit(EXIT_INTERRUPTED)
            if isinstance(exc, BrokenPipeError):
                ctx.exit(0)
            click.secho(f"Error: {_named(_os_error_text(exc), ctx)}", err=True, fg="red")
            ctx.exit(EXIT_INPUT_ERROR)
        except (click.exceptions.ClickException, click.exceptions.Exit):
            raise
        except (RecursionError, MemoryError) as exc:
            # bad input that got past the readers' limits: too deep or too big
            what = ("nested too deeply" if isinstance(exc, RecursionError)
                    else "too large for the memory available")
            click.secho(f"Error: the input is {what} to be processed; see the limits in "
                        "docs/security.md", err=True, fg="red")
            ctx.exit(EXIT_INPUT_ERROR)
        except Exception as exc:
            if _interrupted:
                click.echo("Aborted!", err=True)
                ctx.exit(EXIT_INTERRUPTED)
            # A bug, not bad input: one line instead of a traceback, and its own status.
            if os.environ.get("INSTRVAL_DEBUG"):
                raise
            click.secho(
                f"Error: internal error ({type(exc).__name__}: {exc}). This is a bug in "
                "instrval: please report it with the command and its input files; run with "
                "INSTRVAL_DEBUG=1 to see the traceback.", err=True, fg="red")
            ctx.exit(EXIT_INTERNAL_ERROR)
        finally:
            if verbosity() > 0 and ctx.invoked_subcommand is not None:
                took = time.perf_counter() - started
                click.echo(f"[{ctx.invoked_subcommand}: {took:.2f} s]", err=True)
            # Shown only once the recording context has ended: inside it, showwarning()
            # appends to ``caught`` itself, and a loop over ``caught`` would never end.
            _replay(caught)


def _replay(caught: list[warnings.WarningMessage]) -> None:
    """Print the warnings recorded while a command ran (instrval's as one clean line)."""
    for w in caught:
        if issubclass(w.category, InstrvalWarning):
            click.secho(f"Warning: {w.message}", err=True, fg="yellow")
        else:  # printed, not re-issued: re-issuing would be recorded again by a caller
            click.echo(warnings.formatwarning(w.message, w.category, w.filename, w.lineno,
                                              w.line), err=True, nl=False)


def _named(text: str, ctx: click.Context) -> str:
    """``text`` with the temporary copy of standard input named ``<stdin>``."""
    from instrval.cli._input import stdin_aliases

    for path, name in stdin_aliases(ctx).items():
        text = text.replace(path, name)
    return text


def _os_error_text(exc: OSError) -> str:
    """``FILE: reason`` for an operating-system error (missing file, permission...)."""
    name = getattr(exc, "filename", None)
    reason = exc.strerror or str(exc)
    return f"{name}: {reason}" if name else reason


CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


_VERBOSITY_KEY = "instrval.verbosity"


def verbosity() -> int:
    """-1 with ``instrval --quiet``, 1 with ``instrval --verbose``, else 0."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return 0
    return int(ctx.find_root().meta.get(_VERBOSITY_KEY, 0))


def is_quiet() -> bool:
    """True with ``instrval --quiet``: no progress and no notes on standard error."""
    return verbosity() < 0


def note(message: str) -> None:
    """A note on standard error (not with ``--quiet``)."""
    if not is_quiet():
        click.echo(message, err=True)


def detail(message: str) -> None:
    """A detail on standard error, only with ``--verbose``."""
    if verbosity() > 0:
        click.echo(message, err=True)


def force_option(f: Any) -> Any:
    """Add ``--force`` (parameter ``force``): overwrite output files that exist."""
    return click.option("--force", "-f", is_flag=True,
                        help="Overwrite output files that already exist (without it, an "
                             "existing output file is an error).")(f)


def refuse_overwrite(*paths: Any, force: bool) -> None:
    """Refuse, with one clear message, to overwrite any existing file of ``paths``
    unless ``force`` (the one overwrite policy of every command that writes files)."""
    if force:
        return
    from pathlib import Path

    existing = [str(p) for p in paths if p is not None and Path(p).exists()]
    if existing:
        what = existing[0] if len(existing) == 1 else ", ".join(existing)
        raise click.ClickException(
            f"{what} already exist{'s' if len(existing) == 1 else ''}; give --force to "
            "overwrite")


@click.group(cls=_Group, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="instrval")
@click.option("--quiet", "-q", "quiet", is_flag=True,
              help="No progress and no notes on standard error (errors and warnings are "
                   "still shown).")
@click.option("--verbose", "-v", "verbose", is_flag=True,
              help="More detail on standard error (e.g. the time a command took).")
@click.pass_context
def main(ctx: click.Context, quiet: bool, verbose: bool) -> None:
    """instrval: validate questionnaire instruments.

    Check and publish instrument definitions, read rating exports, compute relevance
    ratios, content validity, reliability and factor analyses, summarise coded
    interviews, and integrate all of it into a validation report and a revised
    instrument.

    \b
    Example:
      instrval report examples/iam/study.yaml
      instrval --quiet reliability - --json < tests/data/bfi.csv
    """
    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose cannot be used together")
    ctx.meta[_VERBOSITY_KEY] = -1 if quiet else 1 if verbose else 0


def emit_json(data: Any) -> None:
    """Print ``data`` as indented JSON on standard output."""
    click.echo(json.dumps(to_jsonable(data), indent=2, ensure_ascii=False))


def echo_table(df: pd.DataFrame, *, digits: int = 4, title: str | None = None) -> None:
    """Print a DataFrame as an aligned text table, rounding floats for display only."""
    import pandas as pd

    if title:
        click.echo(click.style(title, bold=True))
    if df.empty:
        click.echo("(none)")
        return
    shown = df.copy()
    for col in shown.columns:
        if pd.api.types.is_float_dtype(shown[col]):
            shown[col] = shown[col].map(lambda v: "" if pd.isna(v) else f"{v:.{digits}f}")
    click.echo(shown.to_string(index=False))


def plural(n: int, word: str) -> str:
    """``1 construct``, ``2 constructs``, ``0 gates``.

    >>> plural(1, "construct"), plural(0, "gate")
    ('1 construct', '0 gates')
    """
    return f"{n} {word}" + ("" if n == 1 else "s")


def p_text(p: float) -> str:
    """A p-value for a terminal line: ``p < .001`` below .001, else ``p = .023``.

    >>> p_text(0.0), p_text(0.0234), p_text(float("nan"))
    ('p < .001', 'p = .023', 'p = NA')
    """
    if p != p:
        return "p = NA"
    if p < 0.001:
        return "p < .001"
    return "p = " + f"{p:.3f}".lstrip("0")
