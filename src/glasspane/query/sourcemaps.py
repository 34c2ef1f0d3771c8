"""A project's uploaded source maps, as the API and the settings page show them."""

from __future__ import annotations

from typing import Any

from glasspane.sourcemaps.bundles import BundleStore

#: The kinds of a bundle's files, by the suffix they are kept under.
KINDS = {"js": "minified_source", "map": "source_map"}


def uploads(bundles: BundleStore, project_id: int) -> dict[str, Any]:
    """``{bundles: [...], releases: [...]}``, newest first: the debug-id bundles with
    their files, sizes and upload times, and the releases with their files."""
    return {
        "bundles": [
            {
                "debug_id": b.debug_id,
                "files": [{"kind": KINDS.get(k, k), "size": n} for k, n in sorted(b.files.items())],
                "size": sum(b.files.values()),
                "uploaded_at": b.uploaded_at,
            }
            for b in bundles.bundles(project_id)
        ],
        "releases": [
            {
                "version": r.version,
                "created_at": r.created_at,
                "size": sum(f.size for f in r.files),
                "files": [
                    {
                        "url": f.url,
                        "kind": f.kind,
                        "size": f.size,
                        "sourcemap": f.sourcemap,
                        "uploaded_at": f.uploaded_at,
                    }
                    for f in r.files
                ],
            }
            for r in bundles.releases.releases(project_id)
        ],
    }
