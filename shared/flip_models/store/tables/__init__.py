"""SQLAlchemy 2 ORM of the tables in SPEC §2 (names are a contract shared with other FLIP services).

FLIP's tables are declared as FLIP's head defines them (native enums, naive UTC timestamps, no
server defaults: the service sets ids and timestamps itself); :data:`FLIP_TABLES` names them. The
service's own tables (:data:`OWN_TABLES`) hold what FLIP's cannot: FL message keys, status-message
keys, the audit rows FLIP's enum cannot hold, and how the database was found at install.

One module per table (``tables/model.py`` declares ``model``), declared on first use:
``from flip_models.store.tables import Model`` imports ``tables.model``, which imports the modules
of the tables its foreign keys name (``projects``), and no other. A cold start so pays for the
tables its function touches, not for all twenty-two (declaring an ORM class, and configuring its
mapper on the first query, is most of what this package costs to import). ``Base`` declares every
table first, so ``Base.metadata`` (what migrations and tests compare) is always whole.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flip_models.store.tables.base import Base
    from flip_models.store.tables.fl_job import FLJob
    from flip_models.store.tables.fl_job_trust import FLJobTrust
    from flip_models.store.tables.fl_kit_slot import FLKitSlot
    from flip_models.store.tables.fl_logs import FLLogs
    from flip_models.store.tables.fl_message_keys import FLLogMessage, FLMetricMessage
    from flip_models.store.tables.fl_metrics import FLMetrics
    from flip_models.store.tables.fl_nets import FLNets
    from flip_models.store.tables.fl_scheduler import FLScheduler
    from flip_models.store.tables.fl_status_message import ReceivedStatusMessage
    from flip_models.store.tables.install import ModelServiceInstall
    from flip_models.store.tables.model import Model
    from flip_models.store.tables.model_status_audit import ModelStatusAudit
    from flip_models.store.tables.model_trust_intersect import ModelTrustIntersect
    from flip_models.store.tables.models_audit import ModelsAudit
    from flip_models.store.tables.project_trust_intersect import ProjectTrustIntersect
    from flip_models.store.tables.project_user_access import ProjectUserAccess
    from flip_models.store.tables.projects import Project
    from flip_models.store.tables.queries import Query
    from flip_models.store.tables.trust import Trust
    from flip_models.store.tables.uploaded_files import UploadedFile
    from flip_models.store.tables.user_profile import UserProfile

#: FLIP's tables that the service declares (SPEC §2): never created, altered or dropped by its
#: metadata; its migrations create them only on an empty database, from FLIP's own DDL.
FLIP_TABLES = frozenset(
    {
        "fl_job",
        "fl_job_trust",
        "fl_kit_slot",
        "fl_logs",
        "fl_metrics",
        "fl_nets",
        "fl_scheduler",
        "model",
        "model_trust_intersect",
        "models_audit",
        "project_trust_intersect",
        "project_user_access",
        "projects",
        "queries",
        "trust",
        "uploaded_files",
        "user_profile",
    }
)
#: The service's own tables.
OWN_TABLES = frozenset(
    {
        "fl_log_message",
        "fl_metric_message",
        "fl_status_message",
        "model_service_install",
        "model_status_audit",
    }
)

#: Each table class by the module that declares it.
MODULES = {
    "FLJob": "fl_job",
    "FLJobTrust": "fl_job_trust",
    "FLKitSlot": "fl_kit_slot",
    "FLLogs": "fl_logs",
    "FLLogMessage": "fl_message_keys",
    "FLMetricMessage": "fl_message_keys",
    "FLMetrics": "fl_metrics",
    "FLNets": "fl_nets",
    "FLScheduler": "fl_scheduler",
    "Model": "model",
    "ModelServiceInstall": "install",
    "ModelStatusAudit": "model_status_audit",
    "ModelTrustIntersect": "model_trust_intersect",
    "ModelsAudit": "models_audit",
    "Project": "projects",
    "ProjectTrustIntersect": "project_trust_intersect",
    "ProjectUserAccess": "project_user_access",
    "Query": "queries",
    "ReceivedStatusMessage": "fl_status_message",
    "Trust": "trust",
    "UploadedFile": "uploaded_files",
    "UserProfile": "user_profile",
}

__all__ = [
    "FLIP_TABLES",
    "OWN_TABLES",
    "Base",
    "FLJob",
    "FLJobTrust",
    "FLKitSlot",
    "FLLogMessage",
    "FLLogs",
    "FLMetricMessage",
    "FLMetrics",
    "FLNets",
    "FLScheduler",
    "Model",
    "ModelServiceInstall",
    "ModelStatusAudit",
    "ModelTrustIntersect",
    "ModelsAudit",
    "Project",
    "ProjectTrustIntersect",
    "ProjectUserAccess",
    "Query",
    "ReceivedStatusMessage",
    "Trust",
    "UploadedFile",
    "UserProfile",
]


def __getattr__(name: str) -> object:
    """A table class, declared on first use; ``Base`` with every table declared."""
    if name == "Base":
        for module in MODULES.values():
            importlib.import_module(f"{__name__}.{module}")
        from flip_models.store.tables.base import Base

        return Base
    if name not in MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    declared = getattr(importlib.import_module(f"{__name__}.{MODULES[name]}"), name)
    globals()[name] = declared
    return declared
