"""Start, Pause and Cancel as an operator gives them (CLI, API, pages).

A run canceled while a worker holds it is cleaned up by that worker at its chunk boundary. One
canceled while none does (paused, shut down, queued again) is cleaned up here: its own tables in
the target (seen keys, staged rows) and, for an export, its partial file.
"""

from __future__ import annotations

from pathlib import Path

from impex.domain.definitions import ImportJob
from impex.domain.journal import Level
from impex.domain.status import Action, S, Seen, Transition
from impex.engine.connections import connection_url
from impex.engine.execution import run_key, technical_error
from impex.settings import Settings
from impex.store.store import Store
from impex.targets import open_target
from impex.targets.base import TargetError


def operate(
    store: Store, settings: Settings, job_id: int, action: Action, *, actor: str, seen: Seen | None = None
) -> Transition:
    """Apply ``action`` (IllegalTransition if the status does not allow it; StaleAction if the job is
    no longer as ``seen``)."""
    t = store.transition(job_id, action, actor=actor, seen=seen)
    if t.target is S.CANCELED:
        discard_leftovers(store, settings, job_id, actor=actor)
    return t


def discard_leftovers(store: Store, settings: Settings, job_id: int, *, actor: str) -> None:
    """Remove what the job's current run left in the target or beside its output. A failure (the
    target cannot be reached…) is journaled as a warning: the cancel stands."""
    job = store.job(job_id)
    if job.current_run_id is None:
        return
    run = store.run(job.current_run_id)
    try:
        if job.kind == "import":
            definition = ImportJob.model_validate(job.definition)
            session = open_target(connection_url(settings, definition.target.connection))
            try:
                session.drop_run_tables(run_key(store, job_id, run.run_no))
            finally:
                session.close()
        elif run.output_path:
            from impex.engine.exporter import discard_partial, partial_file

            discard_partial(partial_file(Path(run.output_path), run.id))
    except (TargetError, OSError, LookupError, ValueError) as error:
        params = {"error": technical_error(error)}
        store.log(job_id, run.id, Level.WARNING, "run.leftovers", params, actor)
