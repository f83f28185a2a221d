"""The job types a model may declare and the files each needs (SPEC §4 ``GET /model/job-types``).

As FLIP's ``get_job_types`` serves them: the manifest of the FL backend the nets run
(``fl_nets.fl_backend``). Both backends' manifests ship with the layer (``flip_models/manifests/``,
FLIP's own files); an operator may replace either with their own job types through an SSM
parameter (``JOB_TYPES_PARAMETER``), read through Powertools with its cache.

Which backend: FLIP reads the ``fl_backend`` of whatever ``fl_nets`` row the database returns first
(``resolve_backend``; all nets run one backend in FLIP's single-backend mode). Here the first net by
name, so the answer is the same on every call; nets that report both backends are logged as a
warning, since FLIP would then answer either one. No net at all is a misconfiguration, as in FLIP
(``ValueError`` there, a 500): a :class:`ConfigurationError`, whose 500 says only that.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flip_models.enums import FLBackend
from flip_models.errors import ConfigurationError, DatabaseUnavailableError
from flip_models.observability import logger
from flip_models.store.credentials import aws_unreachable, botocore_code
from flip_models.store.settings import Settings
from flip_models.store.tables import FLNets

MANIFEST_DIR = Path(__file__).resolve().parent.parent / "manifests"

JobTypes = dict[str, list[str]]


def manifest_path(backend: FLBackend) -> Path:
    """The shipped manifest of ``backend`` (FLIP's ``fl-apps/<backend>/required_files.json``)."""
    return MANIFEST_DIR / backend.value.lower() / "required_files.json"


@cache
def _shipped(backend: FLBackend) -> JobTypes:
    return _checked(
        json.loads(manifest_path(backend).read_text(encoding="utf-8")), str(manifest_path(backend))
    )


def shipped_manifest(backend: FLBackend) -> JobTypes:
    """The manifest shipped with the layer for ``backend`` (a copy)."""
    return {job_type: list(files) for job_type, files in _shipped(backend).items()}


def _checked(value: Any, source: str) -> JobTypes:
    """``value`` as job type → file names, or a ConfigurationError naming ``source``."""
    if not isinstance(value, dict) or not all(
        isinstance(job_type, str)
        and job_type
        and isinstance(files, list)
        and all(isinstance(name, str) and name for name in files)
        for job_type, files in value.items()
    ):
        raise ConfigurationError(f"{source}: not a JSON object of job type → list of file names")
    return {job_type: list(files) for job_type, files in value.items()}


def reported_backend(session: Session) -> FLBackend:
    """The FL backend the nets report: the first net's by name; no net is a ConfigurationError."""
    rows = session.execute(select(FLNets.name, FLNets.fl_backend).order_by(FLNets.name, FLNets.id)).all()
    if not rows:
        raise ConfigurationError("no FL nets are registered (fl_nets is empty): the FL backend is unknown")
    backends = {backend for _, backend in rows}
    if len(backends) > 1:
        logger.warning(
            "fl_nets report more than one FL backend; serving the first net's job types",
            extra={"backends": sorted(b.value for b in backends), "net": rows[0][0]},
        )
    return FLBackend(rows[0][1])


def _override(settings: Settings, backend: FLBackend) -> JobTypes | None:
    """The operator's job types for ``backend`` from the SSM parameter, if one is set and names it.

    The parameter holds a JSON object keyed by backend (``{"NVFLARE": {job type: [files]}, …}``); a
    backend it does not name keeps the shipped manifest. Read through Powertools' cache
    (``JOB_TYPES_MAX_AGE_SECONDS``), so a container asks SSM at most once per that many seconds.
    """
    if settings.job_types_parameter is None:
        return None
    from aws_lambda_powertools.utilities import parameters

    name = settings.job_types_parameter
    try:
        value: Any = parameters.get_parameter(
            name, transform="json", max_age=settings.job_types_max_age_seconds
        )
    except parameters.GetParameterError as error:
        if aws_unreachable(error):
            raise DatabaseUnavailableError(
                "the job types could not be read (SSM unreachable); try again later"
            ) from error
        raise ConfigurationError(
            f"the SSM parameter named by JOB_TYPES_PARAMETER could not be read ({botocore_code(error)})"
        ) from error
    except parameters.TransformParameterError as error:
        raise ConfigurationError("the SSM parameter named by JOB_TYPES_PARAMETER is not JSON") from error
    if not isinstance(value, dict) or not set(value) <= {b.value for b in FLBackend}:
        raise ConfigurationError(
            "the SSM parameter named by JOB_TYPES_PARAMETER must be a JSON object keyed by FL backend "
            "(NVFLARE, FLOWER)"
        )
    if backend.value not in value:
        return None
    return _checked(value[backend.value], f"JOB_TYPES_PARAMETER's {backend.value}")


def job_types(settings: Settings, session: Session) -> JobTypes:
    """Job type → required file names, for the FL backend the nets report."""
    backend = reported_backend(session)
    override = _override(settings, backend)
    return override if override is not None else shipped_manifest(backend)
