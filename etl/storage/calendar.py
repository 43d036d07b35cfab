"""DATE_TIME as GIM's calendar: every 15-minute interval from the first day of the data to date-time-max-days-ahead
days after its last, labels in date-time-tz.

GIM: "The table is first populated for a configurable time period ... and is subsequently populated for the next
time period as part of maintenance. Configuration of a time zone and week-numbering rules affect the data
population" (https://docs.genesys.com/Documentation/GIM/latest/PDMPostgre/Table-DATE_TIME); date-time-max-days-ahead
(default 366) says how far ahead it is populated and date-time-min-days-ahead (default 183) when the next batch is
added (https://docs.genesys.com/Documentation/GIM/latest/User/GIMDateTime). GIM counts "ahead" from the maintenance
job's clock; we count it from the last day of the data, so that a load's calendar does not depend on when it runs.
Weeks use GIM's default "simple week numbering": weeks begin on Sunday, week 1 is the one holding 1 January.
Rows whose labels were made for another date-time-tz (or by an older schema, LABEL_TZ empty) are rebuilt.
"""

from __future__ import annotations

import duckdb
import polars as pl

from etl.domain.options import GimOptions
from etl.storage.writes import run_with

DAY = 86400
INTERVAL = 900

_COLUMNS = (
    "DATE_TIME_KEY, CAL_DATE, LABEL_YYYY, LABEL_YYYY_MM, LABEL_YYYY_MM_DD, LABEL_YYYY_MM_DD_HH24,"
    " LABEL_YYYY_MM_DD_HH24_MI, CAL_YEAR, CAL_MONTH, CAL_DAY_OF_MONTH, CAL_HOUR_24, CAL_MINUTE,"
    " LABEL_YYYY_MM_DD_HH, LABEL_HH24, LABEL_TZ, CAL_MONTH_NAME, CAL_QUARTER_NUM_IN_YEAR, CAL_WEEK_NUM_IN_YEAR,"
    " CAL_DAY_NAME, CAL_DAY_NUM_IN_WEEK, CAL_DAY_NUM_IN_YEAR, CAL_DATE_LOCAL, DATE_TIME_NEXT_KEY, DATE_TIME_HOUR_KEY,"
    " DATE_TIME_DAY_KEY, DATE_TIME_MONTH_KEY, UTC_LABEL_YYYY_MM_DD_HH24, UTC_LABEL_YYYY_MM_DD"
)

#: One row per key `k` of `_keys`, `t` its local time in `tz` (the query's parameter), `u` its UTC time.
_SELECT = """
SELECT k, u, strftime(t, '%Y'), strftime(t, '%Y-%m'), strftime(t, '%Y-%m-%d'), strftime(t, '%Y-%m-%d %H'),
       strftime(t, '%Y-%m-%d %H:%M'), year(t), month(t), day(t), hour(t), minute(t),
       strftime(t, '%Y-%m-%d %H'), strftime(t, '%H'), tz, monthname(t), quarter(t),
       ((dayofyear(t) - 1 + dayofweek(date_trunc('year', t))) // 7) + 1,
       dayname(t), dayofweek(t) + 1, dayofyear(t), strftime(t, '%Y-%m-%d'), k + 900,
       epoch(timezone(tz, date_trunc('hour', t)))::BIGINT, epoch(timezone(tz, date_trunc('day', t)))::BIGINT,
       epoch(timezone(tz, date_trunc('month', t)))::BIGINT, strftime(u, '%Y-%m-%d %H'), strftime(u, '%Y-%m-%d')
FROM (SELECT k, tz, make_timestamp(k * 1000000) AS u, timezone(tz, to_timestamp(k)) AS t
      FROM (SELECT DISTINCT k FROM _keys) s, (SELECT ?::VARCHAR AS tz) z) n
WHERE NOT EXISTS (SELECT 1 FROM DATE_TIME d WHERE d.DATE_TIME_KEY = n.k)
"""


def insert_intervals(con: duckdb.DuckDBPyConnection, keys: pl.Series | list[int], tz: str = "GMT") -> None:
    """DATE_TIME rows for `keys` (15-minute interval starts, UTC epoch seconds) that are not there yet."""
    frame = pl.DataFrame({"k": keys}, schema={"k": pl.Int64})
    if frame.height:
        run_with(con, f"INSERT INTO DATE_TIME ({_COLUMNS}) {_SELECT}", [tz], _keys=frame)


def ensure_calendar(con: duckdb.DuckDBPyConnection, keys: list[int], options: GimOptions, sentinel: int) -> None:
    """The calendar covers `keys` (the facts' DATE_TIME keys) and every interval from the first day of the data
    to `date-time-max-days-ahead` days after its last; it is extended when fewer than `date-time-min-days-ahead`
    days remain after the last day of the data."""
    tz = options.date_time_tz
    con.execute("DELETE FROM DATE_TIME WHERE LABEL_TZ IS DISTINCT FROM ?", [tz]).fetchall()
    data = [k for k in keys if k != sentinel]
    (lo, hi, first, last) = con.execute(
        "SELECT (SELECT min(DATE_TIME_KEY) FROM DATE_TIME WHERE DATE_TIME_KEY <> $s),"
        " (SELECT max(DATE_TIME_KEY) FROM DATE_TIME WHERE DATE_TIME_KEY <> $s),"
        " (SELECT min(START_DATE_TIME_KEY) FROM INTERACTION_FACT),"
        " (SELECT max(START_DATE_TIME_KEY) FROM INTERACTION_FACT)",
        {"s": sentinel},
    ).fetchall()[0]
    seen = [v for v in (*data, first, last) if v is not None]
    if seen:
        first_day, last_day = min(seen) // DAY * DAY, max(seen) // DAY * DAY
        start = first_day if lo is None else min(first_day, lo)
        end = hi if hi is not None else first_day
        if end < last_day + options.date_time_min_days_ahead * DAY or lo is None or start < lo:
            end = max(end, last_day + (options.date_time_max_days_ahead + 1) * DAY - INTERVAL)
        fill = pl.int_range(start, end + INTERVAL, INTERVAL, dtype=pl.Int64, eager=True)
        if lo is not None:  # only what is missing: before the range, after it
            fill = fill.filter((fill < lo) | (fill > hi))
        insert_intervals(con, fill, tz)
    insert_intervals(con, [*keys, sentinel], tz)
