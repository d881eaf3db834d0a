"""The ast-based position index agrees with libcst's PositionProvider, and falls back when it must."""
from __future__ import annotations

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from detector.analysis import positions, screen
from detector.analysis.module import _Collector

TRICKY = '''
import os, time
@decorate(arg=f(1)).attr
def g(a: Ann[h()] = dflt(), *args: X.y, k=kw(), **kw2: z.w) -> ret.urn():
    s = f"{time.sleep(1)} and {os.path.join('é', 'ü')!r:>{width()}}"
    t = "ünïcödé"; u = os.path.exists(t).real
    d = {k(x): v(x) for x in it() if cond(x)}
    lst = [a.b(c) for c in d.e if c.f(g)]
    gen = (q(i) for i in r())
    lam = lambda p=pd(): p.q()
    with lk, m.n() as o, (pl):
        pass
    return (yield from w.x())
class C(B.c(), metaclass=M.m):
    x: T.t = init()
    match cmd():
        case Point(x=p.q):
            pass
'''


def both(source: str):
    data = source.encode("utf-8")
    tree = cst.parse_module(data)
    collector = _Collector("m", False)
    collector._walk(tree)
    wanted = range(len(collector.ordered))
    index = screen.screen(data, "m.py").index
    fast = positions.spans(index.located if index is not None else None, source, tree, collector.ordered, wanted)
    exact = MetadataWrapper(tree, unsafe_skip_copy=True).resolve(PositionProvider)
    slow = {
        i: (exact[n].start.line, exact[n].start.column + 1, exact[n].end.line, exact[n].end.column + 1)
        for i, n in enumerate(collector.ordered)
    }
    return fast, slow, collector


@pytest.mark.parametrize("source", [TRICKY, TRICKY.replace("\n", "\r\n")], ids=["lf", "crlf"])
def test_ast_positions_equal_position_provider(source):
    fast, slow, collector = both(source)
    assert len(collector.ordered) > 40
    assert screen.screen(source.encode(), "m.py").index is not None  # the fast path was taken
    assert fast == slow


def test_newer_syntax_than_ast_understands_falls_back():
    source = "try:\n    pass\nexcept A, B:\n    f(x.y)\n"
    assert screen.screen(source.encode(), "m.py").tree is None
    fast, slow, _ = both(source)
    assert fast == slow and fast
