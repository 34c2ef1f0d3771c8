"""Wire formats, pure: no web framework and no database are imported here."""
