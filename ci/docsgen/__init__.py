"""Documents generated from the code, so that they cannot go stale (issue 21).

    .venv/bin/python -m ci.docsgen            rewrite them
    .venv/bin/python -m ci.docsgen --check    exit 1 naming each one that differs

- runbooks/compliance-matrix.md from the tests' ``req`` markers (read from the
  source, never imported) and the mechanism map in ``mechanisms.py``;
- the README's settings table from ``webapp.settings`` and the meanings in
  ``setting_meanings.py``, and its command list from the ``mimamori`` parser.
"""
