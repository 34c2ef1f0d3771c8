"""Source maps stay bounded: parsed maps by the bytes of their files, uploads by the retention."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from glasspane.sourcemaps.bundles import BundleStore
from glasspane.sourcemaps.mapping import SourceMapper
from glasspane.sourcemaps.retention import BundleSweep

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sourcemaps"
IDS = ["a73eea61-e355-536c-9ef7-f7bb1052f798", "0c5bd7f5-98a1-4bd6-8c4d-4ff5b4b7f0a1"]
BUNDLE_BYTES = sum((FIXTURES / n).stat().st_size for n in ("app.min.js", "app.min.js.map"))


def _bundles(root: Path) -> BundleStore:
    folder = root / "1"
    folder.mkdir(parents=True)
    for debug in IDS:
        shutil.copy(FIXTURES / "app.min.js", folder / f"{debug}.js")
        shutil.copy(FIXTURES / "app.min.js.map", folder / f"{debug}.map")
    return BundleStore(root, 1 << 20, 1 << 20)


def _crash(mapper: SourceMapper, debug: str) -> tuple[object, object]:
    frame = {"debug_id": debug, "lineno": 3, "colno": 103, "function": "c"}
    mapped = mapper.map_frame(1, frame)
    return mapped["function"], mapped["lineno"]


def test_parsed_maps_are_kept_within_the_byte_bound(tmp_path: Path) -> None:
    mapper = SourceMapper(_bundles(tmp_path), cache_bytes=BUNDLE_BYTES + 10)
    for debug in IDS + IDS:
        assert _crash(mapper, debug) == ("checkoutCart", 11)
        assert mapper.cached_bytes == BUNDLE_BYTES  # one kept, the older let go


def test_a_map_larger_than_the_bound_is_used_but_not_kept(tmp_path: Path) -> None:
    mapper = SourceMapper(_bundles(tmp_path), cache_bytes=BUNDLE_BYTES - 1)
    assert _crash(mapper, IDS[0]) == ("checkoutCart", 11)
    assert mapper.cached_bytes == 0


def test_uploads_older_than_the_retention_are_removed(tmp_path: Path) -> None:
    bundles = _bundles(tmp_path)
    month_ago = time.time() - 31 * 86400
    for suffix in ("js", "map"):
        os.utime(tmp_path / "1" / f"{IDS[0]}.{suffix}", (month_ago, month_ago))
    bundles.releases.keep(1, "shop@1", [("~/app.js", {"type": "minified_source"}, b"var a;")])
    sweep = BundleSweep(bundles, days=30)
    try:
        sweep.run_once()  # (its thread may have run first: the count is then 0)
        assert [b.debug_id for b in bundles.bundles(1)] == [IDS[1]]
        assert [r.version for r in bundles.releases.releases(1)] == ["shop@1"]
        assert sweep.run_once(now=time.time() + 31 * 86400) == 2
        assert bundles.bundles(1) == [] and bundles.releases.releases(1) == []
    finally:
        sweep.stop()
