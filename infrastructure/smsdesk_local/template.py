"""template.yaml, read and resolved for the local stack.

The same file `sam deploy` uses: the local stack takes its functions (code, handler,
environment), HTTP routes, event rules, stream trigger and resources from here, so the local
wiring cannot drift from the deployed one. Intrinsic functions are resolved against local
values: parameters (template defaults, local overrides), pseudo parameters, and the physical
names and ARNs the local stack gives its resources.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
ACCOUNT = "123456789012"
REGION = "us-east-1"
STACK = "smsdesk-local"


class _CloudFormationLoader(yaml.SafeLoader):  # type: ignore[misc]  # yaml ships no types
    """YAML with CloudFormation's short tags (!Ref, !Sub, !GetAtt...) as {"Fn::X": ...}."""


def _construct(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CloudFormationLoader.add_multi_constructor("!", _construct)


@cache
def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """template.yaml as CloudFormation reads it: short tags in their long form (``!Sub x`` is
    ``{"Fn::Sub": "x"}``, ``!GetAtt A.B`` is ``{"Fn::GetAtt": ["A", "B"]}``)."""
    document: dict[str, Any] = yaml.load(path.read_text(), Loader=_CloudFormationLoader)
    return document


def conversation_table_definition(template: dict[str, Any], *, stream: bool = True) -> dict[str, Any]:
    """CreateTable arguments for the conversation table, from the template's own KeySchema and
    indexes (the tests and the benchmarks create it from these)."""
    properties = template["Resources"]["ConversationTable"]["Properties"]
    definition: dict[str, Any] = {
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": properties["BillingMode"],
    }
    if stream and properties.get("StreamSpecification"):
        definition["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": properties["StreamSpecification"]["StreamViewType"],
        }
    if properties.get("GlobalSecondaryIndexes"):
        definition["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
    return definition


@dataclass(frozen=True)
class HttpRoute:
    function: str  # logical id
    api: str  # logical id of the HttpApi
    method: str
    path: str  # with {params}


@dataclass(frozen=True)
class EventRule:
    function: str
    name: str
    bus: Any  # unresolved EventBusName
    pattern: dict[str, Any]


@dataclass
class Resolver:
    """Resolves intrinsic functions; ``physical`` answers Ref and GetAtt of resources."""

    template: dict[str, Any]
    parameters: Mapping[str, str]
    physical: Callable[[str, str | None], str]
    pseudo: dict[str, str] = field(
        default_factory=lambda: {
            "AWS::StackName": STACK,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
    )

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template.get("Conditions", {})[name]))

    def ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self.physical(name, None)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {k: self.resolve(v) for k, v in value.items()}
        ((key, arg),) = value.items()
        if key == "Ref":
            return self.ref(arg)
        if key == "Fn::GetAtt":
            resource, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            return self.physical(resource, attribute)
        if key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            return self._sub(text, {k: self.resolve(v) for k, v in variables.items()})
        if key == "Fn::If":
            name, yes, no = arg
            return self.resolve(yes if self.condition(name) else no)
        if key == "Fn::Equals":
            left, right = (self.resolve(v) for v in arg)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self.resolve(arg[0])
        if key == "Fn::And":
            return all(self.resolve(v) for v in arg)
        if key == "Fn::Or":
            return any(self.resolve(v) for v in arg)
        if key == "Condition":
            return self.condition(arg)
        return {key: self.resolve(arg)}

    def _sub(self, text: str, variables: Mapping[str, Any]) -> str:
        out, rest = [], text
        while "${" in rest:
            before, _, after = rest.partition("${")
            name, _, rest = after.partition("}")
            out.append(before)
            if name in variables:
                out.append(str(variables[name]))
            elif "." in name and name.split(".", 1)[0] in self.template["Resources"]:
                resource, attribute = name.split(".", 1)
                out.append(self.physical(resource, attribute))
            else:
                out.append(str(self.ref(name)))
        out.append(rest)
        return "".join(out)


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resources(template, "AWS::Serverless::Function")


def parameter_defaults(template: dict[str, Any]) -> dict[str, str]:
    return {name: str(p["Default"]) for name, p in template.get("Parameters", {}).items() if "Default" in p}


def parameter_problems(template: dict[str, Any], overrides: dict[str, str]) -> list[str]:
    """What CloudFormation would refuse in ``overrides``: unknown names, values outside
    ``AllowedValues``, ``MinValue``/``MaxValue``, a Number that is not one, a ``MaxLength``."""
    declared = template.get("Parameters", {})
    problems = []
    for name, value in overrides.items():
        spec = declared.get(name)
        if spec is None:
            problems.append(f"{name} is not a parameter of template.yaml (it has: {', '.join(sorted(declared))})")
            continue
        allowed = [str(v) for v in spec.get("AllowedValues", [])]
        if allowed and value not in allowed:
            problems.append(f"{name}={value!r} is not one of {', '.join(allowed)}")
        if spec.get("Type") == "Number":
            try:
                number = float(value)
            except ValueError:
                problems.append(f"{name}={value!r} is not a number")
                continue
            if "MinValue" in spec and number < float(spec["MinValue"]):
                problems.append(f"{name}={value} is below its minimum, {spec['MinValue']}")
            if "MaxValue" in spec and number > float(spec["MaxValue"]):
                problems.append(f"{name}={value} is above its maximum, {spec['MaxValue']}")
        if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
            problems.append(f"{name} is longer than {spec['MaxLength']} characters")
    return problems


def http_routes(template: dict[str, Any]) -> list[HttpRoute]:
    routes = []
    for name, function in functions(template).items():
        for event in (function["Properties"].get("Events") or {}).values():
            if event["Type"] == "HttpApi":
                props = event["Properties"]
                api = props.get("ApiId", {}).get("Ref", "ServerlessHttpApi")
                routes.append(HttpRoute(name, api, props["Method"].upper(), props["Path"]))
    return routes


def event_rules(template: dict[str, Any]) -> list[EventRule]:
    rules = []
    for name, function in functions(template).items():
        for event_name, event in (function["Properties"].get("Events") or {}).items():
            if event["Type"] == "EventBridgeRule":
                props = event["Properties"]
                rules.append(EventRule(name, f"{name}{event_name}", props.get("EventBusName"), props["Pattern"]))
    return rules


def environment(template: dict[str, Any], function: str) -> dict[str, Any]:
    """Globals.Function.Environment merged with the function's own (unresolved)."""
    merged = dict((template.get("Globals", {}).get("Function", {}).get("Environment", {}) or {}).get("Variables", {}))
    own = functions(template)[function]["Properties"].get("Environment", {}) or {}
    merged.update(own.get("Variables", {}))
    return merged


def function_property(template: dict[str, Any], function: str, name: str, default: Any = None) -> Any:
    own = functions(template)[function]["Properties"]
    if name in own:
        return own[name]
    return template.get("Globals", {}).get("Function", {}).get(name, default)
