"""Which tenant an input row belongs to, and a staged batch cut down to one tenant.

GIM deploys one Info Mart per tenant and tenants share nothing, so a tenant's writer loads only its own events:
an event's tenant is its `tenant` field, `Resources` when absent (../shared/contract/events.md; "in a single-tenant
deployment, the Resources tenant is considered a tenant": https://docs.genesys.com/Documentation/PSAAS/Public/RPRT/View-TENANT).
A quarantined line (not JSON, invalid event) belongs to the tenant its text names, else to `Resources`: every bad
line is counted by exactly one tenant's run, so each run's audit still adds up
(read = loaded + duplicates + conflicts + quarantined).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from etl.connections import connect

DEFAULT_TENANT = "Resources"

#: Tenant names become directory names (one mart per tenant): letters, digits and `._-`, not starting with a dot.
_SAFE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}")


def check_tenant(name: str) -> str:
    """`name` if it can name a tenant's directory, else ValueError (no path separators, no `..`)."""
    if not _SAFE_NAME.fullmatch(name):
        raise ValueError(f"tenant name {name!r} is not usable as a directory name (letters, digits, '._-')")
    return name


#: A quarantine row's tenant: the `tenant` its raw text names when that text is a JSON object, else the default.
QUARANTINE_TENANT_SQL = (
    f"coalesce(CASE WHEN json_valid(RAW) AND json_type(RAW) = 'OBJECT' THEN json_extract_string(RAW, '$.tenant') END,"
    f" '{DEFAULT_TENANT}')"
)


def keep_tenant(events_path: Path, quarantine_path: Path | None, tenant: str) -> tuple[int, int]:
    """Rewrite the staged `events_path` (and `quarantine_path`) in place with only `tenant`'s rows; returns
    (events, quarantine rows) dropped. Each file is replaced by a rename, so it is whole or untouched."""
    check_tenant(tenant)
    dropped = [_rewrite(events_path, f"coalesce(tenant, '{DEFAULT_TENANT}') = $t", tenant)]
    if quarantine_path is not None:
        dropped.append(_rewrite(quarantine_path, f"{QUARANTINE_TENANT_SQL} = $t", tenant))
    else:
        dropped.append(0)
    return dropped[0], dropped[1]


def _rewrite(path: Path, predicate: str, tenant: str) -> int:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    con = connect()
    try:
        total = con.execute("SELECT count(*) FROM read_parquet($p)", {"p": str(path)}).fetchall()[0][0]
        kept = con.sql(f"SELECT * FROM read_parquet($p) WHERE {predicate}", params={"p": str(path), "t": tenant})
        kept.write_parquet(str(tmp))  # (the relation API: no path in SQL text)
        n = con.execute("SELECT count(*) FROM read_parquet($p)", {"p": str(tmp)}).fetchall()[0][0]
    finally:
        con.close()
    os.replace(tmp, path)
    return int(total - n)


def tenants_in(files: list[Path]) -> set[str]:
    """The tenants whose lines `files` hold, by the rule a staged run filters with (`QUARANTINE_TENANT_SQL`: a JSON
    object's `tenant`, else the default tenant, also for lines that are not JSON and files that cannot be read).
    The files are read by the ingestion's own reader (`etl.ingest.files.read_chunks`: gzip, Parquet, URLs), nothing
    is staged; a tenant name unusable as a directory raises."""
    from etl.ingest.files import read_chunks

    found: set[str] = set()
    con = connect()
    try:
        for unit in read_chunks(files, con.cursor()):
            if isinstance(unit, dict):  # unreadable: its quarantine row is the default tenant's
                found.add(DEFAULT_TENANT)
                continue
            con.register("_lines", unit.lines.select(["line"]).rename_columns(["RAW"]))
            rows = con.sql(f"SELECT DISTINCT {QUARANTINE_TENANT_SQL} FROM _lines WHERE trim(RAW) <> ''").fetchall()
            con.unregister("_lines")
            found |= {t for (t,) in rows}
    finally:
        con.close()
    for tenant in found:
        check_tenant(tenant)
    return found
