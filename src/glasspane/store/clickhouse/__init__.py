"""The ClickHouse store: a ClickHouse server, or chDB in-process."""
