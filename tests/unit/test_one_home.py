"""Each rule has one home: greps that fail when a rule is written again elsewhere."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for top in ("harness", "strategies") for p in (ROOT / top).rglob("*.py"))


def _hits(pattern: str, *, outside: set[str]) -> list[str]:
    rx = re.compile(pattern)
    return [f"{p.relative_to(ROOT)}:{i}" for p in SOURCES if str(p.relative_to(ROOT)) not in outside
            for i, line in enumerate(p.read_text().splitlines(), 1) if rx.search(line)]


def test_scalar_type_behaviour_lives_in_the_type_table() -> None:
    """No branch on a scalar type's kind (bool, int, timer) or on which load check it has."""
    kinds = r"""\.kind\s*(==|!=)\s*["'](bool|int|timer)["']"""
    checks = r"""\b(\.)?check\s*(==|!=)\s*["'](equal|le)["']"""
    assert _hits(kinds, outside={"harness/types.py"}) == []
    assert _hits(checks, outside={"harness/types.py"}) == []


def test_the_grep_sees_a_branch() -> None:
    assert re.search(r"""\.kind\s*(==|!=)\s*["'](bool|int|timer)["']""", 'if t.kind == "bool":')


def test_present_at_version_is_decided_once() -> None:
    """QEMU's "field present in a stream of version v" lives in Field.present_at."""
    rule = r"(?<!minimum_)version_id\s*(<=|>)\s*version\b"
    assert _hits(rule, outside={"harness/model.py"}) == []


def test_held_subsections_are_decided_once() -> None:
    """Which declared subsections a state holds: Description.held_subsections."""
    rule = r"\b(s|sub)\.name in held\b"
    assert _hits(rule, outside={"harness/model.py"}) == []


_VISITOR_BASES = {"Visitor", "InputVisitor", "OutputVisitor", "LegacyWriter", "LegacyReader"}


def _visitor_lines() -> dict[str, list[tuple[int, str]]]:
    """The source lines of every visitor class, by file."""
    out: dict[str, list[tuple[int, str]]] = {}
    for p in SOURCES:
        text = p.read_text()
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(b, ast.Name) and b.id in _VISITOR_BASES for b in node.bases):
                assert node.end_lineno is not None
                out.setdefault(str(p.relative_to(ROOT)), []).extend(
                    (n, lines[n - 1]) for n in range(node.lineno, node.end_lineno + 1))
    return out


def test_visitors_keep_no_stack_of_enclosing_structs() -> None:
    """The walk hands each callback its Frame (enclosing description, state, role, parent):
    a visitor that pushes and pops its own frames, counts its depth or hands the next
    callback a value through an attribute re-does the walk."""
    found = _visitor_lines()
    assert {"harness/formats/_selfdesc.py", "strategies/states.py", "harness/schema.py",
            "strategies/captured.py", "harness/compat/oracle.py", "harness/compat/chain.py",
            "harness/matrix/engine.py", "harness/catalog/_sample.py"} <= set(found)
    stack = re.compile(r"self\.\w+(\.pop\(\)|\[-1\])"
                       r"|self\.(frames|names|visited|arrays|in_list|depth|_sub|_marker|"
                       r"_counters|_wanted)\b")
    assert [f"{p}:{n}" for p, lines in found.items() for n, line in lines
            if stack.search(line)] == []


def test_the_stack_grep_sees_a_stack() -> None:
    rx = re.compile(r"self\.\w+(\.pop\(\)|\[-1\])")
    assert rx.search("fr = self.frames.pop()") and rx.search("self.names[-1]")


def test_callbacks_take_the_frame() -> None:
    """Every visitor callback's first argument is the frame (``at``), never a bare path."""
    names = ("start_struct|end_struct|exists|missing|offwire|run|scalar|buffer|unused|count|"
             "pointer|array|bitmap|list_item|end_list|start_tree|tree_node|end_tree|"
             "subsections|end_subsections")
    rule = rf"def ({names})\(self, path\b"
    assert _hits(rule, outside=set()) == []


def _self_recursive() -> set[str]:
    """``file:function`` of every function that calls itself by name."""
    out: set[str] = set()
    for p in SOURCES:
        for node in ast.walk(ast.parse(p.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            for c in ast.walk(node):
                fn = c.func if isinstance(c, ast.Call) else None
                name = (fn.id if isinstance(fn, ast.Name) else fn.attr
                        if isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name)
                        and fn.value.id in ("self", "cls") else None)
                if name == node.name:
                    out.add(f"{p.relative_to(ROOT)}:{node.name}")
                    break
    return out


#: the recursions that remain, each a known case; traversals of a description belong to
#: the walk or ``Description.fold``, of a predicate to ``predicates.fold``, of a state
#: tree to ``state.map_leaves``
KNOWN_RECURSIONS = {
    # the shared state-tree map
    "harness/state.py:map_leaves",
    # raw JSON read from files or QEMU (not yet a Description, a predicate or a state)
    "harness/descjson.py:_description", "harness/predicates.py:parse",
    "harness/dumps.py:as_captured", "harness/dumps.py:merge",
    "harness/compat/checker/_inputs.py:_normalise_desc", "harness/qemu/cross.py:_fields",
    "harness/qemu/cross.py:_subs", "harness/stream/verify.py:_subsections",
    "harness/stream/verify.py:_skeleton",
    "harness/stream/jsontext.py:indented",
    # description -> JSON and the checker's pairing of two descriptions (issue 14 §2: left)
    "harness/descjson.py:to_json", "harness/dumps.py:_desc_dump",
    "harness/compat/checker/_align.py:_items", "harness/compat/rules.py:_pj",
    # the oracle's same-wire shortcut pairs two descriptions' plans into one flat list
    "harness/compat/aligned.py:_pair",
    # state trees not (yet) on map_leaves: they filter, pair two trees or yield paths
    "harness/compat/oracle.py:normalize", "harness/matrix/engine.py:first_difference",
    "harness/qemu/fuzz/_outcomes.py:differing", "harness/stream/compare.py:leaves",
    "harness/filters.py:_take", "harness/filters.py:_place", "harness/filters.py:fix",
    "harness/qemu/fuzz/_pin.py:pin",
    # a reader callback retrying itself once realigned (not a traversal)
    "harness/compat/oracle.py:list_item",
}


def test_no_new_ad_hoc_recursion() -> None:
    """A new function calling itself is a new traversal: use the walk, a fold or
    ``state.map_leaves`` (or, if it is none of these, add it above with its reason)."""
    assert _self_recursive() == KNOWN_RECURSIONS


def test_the_recursion_grep_sees_one() -> None:
    tree = ast.parse("def f(x):\n    return [f(y) for y in x]\n")
    fn = tree.body[0]
    assert isinstance(fn, ast.FunctionDef)
    assert any(isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id == "f"
               for c in ast.walk(fn))
