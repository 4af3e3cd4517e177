"""The switch posts exactly the lookup fields kumo reads (fsctl.xmlcurl.posted), section by section.

The reads are found by following the form object from each section's handler through every function
it is handed to (the code as written, resolved on a live ServiceApp), so a field read on a path no
other test takes is still caught; a use of the form this check cannot follow fails it too.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from kumo_support import REPO_ROOT

from fsctl.xmlcurl import posted
from fsctl.xmlcurl.app import ServiceApp, lookup_form
from fsctl.xmlcurl.store import LookupStore

CONF = REPO_ROOT / posted.CONF_PATH


# -- the switch's configuration -------------------------------------------------------------------


def _bindings() -> list[tuple[str, str, str, list[str]]]:
    """(name, url, sections, enable-post-var values) of each binding, in file order."""
    root = ET.parse(CONF).getroot()
    found = []
    for binding in root.iter("binding"):
        params = binding.findall("param")
        urls = [p for p in params if p.get("name") == "gateway-url"]
        assert len(urls) == 1, binding.get("name")
        post_vars = [p.get("value") for p in params if p.get("name") == "enable-post-var"]
        found.append((binding.get("name"), urls[0].get("value"), urls[0].get("bindings"), post_vars))
    return found


def test_each_section_is_asked_of_kumo_1_then_2_posting_exactly_its_list():
    bindings = _bindings()
    for section, fields in posted.POSTED.items():
        mine = [b for b in bindings if section in b[2].split("|")]
        assert [url for _, url, _, _ in mine] == ["$${kumo_xml_url_1}", "$${kumo_xml_url_2}"], section
        for name, _, sections, post_vars in mine:
            # A binding serving two sections would post one list for both.
            assert sections == section, name
            assert post_vars == list(fields), name
            assert len(set(post_vars)) == len(post_vars), name
    assert {b[2] for b in bindings} == set(posted.POSTED)


def test_the_configuration_is_generated_from_the_lists():
    text = CONF.read_text(encoding="utf-8")
    assert posted.with_generated_bindings(text) == text, "run `python -m fsctl.xmlcurl.posted`"


def test_a_switch_posting_everything_is_read_as_one_posting_the_list(fixtures_dir, monkeypatch):
    unposted = []
    monkeypatch.setattr(posted, "unposted_read", lambda section, key: unposted.append((section, key)))
    body = (fixtures_dir / "xml_curl" / "dialplan-bridge-1002.txt").read_bytes()
    form = lookup_form(body)
    sent = {pair.split("=")[0] for pair in body.decode().split("&")}
    assert set(form) == posted.READABLE["dialplan"] & sent
    assert form.get("variable_sip_call_id") is None and "Unique-ID" not in form
    assert form["Caller-Destination-Number"] == "1002"
    assert unposted == [("dialplan", "variable_sip_call_id"), ("dialplan", "Unique-ID")]
    # The body cut to the list is what the switch now posts; it reads the same.
    cut = posted.as_posted(body)
    assert len(cut) < len(body) // 4
    assert dict(lookup_form(cut)) == dict(form)


# -- what kumo reads --------------------------------------------------------------------------------


@dataclass
class Reads:
    keys: set[str] = field(default_factory=set)
    unfollowed: list[str] = field(default_factory=list)
    visited: set[tuple[Any, str]] = field(default_factory=set)


def _function_node(func: Callable) -> tuple[ast.FunctionDef, str]:
    source = textwrap.dedent(inspect.getsource(func))
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    return node, f"{func.__module__}.{func.__qualname__}"


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}


def _names(func: Callable) -> dict[str, Any]:
    """What a function's free names stand for: its module's globals and its closure's variables."""
    return {**func.__globals__, **inspect.getclosurevars(func).nonlocals}


def _resolve_key(node: ast.expr, func: Callable, tree: ast.FunctionDef) -> list[str] | None:
    """The string(s) a key expression stands for, or None when it cannot be known statically."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr | ast.Attribute | ast.BinOp) or (
        isinstance(node, ast.Name) and node.id in _names(func)
    ):
        try:
            value = eval(compile(ast.Expression(node), "<key>", "eval"), _names(func))  # noqa: S307
        except NameError:
            return None
        return [value] if isinstance(value, str) else None
    if isinstance(node, ast.Name):  # a loop over literal names: `for key in ("a", "b"): fields.get(key)`
        for loop in ast.walk(tree):
            if isinstance(loop, ast.For | ast.comprehension) and isinstance(loop.target, ast.Name):
                if loop.target.id == node.id and isinstance(loop.iter, ast.Tuple | ast.List):
                    keys = [e.value for e in loop.iter.elts if isinstance(e, ast.Constant)]
                    if len(keys) == len(loop.iter.elts) and all(isinstance(k, str) for k in keys):
                        return keys
    return None


def _callee(call: ast.Call, func: Callable, receiver: Any) -> Callable | None:
    """The function a call names: a module-level name, or an attribute path from `self`."""
    path: list[str] = []
    target = call.func
    while isinstance(target, ast.Attribute):
        path.insert(0, target.attr)
        target = target.value
    if not isinstance(target, ast.Name):
        return None
    if target.id == "self" and receiver is not None:
        value = receiver
    elif target.id in _names(func):
        value = _names(func)[target.id]
    else:
        return None
    for name in path:
        value = getattr(value, name)
    return value


def _follow(func: Callable, param: str, receiver: Any, reads: Reads) -> None:
    """Collect the keys read from `param` in `func` and in every function it hands `param` to."""
    if (func, param) in reads.visited:
        return
    reads.visited.add((func, param))
    tree, where = _function_node(func)
    parents = _parents(tree)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Name) and node.id == param):
            continue
        parent = parents[node]
        shown = parents[parent] if isinstance(parent, ast.Attribute) else parent
        line = f"{where} line {node.lineno}: {ast.unparse(shown)[:100]}"
        if isinstance(node.ctx, ast.Store) or isinstance(parent, ast.arg):
            reads.unfollowed.append(f"{line} (the form is rebound)")
            continue
        key_node = None
        if isinstance(parent, ast.Attribute) and parent.attr == "get":
            call = parents[parent]
            if isinstance(call, ast.Call) and call.func is parent and call.args:
                key_node = call.args[0]
        elif isinstance(parent, ast.Subscript) and parent.value is node:
            key_node = parent.slice
        elif isinstance(parent, ast.Compare) and node in parent.comparators:
            if all(isinstance(op, ast.In | ast.NotIn) for op in parent.ops):
                key_node = parent.left
        elif isinstance(parent, ast.Call) and (
            node in parent.args or node in [k.value for k in parent.keywords]
        ):
            _follow_call(parent, node, func, receiver, reads, line)
            continue
        if key_node is None:
            reads.unfollowed.append(line)
            continue
        keys = _resolve_key(key_node, func, tree)
        if keys is None:
            reads.unfollowed.append(f"{line} (key not known statically)")
        else:
            reads.keys.update(keys)


def _follow_call(
    call: ast.Call, arg: ast.Name, func: Callable, receiver: Any, reads: Reads, line: str
) -> None:
    callee = _callee(call, func, receiver)
    if callee is None or not callable(callee):
        reads.unfollowed.append(f"{line} (callee not resolved)")
        return
    target = getattr(callee, "__func__", callee)
    if not inspect.isfunction(target):
        reads.unfollowed.append(f"{line} (not a Python function)")
        return
    names = list(inspect.signature(target).parameters)
    bound = getattr(callee, "__self__", None)
    if bound is not None:
        names = names[1:]
    if arg in call.args:
        index = call.args.index(arg)
        if any(isinstance(a, ast.Starred) for a in call.args[: index + 1]):
            reads.unfollowed.append(f"{line} (starred arguments)")
            return
        name = names[index]
    else:
        name = next(k.arg for k in call.keywords if k.value is arg)
    _follow(target, name, bound, reads)


@pytest.fixture
def app(settings, engine) -> ServiceApp:
    return ServiceApp(settings, LookupStore(engine=engine))


def _entries(app: ServiceApp) -> dict[str, list[Callable]]:
    """Each section's handlers, as ServiceApp._answer hands them the form."""
    return {
        "directory": [app.directory.answer],
        "dialplan": [app.dialplan.answer],
        "configuration": [app.callcenter.answer, app.configuration.answer],
    }


def test_the_entries_are_what_the_app_dispatches_to(app):
    # If ServiceApp._answer hands the form to another handler, _entries must name it.
    reads = Reads()
    _follow(ServiceApp._answer, "fields", app, reads)
    handed = {f for f, _ in reads.visited} - {ServiceApp._answer}
    named = {getattr(h, "__func__", h) for hs in _entries(app).values() for h in hs}
    assert named <= handed
    assert not reads.unfollowed, reads.unfollowed


@pytest.mark.parametrize("section", sorted(posted.POSTED))
def test_every_field_a_section_reads_is_posted(app, section):
    reads = Reads()
    for handler in _entries(app)[section]:
        _follow(handler.__func__, "fields", handler.__self__, reads)
    assert not reads.unfollowed, "the form is used where this check cannot follow it:\n" + "\n".join(
        reads.unfollowed
    )
    missing = reads.keys - posted.READABLE[section]
    assert not missing, f"{section} lookups read fields the switch does not post: {sorted(missing)}"
    unread = set(posted.POSTED[section]) - reads.keys
    assert not unread, f"{section}: posted but never read (drop them): {sorted(unread)}"


def test_the_check_catches_a_field_read_in_a_helper():
    suffix = "x"

    def helper(form, name):
        return form.get("variable_" + suffix), form.get(name)

    def handler(fields):
        return (
            fields.get("Caller-Context"),
            helper(fields, "n"),
            fields["Hunt-Context"],
            "a" in fields,
            dict(fields),
        )

    reads = Reads()
    _follow(handler, "fields", None, reads)
    assert reads.keys == {"Caller-Context", "Hunt-Context", "a", "variable_x"}
    assert len(reads.unfollowed) == 2
    assert "not known statically" in reads.unfollowed[0] and "form.get(name)" in reads.unfollowed[0]
    assert "callee not resolved" in reads.unfollowed[1] and "dict(fields)" in reads.unfollowed[1]
