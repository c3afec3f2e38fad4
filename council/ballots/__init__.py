"""Verifiable secret ballots (shared/BALLOTS.md).

The cryptographic core here (checks, group, proofs, keys, encrypt, tally) imports no web
or database code: the independent verifier is built on it.
"""
