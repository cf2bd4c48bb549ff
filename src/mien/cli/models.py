"""``mien models``: pull the pinned weights into the cache once, then run offline."""

from __future__ import annotations

import click

from mien import weights
from mien.errors import WeightsError
from mien.settings import Settings

__all__ = ["models"]

_MB = 1_000_000


@click.group()
def models() -> None:
    """Manage the pinned model weights."""


@models.command()
@click.argument("names", nargs=-1)
def pull(names: tuple[str, ...]) -> None:
    """Download, verify and cache NAMES (default: every pinned artifact)."""
    try:
        paths = weights.pull(names or None, Settings(), progress=True)
    except WeightsError as exc:
        raise click.ClickException(str(exc)) from exc
    for path in paths:
        click.echo(path)


@models.command(name="list")
def list_() -> None:
    """Show every pinned artifact, its licence and whether it is cached."""
    header = ("NAME", "PACKAGE", "LICENCE", "SIZE", "CACHED", "PATH")
    rows = [
        (
            row.name,
            f"{row.package}=={row.version}",
            row.licence,
            f"{row.size_bytes / _MB:.1f} MB",
            "yes" if row.cached else "no",
            str(row.path),
        )
        for row in weights.status(Settings())
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
