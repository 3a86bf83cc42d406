"""The domain package's imports form no circle: each module can be read from the bottom up.

Every import of an smsdesk module counts, wherever it stands (top level, inside a function,
under TYPE_CHECKING): a lazy import is still an arrow between two modules.
"""

import ast
from pathlib import Path

import smsdesk

PACKAGE = Path(smsdesk.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The smsdesk modules ``path`` imports (``from smsdesk.x import y`` is x, or x.y if a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name in modules} - {module_name(path)}


def import_graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(path) for path in paths}
    return {module_name(path): imports_of(path, modules) for path in paths}


def a_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle, as the modules along it, or None."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        for imported in sorted(graph[module]):
            cycle = visit(imported, [*path, module])
            if cycle:
                return cycle
        done.add(module)
        return None

    for module in sorted(graph):
        cycle = visit(module, [])
        if cycle:
            return cycle
    return None


def test_the_domain_package_has_no_import_cycle():
    graph = import_graph()
    assert graph.get("smsdesk.send_gateway")  # the walk found the modules
    assert a_cycle(graph) is None, " -> ".join(a_cycle(graph) or [])


def test_the_cycle_finder_finds_a_circle():
    assert a_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert a_cycle({"a": {"b"}, "b": set()}) is None


def test_follow_up_scheduling_is_below_the_gateway_and_the_runner_above_it():
    graph = import_graph()
    assert "smsdesk.send_gateway" not in graph["smsdesk.follow_ups"]
    assert "smsdesk.send_gateway" in graph["smsdesk.follow_up_runner"]


def test_the_domain_does_not_reach_back_into_the_aws_edge_for_webhooks():
    graph = import_graph()
    assert not {m for m in graph["smsdesk.twilio_webhook"] if m.startswith("smsdesk.aws")}
