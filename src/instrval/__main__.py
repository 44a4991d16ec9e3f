"""``python -m instrval``: the same as the ``instrval`` command."""

from instrval.cli import main

if __name__ == "__main__":  # pragma: no cover
    main(prog_name="instrval")
