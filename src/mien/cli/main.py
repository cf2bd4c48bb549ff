"""``mien``: the command group that the console script runs."""

from __future__ import annotations

import logging

import click

from mien import __version__
from mien.cli.jobs import jobs
from mien.cli.models import models
from mien.cli.predict import predict
from mien.cli.serve import serve

__all__ = ["main"]


@click.group()
@click.version_option(__version__, prog_name="mien")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def main(verbose: bool) -> None:
    """Open, self-hosted expression measurement (Hume v0 API compatible)."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:  # faster-whisper logs every file's duration and language at INFO
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)


main.add_command(serve)
main.add_command(predict)
main.add_command(models)
main.add_command(jobs)
