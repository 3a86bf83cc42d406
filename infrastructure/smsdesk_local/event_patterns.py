"""EventBridge event patterns, matched the way EventBridge and Lambda event filtering match them.

One matcher for every place smsdesk reads a pattern outside AWS: the local stack filters the
table's stream with the template's FilterCriteria, and the tests do the same with this function.
The rules, from the EventBridge user guide ("Event pattern syntax", "Arrays in event patterns",
"Content filtering"): every field the pattern names must be in the event, nested the same way;
a field's pattern is an array, matched when any of its values matches; when the event's value is
an array, it matches when the two arrays share a value; values match exactly, type included
(``true`` is not ``1``, ``"5"`` is not ``5``). The operators: prefix, suffix, equals-ignore-case,
anything-but (a value, a list, a prefix or a suffix), exists and numeric. Any other operator
raises rather than matching wrongly.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Whether ``event`` matches ``pattern`` (a rule's EventPattern, or one Lambda filter)."""
    for key, rule in pattern.items():
        if isinstance(rule, Mapping):  # a nested object: the event has it, and it matches
            nested = event.get(key)
            if not isinstance(nested, Mapping) or not matches(rule, nested):
                return False
        elif isinstance(rule, list):
            if not _field_matches(rule, key in event, event.get(key)):
                return False
        else:
            raise ValueError(f"the pattern of {key!r} must be an array or an object, not {rule!r}")
    return True


def _field_matches(rules: list[Any], present: bool, value: Any) -> bool:
    for rule in rules:
        if isinstance(rule, Mapping) and "exists" in rule:
            if present == bool(rule["exists"]):
                return True
        elif present:
            candidates = value if isinstance(value, list) else [value]
            if any(_value_matches(rule, candidate) for candidate in candidates):
                return True
    return False


def _value_matches(rule: Any, value: Any) -> bool:
    if not isinstance(rule, Mapping):
        return _equal(rule, value)
    if len(rule) != 1:
        raise NotImplementedError(f"an operator object holds one operator: {rule!r}")
    ((name, argument),) = rule.items()
    if name == "prefix":
        return _affix(argument, value, str.startswith)
    if name == "suffix":
        return _affix(argument, value, str.endswith)
    if name == "equals-ignore-case":
        return isinstance(value, str) and value.casefold() == str(argument).casefold()
    if name == "anything-but":
        if isinstance(argument, Mapping):
            return isinstance(value, str) and not _value_matches(argument, value)
        excluded = argument if isinstance(argument, list) else [argument]
        return not any(_equal(e, value) for e in excluded)
    if name == "numeric":
        if not _is_number(value):
            return False
        conditions = list(argument)
        return all(_NUMERIC[op](value, bound) for op, bound in zip(conditions[::2], conditions[1::2], strict=True))
    raise NotImplementedError(f"the local stack does not implement the pattern operator {name!r}")


def _affix(argument: Any, value: Any, test: Callable[[str, str], bool]) -> bool:
    if not isinstance(value, str):
        return False
    if isinstance(argument, Mapping):  # {"prefix": {"equals-ignore-case": "..."}}
        return test(value.casefold(), str(argument["equals-ignore-case"]).casefold())
    return test(value, str(argument))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(rule: Any, value: Any) -> bool:
    if _is_number(rule) and _is_number(value):
        return bool(rule == value)
    return type(rule) is type(value) and bool(rule == value)
