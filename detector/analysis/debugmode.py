"""Code that runs only in debug mode: under ``if loop.get_debug():`` and its kin.

asyncio's debug mode, debug-level logging and a project's own ``DEBUG`` switch are off when a
program runs normally, so what they guard (``traceback.format_exc()`` for a debug error page,
a stack captured for a warning) does not block the loop in normal operation: such calls are
not findings. The tests that say so, read syntactically:

- ``<anything>.get_debug()`` (the event loop's debug mode);
- ``<logger>.isEnabledFor(logging.DEBUG)`` (or ``TRACE``, or a level of 10 or less);
- a name or attribute called ``debug``, ``DEBUG``, ``debug_mode`` or ``dev_mode`` (``DEBUG``,
  ``settings.DEBUG``, ``self._debug``, ``sys.flags.dev_mode``);
- ``"debug" in <features>``;

combined with ``not``, ``and`` and ``or``. ``__debug__`` is not one: it is true unless Python
runs with ``-O``.
"""
from __future__ import annotations

from typing import Optional

import libcst as cst

from detector.analysis.names import identifier

_FLAGS = frozenset({"debug", "debug_mode", "dev_mode"})
_LOG_LEVELS = frozenset({"DEBUG", "TRACE"})
_MAX_DEBUG_LEVEL = 10  # logging.DEBUG


def only_when_true(test: cst.BaseExpression) -> bool:
    """``test`` can be true only in debug mode: the body of ``if test:`` is debug-only."""
    return only_when(test, True)


def only_when_false(test: cst.BaseExpression) -> bool:
    """``test`` can be false only in debug mode: the ``else`` of ``if test:`` is debug-only."""
    return only_when(test, False)


def only_when(test: cst.BaseExpression, outcome: bool) -> bool:
    """``test`` comes out as ``outcome`` only in debug mode."""
    if outcome and _is_flag(test):
        return True
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return only_when(test.expression, not outcome)
    if isinstance(test, cst.BooleanOperation):
        left, right = only_when(test.left, outcome), only_when(test.right, outcome)
        # ``a and b`` is true only when both are (``a or b`` false only when both are): one side
        # that needs debug mode is enough. Otherwise one side alone gives the outcome: both must.
        one_side_decides = isinstance(test.operator, cst.And) == outcome
        return (left or right) if one_side_decides else (left and right)
    return False


def exits(block: cst.BaseSuite) -> bool:
    """The block always leaves (its last statement returns, raises, continues or breaks):
    after ``if test: <block>``, the code runs only when ``test`` is false."""
    if isinstance(block, cst.SimpleStatementSuite):
        last: Optional[cst.CSTNode] = block.body[-1] if block.body else None
    elif isinstance(block, cst.IndentedBlock) and block.body:
        statement = block.body[-1]
        last = statement.body[-1] if isinstance(statement, cst.SimpleStatementLine) and statement.body else None
    else:
        last = None
    return isinstance(last, (cst.Return, cst.Raise, cst.Continue, cst.Break))


def _is_flag(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        method = identifier(node.func.attr)
        if method == "get_debug":
            return not node.args
        if method == "isEnabledFor" and len(node.args) == 1 and not node.args[0].keyword and not node.args[0].star:
            return _is_debug_level(node.args[0].value)
        return False
    if isinstance(node, (cst.Name, cst.Attribute)):
        name = identifier(node if isinstance(node, cst.Name) else node.attr)
        return not name.startswith("__") and name.lstrip("_").lower() in _FLAGS
    if isinstance(node, cst.Comparison) and len(node.comparisons) == 1 \
            and isinstance(node.comparisons[0].operator, cst.In) and isinstance(node.left, cst.SimpleString):
        value = node.left.evaluated_value
        return isinstance(value, str) and value.lower() == "debug"
    return False


def _is_debug_level(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Integer):
        value = node.evaluated_value
        return 0 < value <= _MAX_DEBUG_LEVEL
    if isinstance(node, (cst.Name, cst.Attribute)):
        return identifier(node if isinstance(node, cst.Name) else node.attr) in _LOG_LEVELS
    return False
