"""Wire payloads → domain types. Pure functions: no I/O."""
