"""A mart's tables and the rows GIM ships pre-populated: descriptors, the "no value" resource, the sentinel
interval of active facts, and the RAA-style views."""

from __future__ import annotations

import duckdb

from etl.domain.descriptors import CATALOGUE, code
from etl.storage.agent_writer import insert_resource_states
from etl.storage.ddl import duckdb_create_statements, duckdb_missing_columns
from etl.storage.dimensions import insert_date_times
from etl.storage.fact_rows import ACTIVE_END_TS
from etl.storage.views import create_views
from etl.transform.chat_sessions import ENDED_BY
from etl.transform.measures import ANCHOR_FLAG_BITS


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create what is missing, tables and columns a newer schema added; idempotent."""
    for stmt in duckdb_create_statements():
        con.execute(stmt)
    existing: dict[str, set[str]] = {}
    for table, column in con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = current_database()"
    ).fetchall():
        existing.setdefault(table, set()).add(column.upper())
    for stmt in duckdb_missing_columns(existing):
        con.execute(stmt)
    rows = [
        (
            key,
            d.role.value,
            code(d.role.value),
            d.role_reason,
            code(d.role_reason),
            d.result.value,
            code(d.result.value),
            d.result_reason.value,
            code(d.result_reason.value),
        )
        for key, d in enumerate(CATALOGUE, start=1)
    ]
    con.executemany(
        "INSERT INTO TECHNICAL_DESCRIPTOR (TECHNICAL_DESCRIPTOR_KEY, RESOURCE_ROLE, RESOURCE_ROLE_CODE, ROLE_REASON,"
        " ROLE_REASON_CODE, TECHNICAL_RESULT, TECHNICAL_RESULT_CODE, RESULT_REASON, RESULT_REASON_CODE,"
        " CREATE_AUDIT_KEY, UPDATE_AUDIT_KEY) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, -1, -1"
        " WHERE NOT EXISTS (SELECT 1 FROM TECHNICAL_DESCRIPTOR WHERE TECHNICAL_DESCRIPTOR_KEY = ?)",
        [(*r, r[0]) for r in rows],
    )
    # GIM's "no value" resource: LAST_VQUEUE_RESOURCE_KEY and friends point here instead of being null.
    con.execute(
        "INSERT INTO RESOURCE_ (RESOURCE_KEY, TENANT_KEY, RESOURCE_NAME, RESOURCE_TYPE, RESOURCE_TYPE_CODE,"
        " RESOURCE_SUBTYPE, CREATE_AUDIT_KEY, UPDATE_AUDIT_KEY) SELECT -1, -1, 'NONE', 'NONE', 'NONE', 'NONE', -1, -1"
        " WHERE NOT EXISTS (SELECT 1 FROM RESOURCE_ WHERE RESOURCE_KEY = -1)"
    )
    insert_date_times(con, [ACTIVE_END_TS])
    _no_value_rows(con)
    insert_resource_states(con)  # RESOURCE_STATE's fixed rows
    create_views(con)  # RAA-style aggregates (schema/views/*.sql), editable SQL


def _no_value_rows(con: duckdb.DuckDBPyConnection) -> None:
    """ANCHOR_FLAGS: every combination of its flags (the key is their bit mask, `transform.measures`),
    CHAT_SESSION_DIM's rows (`transform.chat_sessions.ENDED_BY`), and the no-value rows (-1) of the user-data
    dimensions that IRF_USER_DATA_KEYS points at when an IRF has none of their KVPs (https://docs.genesys.com/Documentation/GIM/latest/PDMOra/Table-ANCHOR_FLAGS)."""
    names = list(ANCHOR_FLAG_BITS)
    rows = [(key, *((key >> i) & 1 for i in range(len(names)))) for key in range(1 << len(names))]
    con.executemany(
        f"INSERT INTO ANCHOR_FLAGS (ANCHOR_FLAGS_KEY, {', '.join(names)}, CREATE_AUDIT_KEY, UPDATE_AUDIT_KEY)"
        f" SELECT ?, {', '.join('?' for _ in names)}, -1, 0"
        " WHERE NOT EXISTS (SELECT 1 FROM ANCHOR_FLAGS WHERE ANCHOR_FLAGS_KEY = ?)",
        [(*r, r[0]) for r in rows],
    )
    con.executemany(
        "INSERT INTO CHAT_SESSION_DIM (ID, ENDED_BY, CREATE_AUDIT_KEY, UPDATE_AUDIT_KEY) SELECT ?, ?, -1, 0"
        " WHERE NOT EXISTS (SELECT 1 FROM CHAT_SESSION_DIM WHERE ID = ?)",
        [(key, name, key) for name, key in ENDED_BY.items()],
    )
    for table, key in (("INTERACTION_DESCRIPTOR", "INTERACTION_DESCRIPTOR_KEY"), ("USER_DATA_CUST_DIM_1", "ID")):
        con.execute(
            f"INSERT INTO {table} ({key}, TENANT_KEY, CREATE_AUDIT_KEY, UPDATE_AUDIT_KEY) SELECT -1, -1, -1, 0"
            f" WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE {key} = -1)"
        )
