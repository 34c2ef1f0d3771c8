"""glasspane: distributed tracing, performance monitoring and error tracking.

The package is laid out along the data flow, and imports go one way only:

    protocol  (wire formats: envelope, DSN, bounded decompression; no web, no database)
      -> normalize (wire payloads -> domain types in ``domain``)
      -> ingest    (HTTP receivers)
      -> store     (``store.api`` contract; one folder per backend)
      -> query     (reads shaped for the API)
      -> web / cli
"""

__version__ = "0.1.0"
