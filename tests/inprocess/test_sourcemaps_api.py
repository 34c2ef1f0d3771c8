"""Source map uploads over HTTP as sentry-cli makes them (chunk-upload options,
chunks, assemble), and an event's minified frames shown at their original place.

The bundle is built here the way sentry-cli builds it (a zip with a
``manifest.json``) from a recorded esbuild output (tests/fixtures/sourcemaps);
the real sentry-cli uploads it in tests/e2e/test_sourcemaps.py.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from envelopes import envelope_bytes, error_event
from inprocess.conftest import App
from inprocess.test_accounts_api import bearer, make_user, user_token

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sourcemaps"
DEBUG_ID = "a73eea61-e355-536c-9ef7-f7bb1052f798"
ORG = "/api/0/organizations/glasspane"
URL = "http://localhost:5173/assets/app.min.js"


def bundle_zip(release: str | None = None) -> bytes:
    """An artifact bundle of the fixture's minified file and its map: by debug id, or
    for ``release`` without debug ids (``sentry-cli sourcemaps upload --release``)."""
    files = {
        "files/_/_/app.min.js": ("~/assets/app.min.js", "minified_source", "app.min.js"),
        "files/_/_/app.min.js.map": ("~/assets/app.min.js.map", "source_map", "app.min.js.map"),
    }
    manifest: dict[str, Any] = {"org": "glasspane", "files": {}}
    if release:
        manifest["release"] = release
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for path, (url, kind, name) in files.items():
            archive.writestr(path, (FIXTURES / name).read_bytes())
            headers: dict[str, str] = {"debug-id": DEBUG_ID}
            if release:
                headers = {"Sourcemap": "app.min.js.map"} if kind == "minified_source" else {}
            manifest["files"][path] = {"url": url, "type": kind, "headers": headers}
        archive.writestr("manifest.json", json.dumps(manifest))
    return out.getvalue()


def upload(
    app: App, headers: dict[str, str], project: str = "default", release: str | None = None
) -> dict[str, Any]:
    """Options, assemble (chunks missing), the chunks, assemble again: sentry-cli's order."""
    options = app.client.get(f"{ORG}/chunk-upload/", headers=headers)
    assert options.status_code == 200, options.text
    size = options.json()["chunkSize"]
    data = bundle_zip(release)
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    sums = [hashlib.sha1(c).hexdigest() for c in chunks]
    body = {"checksum": hashlib.sha1(data).hexdigest(), "chunks": sums, "projects": [project]}
    if release:
        body["version"] = release
    first = app.client.post(f"{ORG}/artifactbundle/assemble/", json=body, headers=headers)
    assert first.json() == {"state": "not_found", "missingChunks": sums, "detail": None}
    pairs = zip(sums, chunks, strict=True)
    files = [("file", (s, c, "application/octet-stream")) for s, c in pairs]
    sent = app.client.post(options.json()["url"], files=files, headers=headers)
    assert sent.status_code == 200, sent.text
    done = app.client.post(f"{ORG}/artifactbundle/assemble/", json=body, headers=headers)
    assert done.status_code == 200, done.text
    return dict(done.json())


def browser_error(debug_id: str = DEBUG_ID) -> dict[str, Any]:
    """An error as @sentry/browser reports a throw in the minified file."""
    frame = {"filename": URL, "abs_path": URL, "function": "c", "lineno": 3, "colno": 103}
    event = error_event(platform="javascript")
    event["exception"]["values"][0].update(type="Error", value="cart is empty")
    event["exception"]["values"][0]["stacktrace"]["frames"] = [{**frame, "in_app": True}]
    event["debug_meta"] = {
        "images": [{"type": "sourcemap", "code_file": URL, "debug_id": debug_id}]
    }
    return event


def crash_frame(app: App, event: dict[str, Any]) -> dict[str, Any]:
    sent = app.client.post(app.envelope_url(), content=envelope_bytes(event), headers=app.auth())
    assert sent.status_code == 200, sent.text
    trace = app.trace(event["contexts"]["trace"]["trace_id"])
    issue = app.client.get(f"/api/v1/issues/{trace['errors'][0]['issue_id']}", headers=app.admin())
    return dict(issue.json()["latest_event"]["exceptions"][-1]["frames"][-1])


def test_a_member_uploads_a_bundle_and_frames_show_the_original_source(app: App) -> None:
    member = make_user(app, "member")
    assert upload(app, bearer(user_token(app, member)))["state"] == "ok"
    frame = crash_frame(app, browser_error())
    assert (frame["file"], frame["function"], frame["line"]) == (
        "../src/app.js",
        "checkoutCart",
        11,
    )
    assert frame["context_line"].strip() == 'throw new Error("cart is empty");'
    assert frame["pre_context"][-1].strip() == "if (!cart.items.length) {"
    assert frame["raw"] == {
        "filename": URL,
        "abs_path": URL,
        "function": "c",
        "lineno": 3,
        "colno": 103,
    }


def test_frames_of_an_unknown_bundle_stay_as_they_came(app: App) -> None:
    upload(app, app.admin())
    frame = crash_frame(app, browser_error("0c5bd7f5-98a1-4bd6-8c4d-4ff5b4b7f0a1"))
    assert (frame["file"], frame["function"], frame["line"], frame["raw"]) == (URL, "c", 3, None)


def test_a_bundle_is_for_its_project_only(app: App) -> None:
    other = app.client.post("/api/v1/projects", json={"name": "other"}, headers=app.admin())
    assert other.status_code in (200, 201), other.text
    assert upload(app, app.admin(), project="other")["state"] == "ok"
    frame = crash_frame(app, browser_error())
    assert (frame["file"], frame["function"]) == (URL, "c")


def test_a_viewer_may_not_upload(app: App) -> None:
    token = user_token(app, make_user(app, "viewer"), "viewer")
    answer = app.client.get(f"{ORG}/chunk-upload/", headers=bearer(token))
    assert answer.status_code == 403 and "member" in answer.json()["detail"]
    body = {"checksum": "0" * 40, "chunks": [], "projects": ["default"]}
    answer = app.client.post(f"{ORG}/artifactbundle/assemble/", json=body, headers=bearer(token))
    assert answer.status_code == 403
    releases = "/api/0/projects/glasspane/default/releases/"
    answer = app.client.post(releases, json={"version": "v1"}, headers=bearer(token))
    assert answer.status_code == 403 and "member" in answer.json()["detail"]


def test_a_chunk_whose_bytes_do_not_match_its_checksum_is_refused(app: App) -> None:
    wrong = hashlib.sha1(b"something else").hexdigest()
    files = [("file", (wrong, b"chunk bytes", "application/octet-stream"))]
    answer = app.client.post(f"{ORG}/chunk-upload/", files=files, headers=app.admin())
    assert answer.status_code == 400 and "corrupted" in answer.json()["detail"]
    assert not any((app.instance.bundles.chunks).glob("*"))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"checksum": "xyz", "chunks": [], "projects": ["default"]}, "SHA-1"),
        ({"checksum": "0" * 40, "chunks": ["nope"], "projects": ["default"]}, "SHA-1"),
        ({"checksum": "0" * 40, "chunks": [], "projects": ["nobody"]}, "SENTRY_PROJECT"),
        ({"checksum": "0" * 40, "chunks": []}, "projects"),
    ],
)
def test_bad_assemble_requests_are_clear(app: App, body: dict[str, Any], message: str) -> None:
    answer = app.client.post(f"{ORG}/artifactbundle/assemble/", json=body, headers=app.admin())
    assert answer.status_code in (400, 404) and message in answer.json()["detail"]


def test_chunks_that_do_not_make_the_bundle_are_refused(app: App) -> None:
    chunk = b"not a zip at all"
    digest = hashlib.sha1(chunk).hexdigest()
    files = [("file", (digest, chunk, "application/octet-stream"))]
    assert app.client.post(f"{ORG}/chunk-upload/", files=files, headers=app.admin()).is_success
    body = {"checksum": digest, "chunks": [digest], "projects": ["default"]}
    answer = app.client.post(f"{ORG}/artifactbundle/assemble/", json=body, headers=app.admin())
    assert answer.status_code == 400 and "not an artifact bundle" in answer.json()["detail"]


def test_another_organization_is_not_found(app: App) -> None:
    answer = app.client.get("/api/0/organizations/acme/chunk-upload/", headers=app.admin())
    assert answer.status_code == 404 and "SENTRY_ORG=glasspane" in answer.json()["detail"]


def test_a_chunk_upload_larger_than_its_chunks_is_refused(tmp_path: Path) -> None:
    small = App(tmp_path / "data", sourcemap_chunk_size=1024)
    with small.client:
        options = small.client.get(f"{ORG}/chunk-upload/", headers=small.admin()).json()
        assert (options["chunkSize"], options["maxRequestSize"]) == (1024, 4096)
        chunk = b"x" * (options["maxRequestSize"] + 70 * 1024)
        digest = hashlib.sha1(chunk).hexdigest()
        files = [("file", (digest, chunk, "application/octet-stream"))]
        answer = small.client.post(f"{ORG}/chunk-upload/", files=files, headers=small.admin())
        assert answer.status_code == 413 and "sourcemap_chunk_size" in answer.json()["detail"]
        chunk = b"y" * 2000  # within the request, more than one chunk size
        digest = hashlib.sha1(chunk).hexdigest()
        files = [("file", (digest, chunk, "application/octet-stream"))]
        answer = small.client.post(f"{ORG}/chunk-upload/", files=files, headers=small.admin())
        assert answer.status_code == 413 and "sourcemap_chunk_size" in answer.json()["detail"]
    small.instance.close()


def test_a_release_upload_maps_frames_by_release_and_url(app: App) -> None:
    created = app.client.post(
        f"{ORG}/releases/",
        json={"version": "shop@2.1", "projects": ["default"]},
        headers=app.admin(),
    )
    assert created.status_code == 201 and created.json()["version"] == "shop@2.1"
    assert upload(app, app.admin(), release="shop@2.1")["state"] == "ok"
    event = browser_error()
    del event["debug_meta"]
    frame = crash_frame(app, {**event, "release": "shop@2.1"})
    assert (frame["file"], frame["function"], frame["line"]) == (
        "../src/app.js",
        "checkoutCart",
        11,
    )
    assert frame["raw"]["filename"] == URL
    other = crash_frame(app, {**browser_error(), "debug_meta": {}, "release": "shop@2.2"})
    assert (other["file"], other["function"], other["raw"]) == (URL, "c", None)


def test_sentry_cli_2_creates_lists_and_finalizes_a_release_under_its_project(app: App) -> None:
    project = "/api/0/projects/glasspane/default"
    options = app.client.get(f"{ORG}/chunk-upload/", headers=app.admin()).json()
    assert "release_files" in options["accept"]  # else sentry-cli 2 uploads file by file
    created = app.client.post(
        f"{project}/releases/", json={"version": "shop@3"}, headers=app.admin()
    )
    assert created.status_code == 201, created.text
    assert (created.json()["version"], created.json()["dateReleased"]) == ("shop@3", None)
    assert upload(app, app.admin(), release="shop@3")["state"] == "ok"
    files = app.client.get(f"{project}/releases/shop@3/files/", headers=app.admin())
    assert files.status_code == 200, files.text
    minified = (FIXTURES / "app.min.js").read_bytes()
    script, source_map = files.json()
    assert (script["name"], script["headers"], script["size"], script["sha1"]) == (
        "~/assets/app.min.js",
        {"Sourcemap": "app.min.js.map"},
        len(minified),
        hashlib.sha1(minified).hexdigest(),
    )
    assert (source_map["name"], source_map["headers"]) == ("~/assets/app.min.js.map", {})
    none = app.client.get(f"{project}/releases/shop@9/files/", headers=app.admin())
    assert none.status_code == 404 and "shop@9" in none.json()["detail"]
    when = "2026-01-02T03:04:05.5Z"
    body = {"projects": ["default"], "dateReleased": when}
    done = app.client.put(f"{project}/releases/shop@3/", json=body, headers=app.admin())
    assert done.status_code == 200, done.text
    assert done.json()["dateReleased"] == "2026-01-02T03:04:05.500000Z"
    assert done.json()["dateCreated"] == created.json()["dateCreated"]
    missing = app.client.put(f"{project}/releases/shop@4/", json=body, headers=app.admin())
    assert missing.status_code == 404 and "shop@4" in missing.json()["detail"]
    elsewhere = "/api/0/projects/glasspane/nope/releases/"
    unknown = app.client.post(elsewhere, json={"version": "shop@3"}, headers=app.admin())
    assert unknown.status_code == 404 and "nope" in unknown.json()["detail"]
    bad = app.client.put(
        f"{project}/releases/shop@3/", json={"dateReleased": "next week"}, headers=app.admin()
    )
    assert bad.status_code == 400 and "dateReleased" in bad.text


@pytest.mark.parametrize("version", ["", "a/b", "latest", "x" * 201, "two\nlines"])
def test_a_bad_release_name_is_clear(app: App, version: str) -> None:
    body = {"version": version, "projects": ["default"]}
    answer = app.client.post(f"{ORG}/releases/", json=body, headers=app.admin())
    assert answer.status_code == 400 and "release" in answer.json()["detail"]


def test_errors_whose_frames_map_to_one_place_are_one_issue(app: App) -> None:
    """Served from two hosts (two minified URLs), found by debug id and by release:
    the frames differ as sent, the original frame is the same, so is the issue."""
    upload(app, app.admin())
    upload(app, app.admin(), release="shop@3.0")
    by_debug_id = browser_error()
    cdn = "https://cdn.example/assets/app.min.js"
    by_release = browser_error()
    by_release["release"], by_release["debug_meta"] = "shop@3.0", {}
    frames = by_release["exception"]["values"][0]["stacktrace"]["frames"]
    frames[0].update(filename=cdn, abs_path=cdn)
    unmapped = browser_error("0c5bd7f5-98a1-4bd6-8c4d-4ff5b4b7f0a1")
    unmapped["exception"]["values"][0]["stacktrace"]["frames"][0]["function"] = "q"
    issues = []
    for event in (by_debug_id, by_release, unmapped):
        sent = app.client.post(
            app.envelope_url(), content=envelope_bytes(event), headers=app.auth()
        )
        assert sent.status_code == 200, sent.text
        trace = app.trace(event["contexts"]["trace"]["trace_id"])
        issues.append(trace["errors"][0]["issue_id"])
    assert issues[0] == issues[1] != issues[2]


def test_the_uploads_of_a_project_are_listed(app: App) -> None:
    upload(app, app.admin())
    upload(app, app.admin(), release="shop@4.0")
    project_id = app.client.get("/api/v1/projects", headers=app.admin()).json()["projects"][0]["id"]
    listed = app.client.get(f"/api/v1/projects/{project_id}/sourcemaps", headers=app.admin())
    assert listed.status_code == 200, listed.text
    [bundle] = listed.json()["bundles"]
    sizes = {name: len((FIXTURES / name).read_bytes()) for name in ("app.min.js", "app.min.js.map")}
    assert bundle["debug_id"] == DEBUG_ID and bundle["size"] == sum(sizes.values())
    [release] = listed.json()["releases"]
    assert release["version"] == "shop@4.0"
    assert [(f["url"], f["size"], f["sourcemap"]) for f in release["files"]] == [
        ("~/assets/app.min.js", sizes["app.min.js"], "app.min.js.map"),
        ("~/assets/app.min.js.map", sizes["app.min.js.map"], None),
    ]
    missing = app.client.get("/api/v1/projects/999/sourcemaps", headers=app.admin())
    assert missing.status_code == 404


def test_the_trace_locates_a_javascript_error_in_its_original_source(app: App) -> None:
    upload(app, app.admin())
    event = browser_error()
    sent = app.client.post(app.envelope_url(), content=envelope_bytes(event), headers=app.auth())
    assert sent.status_code == 200, sent.text
    [error] = app.trace(event["contexts"]["trace"]["trace_id"])["errors"]
    assert error["location"] == {"file": "../src/app.js", "line": 11, "function": "checkoutCart"}
    assert error["raw_location"] == {"file": URL, "line": 3, "function": "c"}
