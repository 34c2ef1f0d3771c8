"""JavaScript source maps: the artifact bundles ``sentry-cli`` uploads, and the
mapping of minified frames back to their original file, line and function."""
