"""``mien jobs``: look at the jobs a server in this ``MIEN_HOME`` has stored."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from mien.jobs.store import JobStore

__all__ = ["jobs"]


@click.group()
def jobs() -> None:
    """List and inspect stored batch jobs."""


@jobs.command("list")
@click.option("--limit", default=20, show_default=True, type=int)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(["QUEUED", "IN_PROGRESS", "COMPLETED", "FAILED"]),
)
def list_jobs(limit: int, statuses: tuple[str, ...]) -> None:
    """One line per job, newest first."""
    store = _store()
    for record in store.list(limit=limit, statuses=list(statuses) or None):
        created = datetime.fromtimestamp(record.created_ms / 1000, tz=UTC)
        counts = (
            f"{record.num_predictions} predictions, {record.num_errors} errors"
            if record.status == "COMPLETED"
            else record.message or ""
        )
        click.echo(f"{record.job_id}  {record.status:<11}  {created:%Y-%m-%d %H:%M:%S}Z  {counts}")


@jobs.command("show")
@click.argument("job_id")
def show(job_id: str) -> None:
    """The job object, as ``GET /v0/batch/jobs/{id}`` returns it."""
    from mien.api.routes.batch import to_wire

    click.echo(to_wire(_store().get(job_id=job_id)).model_dump_json(indent=2))


@jobs.command("predictions")
@click.argument("job_id")
def predictions(job_id: str) -> None:
    """The job's predictions JSON."""
    click.echo(json.dumps(_store().get_predictions(job_id=job_id), indent=2))


def _store() -> JobStore:
    from mien.jobs.store import JobStore
    from mien.settings import Settings

    return JobStore.from_settings(Settings())
