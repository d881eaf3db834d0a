"""Coroutine test methods that plain ``unittest`` never runs.

``unittest.TestCase`` calls a test method and drops what it returns: an ``async def test_x``
makes a coroutine that is never awaited, so its body runs on no loop (the test passes without
running). ``IsolatedAsyncioTestCase``, asynctest's, Django's and Tornado's test cases do run
them; so a class counts only when every base it has, through the project's own classes, is
known and the only one from outside is ``unittest.TestCase``, and nothing on the way can change
how a test method is called: a decorator on the method (``@async_test`` running it with
``asyncio.run``) or on a class, a metaclass, or a method unittest calls the test through.
"""
from __future__ import annotations

from typing import Dict, FrozenSet, List, Set

from detector.analysis.project import Project

_PLAIN = frozenset({"unittest.TestCase", "unittest.case.TestCase"})
_PREFIX = "test"  # unittest's testMethodPrefix: what it calls on its own
_MAX_ANCESTORS = 64
# Decorators that leave a coroutine function one: marks, skips, patches (``mock.patch`` wraps a
# coroutine function in another).
_MARKS = ("pytest.mark.", "unittest.mock.patch")
_SKIPS = frozenset({"unittest.skip", "unittest.skipIf", "unittest.skipUnless", "unittest.expectedFailure",
                    "unittest.case.skip", "unittest.case.skipIf", "unittest.case.skipUnless",
                    "unittest.case.expectedFailure"})
# Methods through which a TestCase calls its test methods, or that can replace them.
_CALLERS = frozenset({"run", "debug", "_callTestMethod", "__call__", "__getattribute__", "__getattr__",
                      "__init_subclass__", "__init__", "__new__"})


def never_run(project: Project) -> FrozenSet[int]:
    """id() of every project coroutine that is a test method of a plain ``unittest.TestCase``,
    and of the functions defined inside one."""
    methods: Set[str] = set()
    plain: Dict[str, bool] = {}  # class -> whether it is a plain TestCase
    for module in project.own_summaries:
        for function in module.functions:
            owner, _, name = function.qualname.rpartition(".")
            if not function.is_async or not name.startswith(_PREFIX) or owner not in project.classes \
                    or not all(_leaves_the_call(decorator) for decorator in function.decorators):
                continue
            if owner not in plain:
                plain[owner] = _plain_test_case(project, owner)
            if plain[owner]:
                methods.add(function.qualname)
    return frozenset(id(function) for module in project.own_summaries for function in module.functions
                     if function.qualname in methods or _inside(function.qualname, methods))


def _leaves_the_call(decorator: str) -> bool:
    """A decorator that marks or skips a test, or patches around it, but calls it as it is."""
    return decorator.startswith(_MARKS) or decorator in _SKIPS


def _inside(qualname: str, methods: Set[str]) -> bool:
    while "." in qualname:
        qualname = qualname.rpartition(".")[0]
        if qualname in methods:
            return True
    return False


def _plain_test_case(project: Project, qualname: str) -> bool:
    """Whether ``qualname`` derives from ``unittest.TestCase`` and from nothing else outside the project."""
    outside: Set[str] = set()
    seen: Set[str] = set()
    pending: List[str] = [qualname]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        cls = project.classes.get(current)
        if cls is None or len(seen) > _MAX_ANCESTORS:
            return False  # two classes of that name, or a hierarchy too deep to follow
        if cls.customised or not _CALLERS.isdisjoint(cls.attrs):
            return False
        for base in cls.bases:
            name = project.expand(base.name) if base is not None else None
            if name is None:
                return False  # a base offload cannot name may run coroutines
            canonical = project.catalog.canonical(name)
            if canonical in _PLAIN:
                outside.add(canonical)
            elif name in project.classes and not project.in_library(name):
                pending.append(name)
            else:
                return False
    return bool(outside)
