"""Data-quality queries over the mart; Dagster asset checks and tests both call them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from etl.storage.ddl import load_schema


@dataclass
class Finding:
    passed: bool
    description: str
    failures: int = 0


def counts_add_up(con: duckdb.DuckDBPyConnection, run_id: str | None = None) -> Finding:
    """Every input event of the run is loaded, a counted duplicate, a quarantined conflict, or quarantined."""
    where = "WHERE RUN_ID = ?" if run_id else ""
    rows = con.execute(
        "SELECT RUN_ID, EVENTS_READ, EVENTS_LOADED, EVENTS_DUPLICATE, coalesce(EVENTS_CONFLICT, 0), EVENTS_QUARANTINED"
        f" FROM CTL_AUDIT_LOG {where}",
        [run_id] if run_id else [],
    ).fetchall()
    bad = [r for r in rows if r[1] != r[2] + r[3] + r[4] + r[5]]
    text = "; ".join(
        f"{r[0]}: read {r[1]} != loaded {r[2]} + duplicate {r[3]} + conflict {r[4]} + quarantined {r[5]}" for r in bad
    )
    return Finding(not bad and bool(rows), text or f"{len(rows)} run(s) balanced", len(bad))


def config_counts_add_up(con: duckdb.DuckDBPyConnection) -> Finding:
    """Every configuration line of every run is loaded, a counted duplicate, or quarantined (config.md)."""
    rows = con.execute(
        "SELECT RUN_ID, CFG_OBJECTS_READ, CFG_OBJECTS_LOADED, CFG_OBJECTS_DUPLICATE, CFG_OBJECTS_QUARANTINED"
        " FROM CTL_AUDIT_LOG WHERE CFG_OBJECTS_READ IS NOT NULL"
    ).fetchall()
    bad = [r for r in rows if r[1] != r[2] + r[3] + r[4]]
    text = "; ".join(f"{r[0]}: read {r[1]} != loaded {r[2]} + duplicate {r[3]} + quarantined {r[4]}" for r in bad)
    return Finding(not bad, text or f"{len(rows)} run(s) balanced", len(bad))


#: (description, query counting violations)
_REFERENCES = [
    (
        "MSF TARGET_IXN_RESOURCE_ID resolves to an IRF",
        "SELECT count(*) FROM MEDIATION_SEGMENT_FACT m WHERE m.TARGET_IXN_RESOURCE_ID IS NOT NULL AND NOT EXISTS"
        " (SELECT 1 FROM INTERACTION_RESOURCE_FACT i WHERE i.INTERACTION_RESOURCE_ID = m.TARGET_IXN_RESOURCE_ID)",
    ),
    (
        "MSF IXN_RESOURCE_ID resolves to an IRF",
        "SELECT count(*) FROM MEDIATION_SEGMENT_FACT m WHERE m.IXN_RESOURCE_ID IS NOT NULL AND NOT EXISTS"
        " (SELECT 1 FROM INTERACTION_RESOURCE_FACT i WHERE i.INTERACTION_RESOURCE_ID = m.IXN_RESOURCE_ID)",
    ),
    (
        "IRF MEDIATION_SEGMENT_ID resolves to an MSF",
        "SELECT count(*) FROM INTERACTION_RESOURCE_FACT i WHERE i.MEDIATION_SEGMENT_ID IS NOT NULL AND NOT EXISTS"
        " (SELECT 1 FROM MEDIATION_SEGMENT_FACT m WHERE m.MEDIATION_SEGMENT_ID = i.MEDIATION_SEGMENT_ID)",
    ),
]
for _fact in ("INTERACTION_RESOURCE_FACT", "MEDIATION_SEGMENT_FACT", "INTERACTION_FACT"):
    _REFERENCES += [
        (
            f"{_fact}.{col} resolves in {dim}",
            f"SELECT count(*) FROM {_fact} f WHERE NOT EXISTS (SELECT 1 FROM {dim} d WHERE d.{key} = f.{col})",
        )
        for col, dim, key in [
            ("INTERACTION_ID", "INTERACTION_FACT", "INTERACTION_ID"),
            ("MEDIA_TYPE_KEY", "MEDIA_TYPE", "MEDIA_TYPE_KEY"),
            ("INTERACTION_TYPE_KEY", "INTERACTION_TYPE", "INTERACTION_TYPE_KEY"),
            ("TENANT_KEY", "TENANT", "TENANT_KEY"),
            ("START_DATE_TIME_KEY", "DATE_TIME", "DATE_TIME_KEY"),
            ("END_DATE_TIME_KEY", "DATE_TIME", "DATE_TIME_KEY"),
        ]
    ]
for _fact in ("INTERACTION_RESOURCE_FACT", "MEDIATION_SEGMENT_FACT"):
    _REFERENCES += [
        (
            f"{_fact}.RESOURCE_KEY resolves in RESOURCE_",
            f"SELECT count(*) FROM {_fact} f"
            " WHERE NOT EXISTS (SELECT 1 FROM RESOURCE_ r WHERE r.RESOURCE_KEY = f.RESOURCE_KEY)",
        ),
        (
            f"{_fact}.TECHNICAL_DESCRIPTOR_KEY resolves in TECHNICAL_DESCRIPTOR",
            f"SELECT count(*) FROM {_fact} f WHERE NOT EXISTS (SELECT 1 FROM TECHNICAL_DESCRIPTOR d"
            " WHERE d.TECHNICAL_DESCRIPTOR_KEY = f.TECHNICAL_DESCRIPTOR_KEY)",
        ),
    ]
_REFERENCES += [
    (
        f"INTERACTION_RESOURCE_FACT.{col} resolves in RESOURCE_",
        f"SELECT count(*) FROM INTERACTION_RESOURCE_FACT f WHERE f.{col} IS NOT NULL AND NOT EXISTS"
        f" (SELECT 1 FROM RESOURCE_ r WHERE r.RESOURCE_KEY = f.{col})",
    )
    for col in ("LAST_VQUEUE_RESOURCE_KEY", "MEDIATION_RESOURCE_KEY", "LAST_INTERACTION_RESOURCE")
]
#: The user-data tables' and the IRF's newer references, as schema/mart.yaml declares them.
_REFERENCES += [
    (
        f"{t.name}.{fk.columns[0]} resolves in {fk.references}",
        f"SELECT count(*) FROM {t.name} f WHERE f.{fk.columns[0]} IS NOT NULL AND NOT EXISTS"
        f" (SELECT 1 FROM {fk.references} d WHERE d.{fk.ref_columns[0]} = f.{fk.columns[0]})",
    )
    for t in load_schema().tables
    for fk in t.foreign_keys
    if t.name.startswith("IRF_USER_DATA") or fk.columns[0] in ("ANCHOR_FLAGS_KEY", "MEDIA_RESOURCE_KEY")
]
_REFERENCES += [  # the configuration keys (contract config.md); -1 is a row of each dimension
    (
        f"INTERACTION_RESOURCE_FACT.{col} resolves in {dim}",
        f"SELECT count(*) FROM INTERACTION_RESOURCE_FACT f WHERE f.{col} IS NOT NULL AND NOT EXISTS"
        f" (SELECT 1 FROM {dim} d WHERE d.{key} = f.{col})",
    )
    for col, dim, key in [
        ("RESOURCE_GROUP_COMBINATION_KEY", "RESOURCE_GROUP_COMBINATION", "GROUP_COMBINATION_KEY"),
        ("ROUTING_TARGET_KEY", "ROUTING_TARGET", "ROUTING_TARGET_KEY"),
        ("REQUESTED_SKILL_KEY", "REQUESTED_SKILL", "REQUESTED_SKILL_KEY"),
    ]
]
# Agent states (SM_RES_*): every key resolves, states in their session, reasons in their state.
_SM_KEYS = [
    ("MEDIA_TYPE_KEY", "MEDIA_TYPE", "MEDIA_TYPE_KEY"),
    ("TENANT_KEY", "TENANT", "TENANT_KEY"),
    ("RESOURCE_KEY", "RESOURCE_", "RESOURCE_KEY"),
    ("START_DATE_TIME_KEY", "DATE_TIME", "DATE_TIME_KEY"),
    ("END_DATE_TIME_KEY", "DATE_TIME", "DATE_TIME_KEY"),
]
for _fact, _extra in (
    ("SM_RES_SESSION_FACT", []),
    ("SM_RES_STATE_FACT", [("SM_RES_SESSION_FACT_KEY", "SM_RES_SESSION_FACT", "SM_RES_SESSION_FACT_KEY")]),
    ("SM_RES_STATE_REASON_FACT", [("SM_RES_STATE_FACT_KEY", "SM_RES_STATE_FACT", "SM_RES_STATE_FACT_KEY")]),
):
    for _col, _dim, _key in [*_SM_KEYS, *_extra] + (
        [("RESOURCE_STATE_KEY", "RESOURCE_STATE", "RESOURCE_STATE_KEY")] if _fact != "SM_RES_SESSION_FACT" else []
    ):
        _REFERENCES.append(
            (
                f"{_fact}.{_col} resolves in {_dim}",
                f"SELECT count(*) FROM {_fact} f WHERE NOT EXISTS (SELECT 1 FROM {_dim} d WHERE d.{_key} = f.{_col})",
            )
        )
_REFERENCES.append(
    (
        "SM_RES_STATE_REASON_FACT.RESOURCE_STATE_REASON_KEY resolves in RESOURCE_STATE_REASON",
        "SELECT count(*) FROM SM_RES_STATE_REASON_FACT f WHERE NOT EXISTS (SELECT 1 FROM RESOURCE_STATE_REASON d"
        " WHERE d.RESOURCE_STATE_REASON_KEY = f.RESOURCE_STATE_REASON_KEY)",
    )
)


def references_resolve(con: duckdb.DuckDBPyConnection) -> Finding:
    """Every MSF target, IRF mediation link and dimension key points at an existing row."""
    failures = [(d, con.execute(q).fetchall()[0][0]) for d, q in _REFERENCES]
    bad = [f"{d}: {n} row(s) do not" for d, n in failures if n]
    return Finding(not bad, "; ".join(bad) or f"{len(failures)} references resolve", sum(n for _, n in failures))


def descriptors_valid(con: duckdb.DuckDBPyConnection) -> Finding:
    """IRFs carry handling roles (the queue role only on a queue, where an IRF ended in mediation:
    etl.domain.rules.online) and MSFs the queue role; anchors are one per interaction with IRFs."""
    irf_bad = con.execute(
        "SELECT count(*) FROM INTERACTION_RESOURCE_FACT f JOIN TECHNICAL_DESCRIPTOR d USING (TECHNICAL_DESCRIPTOR_KEY)"
        " JOIN RESOURCE_ r ON r.RESOURCE_KEY = f.RESOURCE_KEY"
        " WHERE (d.RESOURCE_ROLE = 'Received') <> (r.RESOURCE_TYPE = 'Queue')"
    ).fetchall()[0][0]
    msf_bad = con.execute(
        "SELECT count(*) FROM MEDIATION_SEGMENT_FACT f JOIN TECHNICAL_DESCRIPTOR d USING (TECHNICAL_DESCRIPTOR_KEY)"
        " WHERE d.RESOURCE_ROLE <> 'Received'"
    ).fetchall()[0][0]
    anchors_bad = con.execute(
        "SELECT count(*) FROM (SELECT INTERACTION_ID FROM INTERACTION_RESOURCE_FACT GROUP BY INTERACTION_ID"
        " HAVING sum(IRF_ANCHOR) <> 1)"
    ).fetchall()[0][0]
    parts = [
        f"{n} {what}"
        for n, what in [
            (irf_bad, "IRFs with a queue role"),
            (msf_bad, "MSFs with a handling role"),
            (anchors_bad, "interactions without exactly one IRF_ANCHOR"),
        ]
        if n
    ]
    return Finding(not parts, "; ".join(parts) or "descriptor combinations valid", irf_bad + msf_bad + anchors_bad)


def quarantine_rate(con: duckdb.DuckDBPyConnection, threshold: float = 0.01) -> Finding:
    """Share of the latest run's input that was quarantined; above `threshold` someone should look."""
    rows = con.execute(
        "SELECT EVENTS_READ, EVENTS_QUARANTINED + coalesce(EVENTS_CONFLICT, 0) FROM CTL_AUDIT_LOG WHERE EVENTS_READ > 0"
        " ORDER BY START_TIME DESC LIMIT 1"
    ).fetchall()
    if not rows:
        return Finding(True, "no run has read events yet")
    read, quarantined = rows[0]
    rate = quarantined / read
    return Finding(
        rate <= threshold,
        f"{quarantined} of {read} inputs quarantined ({rate:.2%}, limit {threshold:.0%})",
        quarantined,
    )


def freshness(con: duckdb.DuckDBPyConnection, max_lag_hours: float = 26.0) -> Finding:
    """The newest stored event is recent: a silent source shows here before a report looks thin."""
    newest = con.execute("SELECT max(TS_MS) FROM STG_EVENTS").fetchall()[0][0]
    if newest is None:
        return Finding(False, "no events stored yet", 1)
    lag_h = (datetime.now(UTC).timestamp() * 1000 - newest) / 3_600_000
    return Finding(
        lag_h <= max_lag_hours,
        f"newest event is {lag_h:.1f} h old (limit {max_lag_hours} h)",
        int(lag_h > max_lag_hours),
    )
