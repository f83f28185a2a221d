"""Read ``template.yaml`` the way the local stack needs it: functions, their events, queues.

Events read: ``Api`` (routes), ``SQS`` (queue and batch size) and ``Schedule`` (the expression).

Only the intrinsic functions the template uses are resolved (``Ref``, ``Sub``, ``GetAtt``, ``Join``,
``Split``, ``Select``, and ``If`` on its conditions): enough to give each function its environment and
each queue its name, and to read the policies the tests evaluate.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str
    #: The logical id of the ``AWS::Serverless::Api`` it belongs to ("" for SAM's implicit one).
    api: str = ""

    def pattern(self) -> re.Pattern[str]:
        """``/model/{modelId}`` → a regex capturing ``modelId``; ``{proxy+}`` captures the rest."""
        parts = []
        for piece in re.split(r"(\{[^}]+\})", self.path):
            if piece.startswith("{") and piece.endswith("}"):
                name = piece[1:-1]
                parts.append(f"(?P<{name[:-1]}>.+)" if name.endswith("+") else f"(?P<{name}>[^/]+)")
            else:
                parts.append(re.escape(piece))
        return re.compile("^" + "".join(parts) + "$")


@dataclass(frozen=True)
class SqsSource:
    queue: str  # logical id of the queue resource
    batch_size: int


@dataclass(frozen=True)
class ScheduleSource:
    name: str  # the event's name in the template (part of the EventBridge rule's name)
    expression: str  # ``rate(5 minutes)`` or ``cron(…)``, parameters resolved


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_uri: Path
    handler: str
    timeout: int
    environment: Mapping[str, Any]
    api_routes: tuple[ApiRoute, ...] = ()
    sqs_sources: tuple[SqsSource, ...] = ()
    schedules: tuple[ScheduleSource, ...] = ()


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    properties: Mapping[str, Any]

    @property
    def fifo(self) -> bool:
        return bool(self.properties.get("FifoQueue"))


@dataclass
class Template:
    raw: dict[str, Any]
    parameters: dict[str, Any]
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    queues: dict[str, QueueSpec] = field(default_factory=dict)

    @property
    def conditions(self) -> dict[str, bool]:
        return evaluate_conditions(self.raw.get("Conditions", {}), self.parameters)

    def resolver(self, resources: Mapping[str, Mapping[str, str]]) -> Callable[[Any], Any]:
        """A function resolving intrinsics; ``resources[logical_id]`` gives ``Ref`` and attributes."""
        conditions = self.conditions
        return lambda value: resolve(value, self.parameters, resources, conditions)


def load_template(path: Path = TEMPLATE_PATH, parameters: Mapping[str, Any] | None = None) -> Template:
    raw, matches = decode(str(path))
    if matches or raw is None:
        raise ValueError(f"{path} could not be read: {matches}")
    raw = _plain(raw)
    values = {name: spec.get("Default") for name, spec in raw.get("Parameters", {}).items()}
    values.update(parameters or {})
    template = Template(raw=raw, parameters=values)
    globals_ = raw.get("Globals", {}).get("Function", {})
    global_env = globals_.get("Environment", {}).get("Variables", {})
    for logical_id, resource in raw["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::SQS::Queue":
            template.queues[logical_id] = QueueSpec(logical_id, properties)
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        routes, sources, schedules = [], [], []
        for event_name, event in properties.get("Events", {}).items():
            event_properties = event.get("Properties", {})
            if event["Type"] == "Api":
                rest_api = event_properties.get("RestApiId")
                api = str(rest_api.get("Ref", "")) if isinstance(rest_api, Mapping) else str(rest_api or "")
                routes.append(ApiRoute(event_properties["Method"].upper(), event_properties["Path"], api))
            elif event["Type"] == "SQS":
                queue = event_properties["Queue"]
                queue_id = queue["Fn::GetAtt"][0] if isinstance(queue, Mapping) else str(queue)
                batch_size = resolve(event_properties.get("BatchSize", 10), values, {})
                sources.append(SqsSource(queue_id, int(batch_size)))
            elif event["Type"] == "Schedule":
                expression = str(resolve(event_properties["Schedule"], values, {}))
                schedules.append(ScheduleSource(event_name, expression))
        environment = {**global_env, **properties.get("Environment", {}).get("Variables", {})}
        template.functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_uri=(path.parent / properties["CodeUri"]).resolve(),
            handler=properties.get("Handler", globals_.get("Handler", "app.lambda_handler")),
            timeout=int(resolve(properties.get("Timeout", globals_.get("Timeout", 3)), values, {})),
            environment=environment,
            api_routes=tuple(routes),
            sqs_sources=tuple(sources),
            schedules=tuple(schedules),
        )
    return template


def _plain(value: Any) -> Any:
    """cfn-lint's decoded nodes as plain dicts, lists and strings (picklable, comparable)."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, str):
        return str(value)
    return value


def evaluate_conditions(conditions: Mapping[str, Any], parameters: Mapping[str, Any]) -> dict[str, bool]:
    """The template's ``Conditions`` (``Equals``, ``Not``, ``And``, ``Or``, ``Condition``) for these
    parameter values."""
    values: dict[str, bool] = {}

    def truth(value: Any) -> bool:
        ((key, argument),) = value.items()
        if key == "Condition":
            return named(str(argument))
        if key == "Fn::Equals":
            left, right = (resolve(item, parameters, {}) for item in argument)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not truth(argument[0])
        if key == "Fn::And":
            return all(truth(item) for item in argument)
        if key == "Fn::Or":
            return any(truth(item) for item in argument)
        raise ValueError(f"unsupported condition function {key}")

    def named(name: str) -> bool:
        if name not in values:
            values[name] = truth(conditions[name])
        return values[name]

    return {name: named(name) for name in conditions}


def resolve(
    value: Any,
    parameters: Mapping[str, Any],
    resources: Mapping[str, Mapping[str, str]],
    conditions: Mapping[str, bool] | None = None,
) -> Any:
    """Resolve the intrinsic functions of ``value`` against parameters, known resources and conditions
    (an ``If`` on a condition not given takes its first branch)."""
    if isinstance(value, list):
        return [resolve(item, parameters, resources, conditions) for item in value]
    if not isinstance(value, Mapping):
        return value
    if len(value) != 1:
        return {key: resolve(item, parameters, resources, conditions) for key, item in value.items()}
    ((key, argument),) = value.items()
    if key == "Ref":
        return _ref(str(argument), parameters, resources)
    if key == "Fn::GetAtt":
        logical_id, attribute = argument if isinstance(argument, list) else str(argument).split(".", 1)
        return resources.get(logical_id, {}).get(attribute)
    if key == "Fn::Sub":
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        variables = {
            name: resolve(item, parameters, resources, conditions) for name, item in variables.items()
        }

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return str(resources.get(logical_id, {}).get(attribute, ""))
            return str(_ref(name, parameters, resources))

        return re.sub(r"\$\{([^}!]+)\}", substitute, text)
    if key == "Fn::Join":
        separator, items = argument
        return separator.join(str(item) for item in resolve(items, parameters, resources, conditions))
    if key == "Fn::Split":
        separator, source = argument
        return str(resolve(source, parameters, resources, conditions)).split(separator)
    if key == "Fn::Select":
        index, items = argument
        return resolve(items, parameters, resources, conditions)[int(resolve(index, parameters, resources))]
    if key == "Fn::If":
        condition, when_true, when_false = argument
        chosen = when_true if (conditions or {}).get(condition, True) else when_false
        return resolve(chosen, parameters, resources, conditions)
    return {key: resolve(argument, parameters, resources, conditions)}


def _ref(name: str, parameters: Mapping[str, Any], resources: Mapping[str, Mapping[str, str]]) -> Any:
    if name in parameters:
        return parameters[name]
    if name == "AWS::Region":
        return "eu-west-2"
    if name == "AWS::AccountId":
        return "000000000000"
    if name == "AWS::Partition":
        return "aws"
    if name == "AWS::StackName":
        return "flip-models-local"
    return resources.get(name, {}).get("Ref", name)
