"""Scoring newsdesk against gold question/answer files (``newsdesk eval``).

Kept out of the answering path: nothing in ``retrieval`` imports this package, and its
heavier modules (plotting) import their libraries only when called.
"""
