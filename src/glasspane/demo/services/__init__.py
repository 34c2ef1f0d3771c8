"""The code each demo service process runs: one module per service, ``runtime`` shared.

Start one with ``python -m glasspane.demo.services NAME`` (``glasspane demo``
does, through ``glasspane.demo.guard``); NAME is a project name of
``glasspane.demo.topology``.
"""
