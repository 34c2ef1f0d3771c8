"""The embedded default store: one DuckDB file in the data directory."""
