"""`instrval publish`: publish an instrument version into an immutable registry folder."""

from __future__ import annotations

import click

from instrval.cli._base import emit_json, main

__all__ = ["publish_cmd"]


@main.command("publish")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--registry", "registry", required=True, type=click.Path(file_okay=False),
              help="The registry folder (created if needed).")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON: id, version, status, path, sha256, published_at, created, "
                   "message.")
def publish_cmd(file: str, registry: str, as_json: bool) -> None:
    """Publish an instrument version into a registry folder.

    The file must pass 'instrval instrument check'. It is stored as
    REGISTRY/<id>/<id>-<version>.yaml and listed in REGISTRY/index.json with its sha256,
    status and publication time. Any status may be published (it is recorded); a published
    version is never overwritten: publishing the same content again does nothing, and
    different content under a published version is refused (exit status 1).

    \b
    Example:
      instrval publish instruments/iam/iam-2011.yaml --registry registry/
    """
    from instrval.io.registry import publish

    result = publish(file, registry)
    if as_json:
        emit_json(result.to_dict())
    else:
        click.echo(result.message)
        if result.created:
            click.echo(f"sha256 {result.sha256}")
