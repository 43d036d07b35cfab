"""DATE_TIME as GIM's calendar (https://docs.genesys.com/Documentation/GIM/latest/PDMPostgre/Table-DATE_TIME,
options on https://docs.genesys.com/Documentation/GIM/latest/User/GIMDateTime): pre-populated 15-minute rows
from the first day of the data to date-time-max-days-ahead days after its last, labels in date-time-tz."""

from __future__ import annotations

from pathlib import Path

import duckdb

from etl.domain.options import GimOptions
from etl.pipeline.load import load_files
from etl.simulate.golden import flow_events
from etl.simulate.scenario import Scenario
from etl.storage.fact_rows import ACTIVE_END_TS

DAY = 86400
MAR2 = 1772409600  # 2026-03-02 00:00 UTC, the day of the golden flows


def _load(
    tmp_path: Path, options: list[str], flows: tuple[str, ...] = ("routed_and_replies",), start: str = ""
) -> Path:
    events = tmp_path / "events"
    events.mkdir(exist_ok=True)
    evs = [e for f in flows for e in flow_events(f, start=start or "2026-03-02T09:00:00.000Z")]
    Scenario().write_ndjson(events / f"e{len(list(events.iterdir()))}.jsonl", evs)
    db = tmp_path / "m.duckdb"
    load_files([events], db, GimOptions.load(None, options))
    return db


def _sql(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


def test_prepopulated_every_interval_with_days_ahead(tmp_path: Path) -> None:
    db = _load(tmp_path, ["date-time-max-days-ahead=10"])
    (lo, hi, n, gaps) = _sql(
        db,
        f"""SELECT min(DATE_TIME_KEY), max(DATE_TIME_KEY), count(*),
                   count(*) FILTER (WHERE DATE_TIME_NEXT_KEY <> DATE_TIME_KEY + 900)
            FROM DATE_TIME WHERE DATE_TIME_KEY <> {ACTIVE_END_TS}""",
    )[0]
    assert (lo, hi) == (MAR2, MAR2 + 11 * DAY - 900)  # the data's day plus 10 days ahead, every 15 minutes
    assert n == 11 * 96 and gaps == 0
    assert _sql(db, f"SELECT count(*) FROM DATE_TIME WHERE DATE_TIME_KEY = {ACTIVE_END_TS}") == [(1,)]


def test_gim_label_columns_in_utc_by_default(tmp_path: Path) -> None:
    db = _load(tmp_path, ["date-time-max-days-ahead=1"])
    row = _sql(
        db,
        f"""SELECT LABEL_YYYY_MM_DD_HH, LABEL_HH24, LABEL_TZ, CAL_MONTH_NAME, CAL_QUARTER_NUM_IN_YEAR,
                   CAL_WEEK_NUM_IN_YEAR, CAL_DAY_NAME, CAL_DAY_NUM_IN_WEEK, CAL_DAY_NUM_IN_YEAR, DATE_TIME_HOUR_KEY,
                   DATE_TIME_DAY_KEY, DATE_TIME_MONTH_KEY
            FROM DATE_TIME WHERE DATE_TIME_KEY = {MAR2 + 9 * 3600 + 1800}""",
    )
    # Monday 2 March 2026, 09:30 UTC: week 10 with weeks starting on Sunday (1 January 2026 was a Thursday).
    assert row == [("2026-03-02 09", "09", "GMT", "March", 1, 10, "Monday", 2, 61, MAR2 + 9 * 3600, MAR2, 1772323200)]


def test_labels_in_the_configured_time_zone(tmp_path: Path) -> None:
    """date-time-tz=Europe/Paris: 09:00 UTC is 10:00 in Paris on 2 March (UTC+1); on 29 March 2026 Paris moves to
    summer time, so that day has 23 hours and its day key is 28 March 23:00 UTC."""
    db = _load(tmp_path, ["date-time-tz=Europe/Paris", "date-time-max-days-ahead=30"])
    assert _sql(
        db,
        "SELECT LABEL_YYYY_MM_DD_HH, LABEL_HH24, UTC_LABEL_YYYY_MM_DD_HH24 FROM DATE_TIME"
        f" WHERE DATE_TIME_KEY = {MAR2 + 9 * 3600}",
    ) == [("2026-03-02 10", "10", "2026-03-02 09")]
    mar29 = MAR2 + 27 * DAY
    assert _sql(
        db,
        """SELECT DATE_TIME_DAY_KEY, count(*) FROM DATE_TIME WHERE CAL_DATE_LOCAL = '2026-03-29' GROUP BY 1""",
    ) == [(mar29 - 3600, 92)]
    assert _sql(db, f"SELECT LABEL_HH24 FROM DATE_TIME WHERE DATE_TIME_KEY = {mar29 + 3600}") == [("03",)]
    # a new date-time-tz rebuilds the labels of the rows already there
    load_files([tmp_path / "events"], tmp_path / "m.duckdb", GimOptions.load(None, ["date-time-tz=America/New_York"]))
    assert _sql(db, f"SELECT LABEL_HH24, LABEL_TZ FROM DATE_TIME WHERE DATE_TIME_KEY = {MAR2 + 9 * 3600}") == [
        ("04", "America/New_York")
    ]


def test_extended_when_fewer_than_min_days_ahead_remain(tmp_path: Path) -> None:
    opts = ["date-time-max-days-ahead=20", "date-time-min-days-ahead=10"]
    db = _load(tmp_path, opts)
    assert _sql(db, f"SELECT max(DATE_TIME_KEY) FROM DATE_TIME WHERE DATE_TIME_KEY <> {ACTIVE_END_TS}") == [
        (MAR2 + 21 * DAY - 900,)
    ]
    db = _load(tmp_path, opts, ("direct_transfer",), start="2026-03-07T09:00:00.000Z")  # 16 days left: no change
    assert _sql(db, f"SELECT max(DATE_TIME_KEY) FROM DATE_TIME WHERE DATE_TIME_KEY <> {ACTIVE_END_TS}") == [
        (MAR2 + 21 * DAY - 900,)
    ]
    db = _load(tmp_path, opts, ("consult_blocking",), start="2026-03-15T09:00:00.000Z")  # 8 days left: extended
    (lo, hi, n) = _sql(
        db,
        "SELECT min(DATE_TIME_KEY), max(DATE_TIME_KEY), count(*) FROM DATE_TIME"
        f" WHERE DATE_TIME_KEY <> {ACTIVE_END_TS}",
    )[0]
    assert (lo, hi) == (MAR2, MAR2 + 13 * DAY + 21 * DAY - 900) and n == (13 + 21) * 96
