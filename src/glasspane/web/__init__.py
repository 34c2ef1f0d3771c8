"""The HTTP application: JSON API, ingest routes, error mapping."""
