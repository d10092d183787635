"""User-style modules that pin the types the public API gives to applications.

Each module is ordinary application/test code annotated with `assert_type`: mypy --strict
checks it with the rest of the suite, and pytest runs it, so every snippet also works.
`test_negative.py` checks, with mypy itself, that common mistakes are reported.
"""
