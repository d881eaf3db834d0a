"""Output formats. Each takes Finding records and returns text; none knows how they were found.

Modules: ``text`` (plain lines, summary, statistics), ``terminal`` (colour, ``--show-source``),
``json_format``, ``sarif``, ``github`` (Actions annotations), ``ruledocs``. The CLI imports only
the one a run prints.
"""
