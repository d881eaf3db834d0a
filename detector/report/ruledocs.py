"""Rule documentation from the catalogue: the ``offload rules`` table and ``offload rule CODE``."""
from __future__ import annotations

import re
from typing import Iterable

from detector.catalog import EXAMPLE_REF, Rule

FIX_LABEL = {"safe": "safe", "unsafe": "unsafe", "none": "-"}


def table(rules: Iterable[Rule], markdown: bool = False) -> str:
    rows = [(r.code, r.name, r.family, FIX_LABEL[r.fix], r.summary) for r in sorted(rules, key=lambda r: r.code)]
    if markdown:
        lines = ["| code | name | family | fix | what it finds |", "|---|---|---|---|---|"]
        lines += [f"| {code} | `{name}` | {family} | {fix} | {summary} |" for code, name, family, fix, summary in rows]
        return "\n".join(lines) + "\n"
    rows.insert(0, ("CODE", "NAME", "FAMILY", "FIX", "WHAT IT FINDS"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths)) + "  " + row[4] + "\n" for row in rows
    )


def describe(rule: Rule) -> str:
    head = f"# {rule.code} {rule.name}\n\n{rule.summary}.\n"
    facts = [f"Family: {rule.family}. Fix: {FIX_LABEL[rule.fix]}."]
    if rule.opt_in:
        facts.append(f"Opt-in: runs only when selected by its full code (`--select {rule.code}`).")
    if rule.alternatives:
        each = [f"{alternative or 'none'} for `{prefix}`" for prefix, alternative in sorted(rule.alternatives)]
        other = [f"{rule.alternative} for the others"] if rule.alternative else []
        facts.append(f"Async alternatives: {'; '.join(each + other)}.")
    elif rule.alternative:
        facts.append(f"Async alternative: {rule.alternative}.")
    if rule.peer_codes:
        facts.append(f"Also silenced by `# noqa: {', '.join(rule.peer_codes)}`.")
    if rule.calls:
        facts.append("Matches: " + ", ".join(f"`{c}`" for c in rule.calls) + ".")
    return head + "\n" + "\n".join(facts) + "\n\n" + docs(rule).strip() + "\n"


def docs(rule: Rule) -> str:
    """The rule's docs, with each example line (``{invalid[0]}``) shown as its code."""
    def show(found: "re.Match[str]") -> str:
        return "```python\n" + rule.example(found[1], int(found[2])).rstrip("\n") + "\n```"
    return EXAMPLE_REF.sub(show, rule.docs)
