"""Benchmarks and fixture recorders for glasspane (not part of the installed package)."""
