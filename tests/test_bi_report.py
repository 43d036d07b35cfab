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
from conftest import FIXTURES, load_mart, sample_abandons

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


# --- what an ops manager reads: durations, definitions, top-N, time axes, period, media, abandonment ----------------


def _section(text: str, start: str, end: str = "</table>") -> str:
    assert start in text, start
    return text.split(start, 1)[1].split(end, 1)[0]


def _rows(table_html: str) -> list[list[str]]:
    return [re.findall(r"<td[^>]*>(.*?)</td>", tr) for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table_html)[1:]]


def test_durations_are_h_mm_ss_and_every_measure_is_defined(report: Path, sample_db: Path) -> None:
    text = report.read_text(encoding="utf-8")
    con = duckdb.connect(str(sample_db), read_only=True)
    handle, handled = con.execute("SELECT SUM(HANDLE_TIME), SUM(HANDLED) FROM AG2_AGENT_IRF").fetchone()
    con.close()
    h, rest = divmod(round(handle / handled), 3600)
    assert f"<b>{h}:{rest // 60:02d}:{rest % 60:02d}</b>avg handle time" in text  # the KPI, as h:mm:ss
    assert " s<" not in text and "avg handle s" not in text  # no raw seconds left
    agents = _rows(_section(text, "<h2>Agents (top 15 of 40 by handled)</h2>"))
    assert all(re.fullmatch(r"\d+:\d\d:\d\d", r[6]) for r in agents), agents[:2]
    chart = _section(text, 'id="chart-agents"', "</figure>")
    assert re.search(r"<title>agent\d+, avg handle time: \d+:\d\d:\d\d</title>", chart)
    # a definition beside each measure, and why handled can exceed offered
    for term in ("entered", "offered", "accepted", "handled", "replies", "handle time", "mediation time", "abandoned"):
        assert f"<dt>{term}</dt>" in text, term
    assert "so handled can exceed offered" in text
    assert text.count('<dl class="defs">') >= 7


def test_tables_show_the_top_15_and_fold_the_rest_into_one_others_row(report: Path, sample_db: Path) -> None:
    text = report.read_text(encoding="utf-8")
    rows = _rows(_section(text, "<h2>Agents (top 15 of 40 by handled)</h2>"))
    assert len(rows) == 16 and rows[-1][0] == "others (25)"
    assert "<tr class=others><td>others (25)</td>" in text
    con = duckdb.connect(str(sample_db), read_only=True)
    offered, handled = con.execute("SELECT SUM(OFFERED), SUM(HANDLED) FROM AG2_AGENT_IRF").fetchone()
    by_agent = con.execute("SELECT SUM(HANDLED) h FROM AG2_AGENT_IRF GROUP BY AGENT_NAME ORDER BY h DESC").fetchall()
    con.close()
    assert sum(int(r[1].replace(",", "")) for r in rows) == offered  # nothing lost in the fold
    assert sum(int(r[3].replace(",", "")) for r in rows) == handled
    assert int(rows[-1][3]) == sum(h for (h,) in by_agent[15:])
    # the login table of the agent-state section folds too: 30 agent x media rows, longest login first
    con = duckdb.connect(str(sample_db), read_only=True)
    pairs = con.execute(
        "SELECT SUM(LOGIN_TIME) s FROM AG2_AGENT_STATE_DAY GROUP BY AGENT_NAME, MEDIA_NAME HAVING s > 0 ORDER BY s DESC"
    ).fetchall()
    con.close()
    login = _rows(_section(text, "<h2>Login time by agent and media</h2>"))
    assert len(login) == 31 and login[-1][0] == f"others ({len(pairs) - 30})" and login[-1][1] == "-"
    h, rest = divmod(pairs[0][0], 3600)
    assert login[0][2] == f"{h}:{rest // 60:02d}:{rest % 60:02d}"


def test_a_day_chart_says_its_day_and_labels_are_whole(report: Path) -> None:
    text = report.read_text(encoding="utf-8")
    volumes = _section(text, 'id="chart-volumes"', "</figure>")
    assert volumes.count('class="day">Mon 2026-03-02</text>') == 1  # the date under the first interval
    assert ">07:00</text>" in volumes and ">12:00</text>" in volumes and ">UTC</text>" in volumes
    assert "<title>Mon 2026-03-02 09:30–09:45 UTC, offered to agents: " in volumes
    results = _section(text, 'id="chart-results"', "</figure>")
    assert ">ReceivedTransfer / Redirected [Revoked]</tspan>" in results  # not cut to fit


def test_long_labels_wrap_onto_two_lines_with_the_full_text_as_tooltip() -> None:
    from etl.bi.report.svg import Series, hbar_chart

    name = "Inbound e-mail, premium customers / escalations from the web form (EMEA)"
    svg = hbar_chart("x", "t", [name], [Series("n", "#000000", [3.0])])
    spans = re.findall(r"<tspan[^>]*>(.*?)</tspan>", svg)
    assert len(spans) == 2 and spans[0] + " " + spans[1].rstrip("…") in name  # two lines, cut only with an ellipsis
    assert f"<title>{name}</title>" in svg.replace("&#x27;", "'")


@pytest.fixture(scope="module")
def three_days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three simulated days (generator + CLI), for time axes that cross midnight and for the period selector."""
    root = tmp_path_factory.mktemp("three_days")
    gen = ["generate", "--out", str(root / "ev"), "--days", "3", "--interactions-per-day", "20"]
    assert main([*gen, "--agents", "4", "--queues", "1", "--vqs", "1", "--files", "1", "--agent-states"]) == 0
    return load_mart(tmp_path_factory, root / "ev")


def test_multi_day_charts_have_dates_on_the_axis_and_the_period_selects_days(three_days: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.html"
    assert main(["report", "--db", str(three_days), "--out", str(out)]) == 0
    volumes = _section(out.read_text(encoding="utf-8"), 'id="chart-volumes"', "</figure>")
    assert "Volumes by hour (UTC)" in volumes
    days = re.findall(r'class="day">([^<]+)<', volumes)
    assert days == ["Mon 2026-03-02", "Tue 2026-03-03", "Wed 2026-03-04"]
    assert volumes.count('class="daysep"') == 2  # a line at each midnight
    one = tmp_path / "tue.html"
    assert (
        main(["report", "--db", str(three_days), "--out", str(one), "--from", "2026-03-03", "--to", "2026-03-03"]) == 0
    )
    text = one.read_text(encoding="utf-8")
    assert "Period: <b>2026-03-03 (UTC)</b>" in text
    tue = _section(text, 'id="chart-volumes"', "</figure>")
    assert "Volumes by 15-minute interval" in tue and re.findall(r'class="day">([^<]+)<', tue) == ["Tue 2026-03-03"]
    con = duckdb.connect(str(three_days), read_only=True)
    (n,) = con.execute("SELECT COUNT(*) FROM INTERACTION_FACT WHERE START_TS // 86400 = 1772496000 // 86400").fetchone()
    con.close()
    assert f"<b>{n}</b>interactions" in text  # the headline counts only that day


def test_report_period_arguments(sample_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.html"
    base = ["report", "--db", str(sample_db), "--out", str(out)]
    assert main([*base, "--from", "2026-04-01", "--to", "2026-04-07"]) == 0
    said = capsys.readouterr().out
    assert "no data in 2026-04-01 to 2026-04-07" in said and "the mart holds 2026-03-02 to 2026-03-02" in said
    text = out.read_text(encoding="utf-8")
    assert "No interactions and no agent logins in 2026-04-01 to 2026-04-07" in text
    assert "no data in this period" in text and "<b>0</b>interactions" in text
    for bad, message in (
        (["--from", "2026-02-30"], "error: --from '2026-02-30' is not a day (YYYY-MM-DD)"),
        (["--to", "yesterday"], "error: --to 'yesterday' is not a day (YYYY-MM-DD)"),
        (["--from", "2026-03-03", "--to", "2026-03-02"], "error: --from 2026-03-03 is after --to 2026-03-02"),
    ):
        out.unlink(missing_ok=True)
        assert main([*base, *bad]) == 2
        assert capsys.readouterr().out.strip() == message
        assert not out.exists()
    assert main([*base, "--from", "2026-03-02"]) == 0  # open-ended: from that day on
    assert "Period: <b>2026-03-02 to … (UTC, both included)</b>" in out.read_text(encoding="utf-8")


def test_chat_and_workitems_appear_in_the_media_split(report: Path) -> None:
    text = report.read_text(encoding="utf-8")
    media = {r[0]: r for r in _rows(_section(text, "<h2>Media</h2>"))}
    abandoned, _, chats = sample_abandons()
    assert list(media) == ["Email", "Chat", "Workitem"]
    assert abandoned > 0 and (media["Chat"][1], media["Chat"][7]) == (str(chats), str(abandoned))
    assert media["Email"][7] == media["Workitem"][7] == "0"  # offline media are never abandoned


def test_abandonment_is_read_from_the_descriptors(report: Path) -> None:
    text = report.read_text(encoding="utf-8")
    abandoned, ringing, _ = sample_abandons()
    stages = _rows(_section(text, "<h2>Abandonment</h2>"))
    by = {(r[0], r[1], r[2]): int(r[4]) for r in stages}  # distinct interactions per media, stage, descriptor
    assert {k[0] for k in by} == {"Chat"}
    # In queue: the MSFs Abandoned [AbandonedWhileQueued]; while ringing: the agent's IRF CustomerAbandoned.
    assert by[("Chat", "in queue", "Abandoned [AbandonedWhileQueued]")] == abandoned - ringing
    assert by[("Chat", "while ringing", "CustomerAbandoned [AbandonedWhileRinging]")] == ringing > 0
    assert f"<b>{abandoned}</b>abandoned" in text


@pytest.fixture(scope="module")
def doctored(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The sample mart with hostile resource names."""
    db = tmp_path_factory.mktemp("doctored") / "m.duckdb"
    db.write_bytes(sample_db.read_bytes())
    con = duckdb.connect(str(db))
    con.execute("UPDATE RESOURCE_ SET RESOURCE_NAME = '<script>alert(1)</script>' WHERE RESOURCE_NAME = 'agent015'")
    con.execute(
        "UPDATE RESOURCE_ SET RESOURCE_NAME = '\"><img src=x onerror=alert(2)>' WHERE RESOURCE_NAME = 'Inbound2'"
    )
    con.close()
    con = duckdb.connect(str(db), read_only=True)
    try:
        return render_report(con, period=None)
    finally:
        con.close()


def test_hostile_names_are_escaped_everywhere(doctored: str) -> None:
    assert "<script" not in doctored and "<img" not in doctored
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in doctored
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in doctored


def test_the_serving_copy_is_in_the_storage_format_the_readme_promises(sample_db: Path) -> None:
    con = duckdb.connect()
    try:
        con.execute("ATTACH ? AS s (READ_ONLY)", [str(sample_db.with_suffix(".serving.duckdb"))])
        (tags,) = con.execute("SELECT tags FROM duckdb_databases() WHERE database_name = 's'").fetchone()
    finally:
        con.close()
    assert tags["storage_version"] == "v1.4.0+"  # readable by DuckDB >= 1.4.0 (README, BI tools)
