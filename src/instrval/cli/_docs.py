"""Generate the CLI reference (docs/cli.md) from the commands themselves.

``python -m instrval.cli._docs > docs/cli.md`` rewrites it; a test checks that the
committed page matches the commands.
"""

from __future__ import annotations

import click

from instrval.cli import main

__all__ = ["cli_reference"]


def _walk(cmd: click.Command, path: list[str], out: list[str],
          parent: click.Context | None = None) -> None:
    # The contexts are built as click builds them for `instrval ... --help` (the command's
    # context_settings, e.g. -h; the parent's settings inherited), so that the page does not
    # depend on which command happened to be invoked first in this process.
    settings = {**cmd.context_settings, "max_content_width": 100, "terminal_width": 100}
    ctx = click.Context(cmd, info_name=path[-1], parent=parent, **settings)
    depth = min(len(path) + 1, 4)
    out.append(f"{'#' * depth} `{' '.join(path)}`\n")
    out.append("```text")
    out.append(cmd.get_help(ctx).rstrip())
    out.append("```\n")
    if isinstance(cmd, click.Group):
        for name in sorted(cmd.list_commands(ctx)):
            sub = cmd.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                _walk(sub, [*path, name], out, ctx)


def cli_reference() -> str:
    """Return the Markdown CLI reference for every command."""
    out = [
        "# Command-line reference",
        "",
        "Generated from the commands' own `--help` by `python -m instrval.cli._docs`; do not",
        "edit by hand. Every command is also available as `python -m instrval ...`.",
        "",
        "Every command that computes or writes something takes `--json` (one JSON document on",
        "standard output; commands that write files list them under `\"written\"`).",
        "",
        "`-` as DATA reads standard input, through the same size limit as a file",
        "(`INSTRVAL_MAX_FILE_BYTES`, see [security](security.md)): the analysis commands that",
        "read one data table (`reliability`, `icc`, `correlations`, `efa`, `factors`, `omega`,",
        "`cfa`, `invariance`, `dif`, `irt`, `score`, `retest`, `hypotheses`, `criterion`,",
        "`responsiveness`) and the commands that read one rating export",
        "(`ratings check`, `relevance`). CSV/TSV text (gzip-compressed or not), XLSX, Parquet",
        "and SPSS input are recognised by their first bytes; messages name it `<stdin>`.",
        "",
        "Every command that writes files refuses to overwrite an existing one unless given",
        "`--force` (`-f`): `score --output`, `instrument schema/export/import --out`,",
        "`ratings check --quarantine`, `ratings map-template --out`, `ratings generate-iam`.",
        "`report` writes its output folder as described in [the report](report.md); `publish`",
        "never overwrites a published version (there is no `--force`).",
        "",
        "`instrval --quiet COMMAND` (`-q`) prints no progress and no notes on standard error",
        "(errors and warnings still); `instrval --verbose COMMAND` (`-v`) adds detail, such as",
        "the time the command took.",
        "",
        "Shell completion (click's): add one line to your shell's start-up file,",
        "",
        "```text",
        'bash:  eval "$(_INSTRVAL_COMPLETE=bash_source instrval)"      # ~/.bashrc',
        'zsh:   eval "$(_INSTRVAL_COMPLETE=zsh_source instrval)"       # ~/.zshrc',
        "fish:  _INSTRVAL_COMPLETE=fish_source instrval | source        # config.fish",
        "```",
        "",
    ]
    _walk(main, ["instrval"], out)
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover
    click.echo(cli_reference(), nl=False)
