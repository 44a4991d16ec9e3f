"""``python -m instrval``: the same as the ``instrval`` command.

:func:`run` is the console entry point: a Ctrl-C while the command line is still being
imported prints "Aborted!" and exits with status 130, as it does during a command.
"""

import sys


def _quick_process_gc() -> None:
    """Tune the cyclic garbage collector for one short command-line process.

    Importing pandas and SciPy creates some 70,000 long-lived objects, and every full
    collection walks all of them: the collections triggered while importing, and those the
    interpreter runs at exit, cost about a fifth of a small command's CPU time. The young
    generation is collected every 100,000 (instead of 700) new container objects, and at
    exit, after the ``atexit`` handlers and once the output is written, every object is
    frozen (:func:`gc.freeze`), so that the interpreter's last collections skip them; the
    operating system reclaims the memory. Reference counting frees memory as before. Only
    the ``instrval`` process does this: a program that imports :mod:`instrval.cli` keeps its
    own settings.
    """
    import atexit
    import gc

    gc.set_threshold(100_000, *gc.get_threshold()[1:])
    atexit.register(gc.freeze)  # registered first, so it runs after every other handler


def run() -> None:
    """Import the command line and run it (Ctrl-C at any time: "Aborted!", status 130)."""
    _quick_process_gc()
    try:
        from instrval.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("Aborted!\n")
        raise SystemExit(130) from None
    main(prog_name="instrval")


if __name__ == "__main__":  # pragma: no cover
    run()
