"""Every route of SPEC §4 as data, so cross-cutting rules (401, 404, 503, access) are tested per route."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.api_events import ApiResponse, Person
from tests.handlers.api_world import World


@dataclass(frozen=True)
class Route:
    function: str
    method: str
    resource: str
    permission: str  # read | modify | create | delete_project_models | signed_in
    success: int = 200
    body: Callable[[World], Any] | None = None
    query: dict[str, str] = field(default_factory=dict)
    extra_path: dict[str, str] = field(default_factory=dict)

    @property
    def takes_model_id(self) -> bool:
        return "{modelId}" in self.resource

    def path_parameters(self, world: World, model_id: uuid.UUID | str | None = None) -> dict[str, str]:
        params = dict(self.extra_path)
        if self.takes_model_id:
            params["modelId"] = str(model_id or world.model.id)
        if "{projectId}" in self.resource:
            params["projectId"] = str(world.project.id)
        return params

    def call(
        self, world: World, caller: Person | None = None, model_id: uuid.UUID | str | None = None
    ) -> ApiResponse:
        caller = caller or world.people["admin"]
        kwargs: dict[str, Any] = {"query": self.query or None}
        if self.body is not None:
            kwargs["body"] = self.body(world)
        return caller.call(
            self.function, self.method, self.resource, self.path_parameters(world, model_id), **kwargs
        )

    def __str__(self) -> str:
        return f"{self.method} {self.resource}"


ROUTES = [
    Route(
        "create_model",
        "POST",
        "/model",
        "create",
        201,
        body=lambda w: {"name": "New model", "projectId": str(w.project.id)},
    ),
    Route("get_model", "GET", "/model/{modelId}", "read"),
    Route("get_model", "POST", "/step/model/{modelId}", "read"),  # the web app's model page
    Route("edit_model", "PUT", "/model/{modelId}", "modify", 204, body=lambda w: {"name": "Renamed model"}),
    Route("delete_model", "DELETE", "/model/{modelId}", "modify", 204),
    Route("delete_project_models", "DELETE", "/project/{projectId}/models", "delete_project_models"),
    Route("get_model_status", "GET", "/model/{modelId}/status", "read"),
    Route(
        "update_model_status",
        "PATCH",
        "/model/{modelId}/status/{status}",
        "modify",
        extra_path={"status": "PENDING"},  # the world's model is PENDING: allowed, no change
    ),
    Route("get_model_metrics", "GET", "/model/{modelId}/metrics", "read"),
    Route("get_model_logs", "GET", "/model/{modelId}/logs", "read"),
    Route("get_model_trusts", "GET", "/model/{modelId}/trusts", "read"),
    Route("get_model_progress", "GET", "/model/{modelId}/progress", "read"),
    Route("list_models", "GET", "/models", "signed_in"),
    Route("list_projects", "GET", "/models/projects", "signed_in"),
    Route("get_job_types", "GET", "/model/job-types", "signed_in"),
]

MODEL_ROUTES = [route for route in ROUTES if route.takes_model_id]

#: Who may do what (SPEC §4); anyone else gets 403.
ALLOWED: dict[str, set[str]] = {
    "read": {"admin", "owner", "researcher", "colleague", "viewer"},
    "modify": {"admin", "owner", "researcher"},
    "create": {"admin", "owner", "researcher", "colleague"},
    "delete_project_models": {"admin", "owner"},
    "signed_in": {"admin", "owner", "researcher", "colleague", "viewer", "stranger"},
}
