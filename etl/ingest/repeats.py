"""Repeated event ids within one staged batch: a repeated delivery (same id, same payload) is a counted duplicate;
the same id with a different payload is a conflict, and every copy of it is quarantined with all its locations.

The contract (../shared/contract/events.md) calls a second event with the same id "a duplicate delivery" that is
ignored; two sources numbering their events alike would then lose one source silently, and which one depended on
the order of the file names. A conflict is never resolved by choosing a copy: both are quarantined and counted
(CTL_AUDIT_LOG.EVENTS_CONFLICT).

Payloads are compared on the normalized event (`columns.EVENT_SCHEMA` without lineage), with `user_data` as
minified JSON, so key order inside the event, whitespace and the parser path taken do not make a conflict.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from etl.connections import connect
from etl.ingest.columns import EVENT_COLUMNS, LINEAGE_COLUMNS

#: The columns that say what an event is (everything but where it came from).
PAYLOAD_COLUMNS: tuple[str, ...] = tuple(c for c in EVENT_COLUMNS if c not in LINEAGE_COLUMNS)

#: Locations listed in a conflict's reason (the count is always given).
_SHOWN = 5


def payload_struct(alias: str = "", upper: bool = False) -> str:
    """A DuckDB struct of an event's payload columns (of table alias `alias`); equal structs = same payload."""
    prefix = f"{alias}." if alias else ""

    def col(c: str) -> str:
        ref = prefix + (c.upper() if upper else c)
        return f"json({ref})::VARCHAR" if c == "user_data" else ref

    return "{" + ", ".join(f"'{c}': {col(c)}" for c in PAYLOAD_COLUMNS) + "}"


def raw_json(alias: str = "", upper: bool = False) -> str:
    """The normalized event as JSON text (null fields left out): the RAW of a quarantined stored event."""
    return f"to_json({payload_struct(alias, upper)})"


def split_repeats(events_path: Path, repeats_path: Path, run_id: str) -> tuple[int, pl.DataFrame]:
    """Write the (file, line) of each row to leave out of the batch to `repeats_path` (repeated deliveries after
    the first in (file, line) order, and every copy of a conflicting id). Returns (duplicates, conflict rows in
    the quarantine's shape)."""
    con = connect()
    try:
        con.execute(  # only the rows whose id repeats (few): the batch itself is never copied
            "CREATE TEMP TABLE ev AS SELECT * FROM read_parquet($p) WHERE event_id IN"
            " (SELECT event_id FROM read_parquet($p) GROUP BY ALL HAVING count(*) > 1)",
            {"p": str(events_path)},
        )
        con.execute(
            f"CREATE TEMP TABLE rep AS SELECT event_id, count(*) AS n, count(DISTINCT {payload_struct()}) AS k"
            " FROM ev GROUP BY ALL"
        )
        con.execute(
            "CREATE TEMP TABLE drop_rows AS SELECT _file, source_line FROM ("
            " SELECT e._file, e.source_line, r.k,"
            "  row_number() OVER (PARTITION BY e.event_id ORDER BY e._file, e.source_line) AS i"
            " FROM ev e JOIN rep r USING (event_id)) WHERE k > 1 OR i > 1"
        )
        duplicates = con.execute("SELECT coalesce(sum(n - 1), 0) FROM rep WHERE k = 1").fetchall()[0][0]
        conflicts = con.sql(
            f"""SELECT e._file, e.source_file AS SOURCE_FILE, e.source_line AS SOURCE_LINE, 'event_id' AS FIELD,
                   {raw_json("e")}::VARCHAR AS RAW, e.event_id AS EVENT_ID,
                   list(o.source_file || ':' || o.source_line ORDER BY o._file, o.source_line) AS others
            FROM ev e JOIN rep r USING (event_id) JOIN ev o ON o.event_id = e.event_id
                 AND (o._file, o.source_line) <> (e._file, e.source_line)
            WHERE r.k > 1 GROUP BY ALL ORDER BY e._file, e.source_line"""
        ).pl()
        con.table("drop_rows").write_parquet(str(repeats_path))  # (the relation API: no path in SQL text)
    finally:
        con.close()
    return int(duplicates), conflict_rows(conflicts, run_id)


def conflict_rows(frame: pl.DataFrame, run_id: str) -> pl.DataFrame:
    """Quarantine rows of conflicting copies: `others` (list of "file:line") becomes the reason."""
    if not frame.height:
        return pl.DataFrame(
            schema={
                "SOURCE_FILE": pl.String,
                "SOURCE_LINE": pl.Int64,
                "FIELD": pl.String,
                "RAW": pl.String,
                "REASON": pl.String,
                "RUN_ID": pl.String,
                "EVENT_ID": pl.String,
            }
        )
    reason = pl.concat_str(
        pl.lit("conflicting event_id: the same id with a different payload at "),
        pl.col("others").list.head(_SHOWN).list.join(", "),
        pl.when(pl.col("others").list.len() > _SHOWN)
        .then(pl.format(" and {} more", pl.col("others").list.len() - _SHOWN))
        .otherwise(pl.lit("")),
        pl.lit(" (no copy loaded)"),
    )
    return frame.select(
        pl.col("SOURCE_FILE").cast(pl.String),
        pl.col("SOURCE_LINE").cast(pl.Int64),
        pl.col("FIELD").cast(pl.String),
        pl.col("RAW").cast(pl.String),
        reason.alias("REASON"),
        pl.lit(run_id, pl.String).alias("RUN_ID"),
        pl.col("EVENT_ID").cast(pl.String),
    )
