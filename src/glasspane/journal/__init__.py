"""The ingest journal: durable, append-only segment files between ingest and the store.

Ingest worker processes append each request's normalized :class:`Batch` to a
segment of their own and answer 200 once it is fsynced (``writer``); the
process that owns the store tails every segment and feeds the store in large
groups, committing each segment's position with the rows it fed (``feeder``).
The record format and the segment names are in ``segments``.
"""
