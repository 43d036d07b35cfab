"""`gim-etl report`: a self-contained HTML report, rendered in a real headless Chromium and checked pixel by pixel.

The test skips only when Chromium is missing outside CI; with the CI environment variable set it must run
(.ci/run installs Debian's chromium when it is absent).
"""

from __future__ import annotations

import os
import re
import struct
import zlib
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES, load_mart

from etl.bi.report import CHART_IDS, COLORS, render_report
from etl.bi.report.screenshot import chromium, screenshot
from etl.cli import main

WINDOW = (1200, 3000)  # tall enough for every chart (the tables follow them)


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return load_mart(tmp_path_factory, FIXTURES / "sample")


@pytest.fixture(scope="module")
def report(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bi_report_out") / "report.html"
    assert main(["report", "--db", str(sample_db), "--out", str(out)]) == 0
    return out


def read_png(path: Path) -> tuple[int, int, int, list[bytes]]:
    """Decode an 8-bit, non-interlaced RGB/RGBA PNG (what Chromium writes) into rows of pixel bytes."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    assert header is not None
    w, h, depth, ctype, _, _, interlace = header
    assert depth == 8 and ctype in (2, 6) and not interlace, header
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(b"".join(idat)), w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        start = y * (stride + 1)
        f, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev, strict=True))
        elif f == 3:
            for i in range(stride):
                line[i] = (line[i] + (((line[i - bpp] if i >= bpp else 0) + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a, b, c = (line[i - bpp] if i >= bpp else 0), prev[i], (prev[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def test_report_is_self_contained_html(report: Path) -> None:
    text = report.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script[^>]*\bsrc=|<link\b|<img\b|@import|url\(", text, re.I)
    assert set(re.findall(r"https?://[^\s\"'<>]+", text)) <= {"http://www.w3.org/2000/svg"}
    for chart in CHART_IDS:
        assert f'id="chart-{chart}"' in text
    for section in ("Quarantine", "Agents", "Queues", "Technical results", "CTL_AUDIT_LOG", "Media", "Abandonment"):
        assert section in text
    # the sample's four deliberately bad lines are summarised
    assert "unknown event name &#x27;EventTeleported&#x27;" in text
    assert text.count("fixtures/sample/events-003.jsonl") >= 4


def test_report_renders_on_a_read_only_mart_without_views(sample_db: Path) -> None:
    con = duckdb.connect(str(sample_db), read_only=True)
    try:
        html = render_report(con, title="t <&>")
    finally:
        con.close()
    assert "<title>t &lt;&amp;&gt;</title>" in html
    # every chart, the agent-state section's two included (the sample has agents' days)
    assert html.count("<svg") == len(CHART_IDS)
    assert "Agent states" in html


def test_report_command_refuses_a_missing_mart(tmp_path: Path) -> None:
    assert main(["report", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "r.html")]) == 2


def test_charts_are_drawn_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    if chromium() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs Debian's chromium)")
        pytest.skip("chromium not installed")
    png = tmp_path / "report.png"
    log = screenshot(report, png, WINDOW)
    assert png.exists(), f"no screenshot; chromium said:\n{log[-2000:]}"
    w, h, bpp, rows = read_png(png)
    assert (w, h) == WINDOW

    wanted = {_rgb(c): chart for chart, colors in COLORS.items() for c in colors}
    found: dict[tuple[int, int, int], list[int]] = {c: [0, w, h, -1, -1] for c in wanted}  # count, x0, y0, x1, y1
    for y, row in enumerate(rows):
        for x in range(0, w * bpp, bpp):
            px = (row[x], row[x + 1], row[x + 2])
            if px in found:
                f = found[px]
                f[0] += 1
                xx = x // bpp
                f[1], f[2], f[3], f[4] = min(f[1], xx), min(f[2], y), max(f[3], xx), max(f[4], y)

    regions = {}
    for chart in CHART_IDS:
        main_color = _rgb(COLORS[chart][0])
        count, x0, y0, x1, y1 = found[main_color]
        assert count >= 300, f"chart {chart}: only {count} pixels of its bar colour {COLORS[chart][0]}"
        for other in COLORS[chart][1:]:
            assert found[_rgb(other)][0] >= 20, f"chart {chart}: series colour {other} not drawn"
        # the chart region (the bounding box of its bars) is not blank: a fair share of it is ink, not background
        ink = sum(
            1
            for y in range(y0, y1 + 1)
            for x in range(x0 * bpp, (x1 + 1) * bpp, bpp)
            if rows[y][x : x + 3] != b"\xff\xff\xff"
        )
        area = (x1 - x0 + 1) * (y1 - y0 + 1)
        assert ink / area > 0.1, f"chart {chart}: region {x0},{y0}-{x1},{y1} is {ink / area:.0%} ink"
        regions[chart] = (x0, y0, x1, y1)
    # distinct regions: no two charts' bars overlap
    boxes = list(regions.values())
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1], (a, b)
