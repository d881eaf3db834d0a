"""libcst trees walked without libcst's visitors.

libcst's generic traversal rebuilds and re-validates every node it passes (whitespace
included), which costs about as much as the parse: reading a tree field by field, in libcst's
own order (learned once per node type), gives the same nodes for a fraction of that. libcst's
metadata providers are run without the traversals they do not need (``Metadata``).
"""
from __future__ import annotations

import dataclasses
from contextlib import ExitStack
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Tuple, Type

import libcst as cst
from libcst import BatchableCSTVisitor
from libcst.metadata import MetadataWrapper

_ORDER: Dict[type, Tuple[str, ...]] = {}
_VisitorMethod = Callable[[cst.CSTNode], None]
# Whether values of a type are nodes. ``isinstance(value, cst.CSTNode)`` goes through
# ABCMeta.__instancecheck__ every time: the walks ask once per type.
_NODE_TYPES: Dict[type, bool] = {}


def is_node(value: object) -> bool:
    """``isinstance(value, cst.CSTNode)``, answered once per type."""
    kind = type(value)
    known = _NODE_TYPES.get(kind)
    if known is None:
        known = _NODE_TYPES[kind] = issubclass(kind, cst.CSTNode)
    return known


class _FieldRecorder(cst.CSTVisitor):
    """Records the order in which libcst visits the fields of one node."""

    def __init__(self, top: cst.CSTNode):
        super().__init__()
        self.top = top
        self.fields: List[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return node is self.top

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        if node is self.top:
            self.fields.append(attribute)

    def on_leave_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        pass

    def on_leave(self, node: cst.CSTNode) -> None:
        pass


def fields(node: cst.CSTNode) -> Tuple[str, ...]:
    """Every field of ``node``'s type, in the order libcst visits them (fields libcst visits
    only when they are set, such as an f-string's format_spec, last)."""
    kind = type(node)
    order = _ORDER.get(kind)
    if order is None:
        recorder = _FieldRecorder(node)
        node.visit(recorder)
        order = _ORDER[kind] = tuple(
            recorder.fields + [f.name for f in dataclasses.fields(kind) if f.name not in recorder.fields])
    return order


def parents(module: cst.Module) -> Dict[cst.CSTNode, cst.CSTNode]:
    """Each node of the tree -> the node holding it: what libcst's ParentNodeProvider gives
    (assigned in the same order, children after their own children), without its traversal."""
    found: Dict[cst.CSTNode, cst.CSTNode] = {}
    # Iterative post-order: a node's children are assigned when the node is left.
    stack: List[Tuple[cst.CSTNode, bool]] = [(module, False)]
    while stack:
        node, left = stack.pop()
        children = _children(node)
        if left:
            for child in children:
                found[child] = node
            continue
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(children))
    return found


def descendants(node: cst.CSTNode, kinds: Tuple[Type[cst.CSTNode], ...]) -> Iterator[cst.CSTNode]:
    """The nodes of ``kinds`` below ``node``, at any depth (iterative)."""
    stack = _children(node)
    while stack:
        found = stack.pop()
        if isinstance(found, kinds):
            yield found
        stack.extend(_children(found))


def _children(node: cst.CSTNode) -> List[cst.CSTNode]:
    children: List[cst.CSTNode] = []
    for name in fields(node):
        value = getattr(node, name)
        held = type(value)
        if held is tuple or held is list:
            children.extend(item for item in value if is_node(item))
        elif is_node(value):
            children.append(value)
    return children


class Metadata(MetadataWrapper):
    """libcst's MetadataWrapper, minus a traversal per batch of batchable providers.

    libcst runs batchable providers (ScopeProvider, and ExpressionContextProvider before it)
    with one batched traversal of the whole tree per batch, for their visitor methods. These
    two have only ``visit_Module``, which does all their work with visitors of their own: the
    batched traversal then walks and rebuilds every node for nothing (a third of the planner's
    metadata cost). Providers with other visitor methods get libcst's traversal.
    """

    __slots__ = ()

    def visit_batched(self, visitors: Iterable[BatchableCSTVisitor], before_visit: Optional[_VisitorMethod] = None,
                      after_leave: Optional[_VisitorMethod] = None) -> cst.CSTNode:
        visitors = list(visitors)
        methods = [visitor.get_visitors() for visitor in visitors]
        if before_visit is not None or after_leave is not None or any(set(m) != {"visit_Module"} for m in methods):
            return super().visit_batched(visitors, before_visit, after_leave)
        with ExitStack() as stack:
            for visitor in visitors:  # the metadata each depends on, as libcst's own call provides it
                stack.enter_context(visitor.resolve(self))
            for method in methods:
                method["visit_Module"](self.module)
        return self.module
