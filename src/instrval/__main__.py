"""``python -m instrval``: the same as the ``instrval`` command.

:func:`run` is the console entry point: a Ctrl-C while the command line is still being
imported prints "Aborted!" and exits with status 130, as it does during a command.
"""

import sys


def run() -> None:
    """Import the command line and run it (Ctrl-C at any time: "Aborted!", status 130)."""
    try:
        from instrval.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("Aborted!\n")
        raise SystemExit(130) from None
    main(prog_name="instrval")


if __name__ == "__main__":  # pragma: no cover
    run()
