"""Benchmarks: `python -m tests.bench` (or `make bench`) prints figures, never pass/fail.

What it measures, on this machine:
  1. login cost: argon2id hash and verify in-process with the configured parameters
     (COUNCIL_ARGON2_*), and the whole POST /login over HTTP against a running server;
  2. for SQLite and PostgreSQL (skipped, with the reason, when unreachable): a scratch
     database with the demo community, `council serve --workers 2` in its own process,
     and load from a second process on loopback (wrk, or a Python fallback) on an
     authenticated HTML page and on a token-authenticated API read;
  3. the proposals list at scale (tests/bench/proposals.py): 10,000 proposals with Chinese
     text inserted into each scratch database as fixtures, queries.find() timed in-process
     with the plans of its SQL (does PostgreSQL's trigram index serve a Chinese search?),
     and load on the public list, a Chinese search, and the /matters page;
  4. a markdown summary to paste into an issue note.

pytest does not collect this package (see addopts in pyproject.toml). Options:
`python -m tests.bench --help`; `--only proposals` (or login, community) runs one part.
"""
