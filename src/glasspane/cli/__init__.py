"""The ``glasspane`` command: a thin layer over the library and the JSON API."""
