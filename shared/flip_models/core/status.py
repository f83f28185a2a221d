"""The model status rules of SPEC §3, as data and two pure decisions (no database): what a background
transition may do, and what a person may do.

``transitions`` applies them under the model's row lock; nothing else decides whether a status
change is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping

from flip_models.enums import JobStatus, ModelAuditAction, ModelStatus, StatusAuditAction
from flip_models.errors import ConflictError

#: Status → audit action written on a real change to that status (SPEC §2): FLIP's actions go to
#: ``models_audit``, the statuses FLIP's enum cannot hold to the service's ``model_status_audit``.
STATUS_AUDIT_ACTIONS: Mapping[ModelStatus, ModelAuditAction | StatusAuditAction] = {
    ModelStatus.PREPARED: ModelAuditAction.PREPARED,
    ModelStatus.RUNNING: ModelAuditAction.RUNNING,
    ModelStatus.RESULTS_UPLOADED: ModelAuditAction.RESULTS_UPLOADED,
    ModelStatus.RESULTS_UPLOAD_FAILED: StatusAuditAction.RESULTS_UPLOAD_FAILED,
    ModelStatus.ERROR: StatusAuditAction.ERROR,
    ModelStatus.STOPPED: StatusAuditAction.STOPPED,
}

#: Statuses that end a run and release the FL scheduler.
TERMINAL_STATUSES = frozenset(
    {ModelStatus.ERROR, ModelStatus.STOPPED, ModelStatus.RESULTS_UPLOADED, ModelStatus.RESULTS_UPLOAD_FAILED}
)

#: Statuses of a run in flight: deleting such a model stops it first.
ACTIVE_STATUSES = frozenset({ModelStatus.INITIATED, ModelStatus.PREPARED, ModelStatus.RUNNING})

#: Late callbacks a STOPPED model ignores, from people and FL servers alike.
IGNORED_AFTER_STOP = frozenset(
    {
        ModelStatus.PREPARED,
        ModelStatus.RUNNING,
        ModelStatus.ERROR,
        ModelStatus.RESULTS_UPLOADED,
        ModelStatus.RESULTS_UPLOAD_FAILED,
    }
)

#: The order of one run; a background transition only moves forward along it.
RUN_ORDER: Mapping[ModelStatus, int] = {
    ModelStatus.INITIATED: 0,
    ModelStatus.PREPARED: 1,
    ModelStatus.RUNNING: 2,
    ModelStatus.ERROR: 3,
    ModelStatus.RESULTS_UPLOADED: 4,
    ModelStatus.RESULTS_UPLOAD_FAILED: 4,
}

#: Statuses a person may set through the API.
USER_SETTABLE_STATUSES = frozenset({ModelStatus.STOPPED, ModelStatus.PENDING})

#: Hub log line (text, success) written on a real change to each status; none for PENDING.
HUB_LOG_LINES: Mapping[ModelStatus, tuple[str, bool]] = {
    ModelStatus.INITIATED: ("This model has been selected from the queue and will be prepared to run.", True),
    ModelStatus.PREPARED: ("This model has been prepared and its job will begin shortly.", True),
    ModelStatus.RUNNING: ("The job for this model is now running.", True),
    ModelStatus.RESULTS_UPLOADED: (
        "The results of this model have been uploaded and can now be downloaded.",
        True,
    ),
    ModelStatus.RESULTS_UPLOAD_FAILED: (
        "The job completed successfully, but uploading the results failed.",
        False,
    ),
    ModelStatus.ERROR: ("There has been an error whilst running the job for this model.", False),
    ModelStatus.STOPPED: ("The job for this model has been stopped.", False),
}


def ignored_because(
    current: ModelStatus, new: ModelStatus, *, background: bool, newest_job: JobStatus | None = None
) -> str | None:
    """Why ``current → new`` is not a real change under SPEC §3 rules 1–2, or None when it is.

    ``background`` transitions come from FL servers and the hub (no user): they never move a run
    backwards. A new run (``INITIATED``, or back to ``PENDING``) starts only when no run is in
    flight; ``STOPPED`` is accepted only while a run is in flight or has errored. A ``PENDING`` model
    (new, queued, or reset by a person) takes any other background status only while its newest job
    (``newest_job``, None: it has none) has been handed to an FL net (``IN_PROGRESS``): a late message
    of an earlier run never moves a model that waits in the queue.
    """
    if new == current:
        return f"the model is {current} already"
    if current == ModelStatus.STOPPED and new in IGNORED_AFTER_STOP:
        return f"the model was STOPPED: a late {new} of its run changes nothing"
    if not background:
        return None
    if current == ModelStatus.PENDING and new != ModelStatus.STOPPED and newest_job != JobStatus.IN_PROGRESS:
        waiting = "it has no job" if newest_job is None else f"its newest job is {newest_job}"
        return f"the model is PENDING and {waiting}: {new} is from an earlier run"
    if new in (ModelStatus.INITIATED, ModelStatus.PENDING):
        return None if current not in ACTIVE_STATUSES else f"a run is in flight ({current})"
    if new == ModelStatus.STOPPED:
        if current in ACTIVE_STATUSES or current == ModelStatus.ERROR:
            return None
        return f"the model is {current}: there is no run to stop"
    if current == ModelStatus.PENDING:
        return None  # its newest job has been handed to an FL net: this run's status
    if RUN_ORDER[new] > RUN_ORDER[current]:
        return None
    return f"a run never moves backwards ({current} → {new})"


def is_person_change(current: ModelStatus, new: ModelStatus, *, queued: bool) -> bool:
    """Whether a person's ``current → new`` changes the model (False: it already is ``new``); a change
    that would leave a run behind raises :class:`ConflictError` (SPEC §3 "People's status changes").

    ``STOPPED`` only while a run is in flight or queued (``queued``: a ``PENDING`` model with a
    ``QUEUED`` job); ``PENDING`` (a reset, so a new run can be queued) only once the run has ended.
    So a person never leaves a scheduler busy or a job in progress behind.
    """
    if new == current:
        return False
    if new == ModelStatus.STOPPED:
        if current in ACTIVE_STATUSES or (current == ModelStatus.PENDING and queued):
            return True
        raise ConflictError(f"the model is {current}: there is no run to stop", field="status")
    if new == ModelStatus.PENDING:
        if current in TERMINAL_STATUSES:
            return True
        raise ConflictError(
            f"the model is {current}: stop its run before setting it back to PENDING", field="status"
        )
    raise ValueError(f"a person may not set {new}")  # USER_SETTABLE_STATUSES is checked first
