"""Trusts of the model service: FL client names resolved through FL kit slots, and a model's trusts."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flip_models.core.schemas import ModelTrust
from flip_models.store.tables import FLKitSlot, ModelTrustIntersect, Trust


def resolve_trust_from_fl_client_name(fl_client_name: str, session: Session) -> Trust | None:
    """The trust an FL client name stands for, through its FL kit slot (never the display name)."""
    return resolve_trusts_from_fl_client_names([fl_client_name], session).get(fl_client_name)


def resolve_trusts_from_fl_client_names(names: Iterable[str], session: Session) -> dict[str, Trust]:
    """Slot name → assigned trust for many FL client names in one query; unknown/unassigned omitted."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    rows = session.execute(
        select(FLKitSlot.slot_name, Trust)
        .join(Trust, Trust.id == FLKitSlot.assigned_to_trust_id)
        .where(FLKitSlot.slot_name.in_(wanted))
    ).all()
    return {slot_name: trust for slot_name, trust in rows}  # noqa: C416 (Row is not a pair type)


def validate_trust_ids(model_id: uuid.UUID, trust_ids: Iterable[uuid.UUID], session: Session) -> bool:
    """True only if every trust id is associated with the model (a ``model_trust_intersect`` row)."""
    wanted = set(trust_ids)
    if not wanted:
        return True
    found = session.scalar(
        select(func.count(func.distinct(ModelTrustIntersect.trust_id))).where(
            ModelTrustIntersect.model_id == model_id, ModelTrustIntersect.trust_id.in_(wanted)
        )
    )
    return found == len(wanted)


def model_trusts(model_ids: Sequence[uuid.UUID], session: Session) -> dict[uuid.UUID, list[ModelTrust]]:
    """The trusts of many models (``model_trust_intersect``) in one query, ordered by trust name."""
    found: dict[uuid.UUID, list[ModelTrust]] = {model_id: [] for model_id in model_ids}
    if not model_ids:
        return found
    rows = session.execute(
        select(ModelTrustIntersect.model_id, Trust.id, Trust.name, Trust.code, ModelTrustIntersect.status)
        .join(Trust, Trust.id == ModelTrustIntersect.trust_id)
        .where(ModelTrustIntersect.model_id.in_(model_ids), ModelTrustIntersect.trust_id.is_not(None))
        .order_by(ModelTrustIntersect.model_id, Trust.name, Trust.id)
    ).all()
    for model_id, trust_id, name, code, status in rows:
        assert model_id is not None  # selected by it
        found[model_id].append(ModelTrust(id=trust_id, name=name, code=code, status=status))
    return found


def get_model_trusts(model_id: uuid.UUID, session: Session) -> list[ModelTrust]:
    """The trusts taking part in a model, with their request status, ordered by name."""
    return model_trusts([model_id], session)[model_id]
