"""The user-data tables of one slice: IRF_USER_DATA_GEN_1, IRF_USER_DATA_CUST_1, the dimension rows of
INTERACTION_DESCRIPTOR and USER_DATA_CUST_DIM_1 (one per combination of values, added as they appear), the
IRF_USER_DATA_KEYS bridge, and STG_USER_DATA_REJECT for values not stored as mapped.

GIM writes one row per IRF in each extension table
(https://docs.genesys.com/Documentation/GIM/latest/PDMPostgre/Table-IRF_USER_DATA_KEYS); an IRF without any of a
dimension's KVPs points at that dimension's no-value row, key -1 (written by `bootstrap.ensure_schema`).
"""

from __future__ import annotations

import duckdb
import polars as pl

from etl.domain.user_data import CUST_DIM_TABLE, CUST_TABLE, DESCRIPTOR_TABLE, GEN_TABLE, TARGETS
from etl.storage.ddl import table_columns
from etl.storage.keys import keyed
from etl.storage.writes import run_with

#: Dimension table -> (its key column, the IRF_USER_DATA_KEYS column that points at it).
DIMENSIONS = {
    DESCRIPTOR_TABLE: ("INTERACTION_DESCRIPTOR_KEY", "INTERACTION_DESCRIPTOR_KEY"),
    CUST_DIM_TABLE: ("ID", "CUSTOM_KEY_1"),
}
#: The no-value key of every user-data dimension.
NO_VALUE = -1


def user_data_rows(
    con: duckdb.DuckDBPyConnection, facts: object, irf_out: pl.DataFrame, audit_key: int
) -> dict[str, pl.DataFrame]:
    """Rows per user-data table for the IRFs of `irf_out` (whose natural keys and ids it carries)."""
    data: pl.DataFrame = facts.user_data  # type: ignore[attr-defined]
    rejects: pl.DataFrame = facts.user_data_rejects  # type: ignore[attr-defined]
    base = irf_out.select(
        "natural_key", "INTERACTION_RESOURCE_ID", "START_DATE_TIME_KEY", "TENANT_KEY", "INTERACTION_ID"
    )
    if data.height:
        base = base.join(data.drop("interaction_guid"), on="natural_key", how="left")
    audit = {"CREATE_AUDIT_KEY": pl.lit(audit_key, pl.Int64), "UPDATE_AUDIT_KEY": pl.lit(audit_key, pl.Int64)}
    out: dict[str, pl.DataFrame] = {}
    for table in (GEN_TABLE, CUST_TABLE):
        values = {c: _value(base, f"{table}.{c}", table, c) for c in TARGETS[table]}
        out[table] = base.with_columns(**values, **audit, PRODUCER_BATCH_ID=pl.lit(None, pl.Int64))
    keys = base.with_columns(**audit)
    for table, (key_col, bridge_col) in DIMENSIONS.items():
        keys = keys.with_columns(_dimension_keys(con, base, table, key_col, audit_key).alias(bridge_col))
    out["IRF_USER_DATA_KEYS"] = keys
    out["STG_USER_DATA_REJECT"] = _rejects(rejects, irf_out, audit_key)
    return {t: f.select(table_columns(t)) for t, f in out.items()}


def _value(frame: pl.DataFrame, name: str, table: str, column: str) -> pl.Expr:
    kind = TARGETS[table][column][0]
    if name in frame.columns:
        return pl.col(name)
    return pl.lit(None, pl.Float64 if kind == "number" else pl.String)


def _dimension_keys(
    con: duckdb.DuckDBPyConnection, base: pl.DataFrame, table: str, key_col: str, audit_key: int
) -> pl.Series:
    """The dimension key of each row of `base`: the row of its combination of values, added when new."""
    columns = list(TARGETS[table])
    values = base.select(pl.col("TENANT_KEY"), *(_value(base, f"{table}.{c}", table, c).alias(c) for c in columns))
    empty = pl.all_horizontal(pl.col(c).is_null() for c in columns)
    nk = pl.concat_str(
        [pl.col("TENANT_KEY").cast(pl.String), *(pl.col(c).fill_null("\u2400") for c in columns)], separator="\x1f"
    )
    values = values.with_columns(_nk=pl.when(empty).then(None).otherwise(nk))
    combos = values.filter(pl.col("_nk").is_not_null()).unique("_nk", maintain_order=True)
    if combos.height:
        combos = keyed(con, combos, "_nk", table, key_col)
        cols = ", ".join(["TENANT_KEY", key_col, *columns])
        run_with(
            con,
            f"INSERT INTO {table} ({cols}, CREATE_AUDIT_KEY, UPDATE_AUDIT_KEY) SELECT {cols}, ?, ? FROM _d"
            f" WHERE {key_col} NOT IN (SELECT {key_col} FROM {table})",
            [audit_key, audit_key],
            _d=combos.select("TENANT_KEY", key_col, *columns),
        )
        values = values.join(combos.select("_nk", key_col), on="_nk", how="left", maintain_order="left")
    else:
        values = values.with_columns(pl.lit(None, pl.Int32).alias(key_col))
    return values.get_column(key_col).fill_null(NO_VALUE).cast(pl.Int32)


def _rejects(rejects: pl.DataFrame, irf_out: pl.DataFrame, audit_key: int) -> pl.DataFrame:
    if not rejects.height:
        return pl.DataFrame(schema={c: pl.String for c in table_columns("STG_USER_DATA_REJECT")})
    return rejects.join(
        irf_out.select("natural_key", "INTERACTION_ID", "INTERACTION_RESOURCE_ID"), on="natural_key"
    ).select(
        "INTERACTION_ID",
        "INTERACTION_RESOURCE_ID",
        MEDIA_SERVER_IXN_GUID="interaction_guid",
        KEY_NAME="key_name",
        TARGET="target",
        RAW_VALUE="raw_value",
        REASON="reason",
        CREATE_AUDIT_KEY=pl.lit(audit_key, pl.Int64),
    )
