"""Release artifacts: which uploaded URL a frame's file is, and where its map is."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from glasspane.sourcemaps.releases import (
    ReleaseArtifacts,
    mapping_url,
    resolve_reference,
    url_candidates,
)


@pytest.mark.parametrize(
    ("abs_path", "expected"),
    [
        (
            "https://shop.example/static/app.min.js",
            ["https://shop.example/static/app.min.js", "~/static/app.min.js"],
        ),
        (
            "http://127.0.0.1:8080/app.js?v=3",
            ["http://127.0.0.1:8080/app.js?v=3", "~/app.js?v=3", "~/app.js"],
        ),
        ("app.js", ["app.js"]),
    ],
)
def test_a_frame_file_is_looked_up_as_its_url_then_with_tilde(
    abs_path: str, expected: list[str]
) -> None:
    assert url_candidates(abs_path) == expected


@pytest.mark.parametrize(
    ("file_url", "reference", "expected"),
    [
        ("~/static/app.min.js", "app.min.js.map", "~/static/app.min.js.map"),
        ("~/static/app.min.js", "../maps/app.map", "~/maps/app.map"),
        ("~/static/app.min.js", "/maps/app.map", "~/maps/app.map"),
        ("~/static/app.min.js", "https://cdn.example/m/app.map", "~/m/app.map"),
    ],
)
def test_a_map_reference_is_resolved_against_the_file(
    file_url: str, reference: str, expected: str
) -> None:
    assert resolve_reference(file_url, reference) == expected


def test_the_last_source_mapping_url_comment_is_the_map() -> None:
    minified = b"var a=1;\n//# sourceMappingURL=old.map\nvar b;\n//# sourceMappingURL=app.js.map\n"
    assert mapping_url(minified) == "app.js.map"
    assert mapping_url(b"var a=1;") is None


def test_release_files_are_kept_listed_and_removed(tmp_path: Path) -> None:
    releases = ReleaseArtifacts(tmp_path)
    created = releases.create(3, "web@1.0", now=1000.0)
    assert releases.create(3, "web@1.0", now=2000.0) == created  # kept as it was
    entry = {"type": "minified_source", "headers": {"Sourcemap": "app.js.map"}}
    releases.keep(3, "web@1.0", [("~/app.js", entry, b"var a=1;")])
    assert releases.lookup(3, "web@1.0", "~/app.js") == (b"var a=1;", "app.js.map")
    assert releases.lookup(3, "web@1.0", "~/other.js") is None
    assert releases.lookup(4, "web@1.0", "~/app.js") is None  # one project's files
    [listed] = releases.releases(3)
    assert (listed.version, [(f.url, f.kind, f.size) for f in listed.files]) == (
        "web@1.0",
        [("~/app.js", "minified_source", 8)],
    )
    release = releases.release(3, "web@1.0")
    assert release is not None
    [file] = release.files
    assert (file.url, file.sha1) == ("~/app.js", hashlib.sha1(b"var a=1;").hexdigest())
    assert releases.release(3, "web@2.0") is None
    assert releases.remove_older(3, cutoff=0.0) == 0
    assert releases.remove_older(3, cutoff=listed.files[0].uploaded_at + 1) == 1
    assert releases.releases(3) == [] and not releases.has(3, "web@1.0")
