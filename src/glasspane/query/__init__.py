"""Reads shaped for the API, the UI and the CLI."""
