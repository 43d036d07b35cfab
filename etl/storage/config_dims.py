"""The configuration dimensions (GROUP_, RESOURCE_GROUP_FACT_, RESOURCE_GROUP_COMBINATION, SKILL,
RESOURCE_SKILL_FACT_, PLACE, and the configuration attributes of RESOURCE_), rebuilt from the whole configuration
log at every load: the log is small, the rules (`etl.domain.config`) are pure, and keys come from CTL_KEY_MAP, so a
rebuild keeps every key and a re-run changes nothing. Facts are not touched here (`config_keys.py` is).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import polars as pl

from etl.domain import config as rules
from etl.domain.config import OPEN_END, Version
from etl.storage.dimensions import insert_date_times
from etl.storage.keys import allocate
from etl.storage.writes import insert_rows, registered

NO_VALUE = -1  # GIM's "no value" key


@dataclass
class Keys:
    """Natural key -> surrogate key of one kind, allocated on demand."""

    con: duckdb.DuckDBPyConnection
    kind: str

    def of(self, natural_keys: Iterable[str]) -> dict[str, int]:
        keys = pl.Series(list(dict.fromkeys(natural_keys)), dtype=pl.String)
        if not keys.len():
            return {}
        return dict(allocate(self.con, self.kind, keys).iter_rows())


def tenant_keys(con: duckdb.DuckDBPyConnection, tenants: Iterable[str]) -> dict[str, int]:
    """TENANT keys (rows added for new tenants), as the events' dimensions do."""
    keys = Keys(con, "TENANT").of(tenants)
    frame = pl.DataFrame(
        {"TENANT_NAME": list(keys), "TENANT_KEY": list(keys.values())}, schema_overrides={"TENANT_KEY": pl.Int32}
    )
    with registered(con, _tn=frame):
        con.execute(
            "INSERT INTO TENANT (TENANT_KEY, TENANT_NAME) SELECT TENANT_KEY, TENANT_NAME FROM _tn"
            " WHERE TENANT_KEY NOT IN (SELECT TENANT_KEY FROM TENANT)"
        )
    return keys


def replace_table(
    con: duckdb.DuckDBPyConnection, table: str, rows: pl.DataFrame, pk: list[str], audit_key: int
) -> None:
    """Replace every row of `table` by `rows`. A row whose key existed keeps its CREATE_AUDIT_KEY, and its
    UPDATE_AUDIT_KEY too when nothing else changed: re-running the same input changes nothing."""
    old = con.sql(f"SELECT * FROM {table}").pl()
    values = [c for c in rows.columns if c not in pk and c not in ("CREATE_AUDIT_KEY", "UPDATE_AUDIT_KEY")]
    old = old.select(*pk, *values, "CREATE_AUDIT_KEY", "UPDATE_AUDIT_KEY").rename(
        {c: f"{c}_old" for c in [*values, "CREATE_AUDIT_KEY", "UPDATE_AUDIT_KEY"]}
    )
    rows = rows.join(old.cast({c: rows.schema[c] for c in pk}), on=pk, how="left")
    same = pl.all_horizontal(
        pl.col("UPDATE_AUDIT_KEY_old").is_not_null(),
        *[pl.col(c).cast(pl.String).eq_missing(pl.col(f"{c}_old").cast(pl.String)) for c in values],
    )
    rows = rows.with_columns(
        CREATE_AUDIT_KEY=pl.col("CREATE_AUDIT_KEY_old").fill_null(audit_key),
        UPDATE_AUDIT_KEY=pl.when(same).then(pl.col("UPDATE_AUDIT_KEY_old")).otherwise(pl.lit(audit_key)),
    )
    con.execute(f"DELETE FROM {table}")
    insert_rows(con, table, rows)


def _dt(col: str) -> pl.Expr:
    return (pl.col(col) // 900 * 900).cast(pl.Int64)


def _periods(frame: pl.DataFrame) -> pl.DataFrame:
    """START/END date-time keys and ACTIVE_FLAG of a frame of periods (END_TS OPEN_END = still active)."""
    return frame.with_columns(
        START_DATE_TIME_KEY=_dt("START_TS"),
        END_DATE_TIME_KEY=_dt("END_TS"),
        ACTIVE_FLAG=(pl.col("END_TS") == OPEN_END).cast(pl.Int16),
    )


@dataclass
class ConfigDimensions:
    """What a rebuild leaves for the fact keys: each agent's group combinations over time."""

    combinations: pl.DataFrame  # RESOURCE_KEY, START_TS, END_TS, GROUP_COMBINATION_KEY
    skill_keys: dict[str, int]


def rebuild(
    con: duckdb.DuckDBPyConnection, versions: list[Version], audit_key: int, extra_skills: Iterable[str] = ()
) -> ConfigDimensions:
    """Rebuild every configuration dimension from `versions` (the whole log); `extra_skills` are skill names
    that only routing targets' expressions mention."""
    lines = rules.timelines(versions)
    exist = rules.existence(versions)
    tenants = tenant_keys(con, {v.tenant for v in versions} | {"Resources"})
    people = sorted({oid for (_, obj, oid) in lines if obj == "Person"})
    res = Keys(con, "RESOURCE").of(f"Agent:{p}" for p in people)
    _resources(con, lines, res, tenants, audit_key)
    groups = _groups(con, lines, tenants, audit_key)
    members = rules.memberships(lines, exist)
    res.update(Keys(con, "RESOURCE").of(f"Agent:{m.person}" for m in members))
    _ensure_agents(con, {m.person for m in members} - set(people), res, tenants, audit_key)
    rgf = pl.DataFrame(
        [(res[f"Agent:{m.person}"], groups[f"Agent:{m.group}"], tenants[m.tenant], m.start, m.end) for m in members],
        schema={
            "RESOURCE_KEY": pl.Int32,
            "GROUP_KEY": pl.Int32,
            "TENANT_KEY": pl.Int32,
            "START_TS": pl.Int64,
            "END_TS": pl.Int64,
        },
        orient="row",
    )
    rgf = _periods(rgf)
    replace_table(con, "RESOURCE_GROUP_FACT_", rgf, ["RESOURCE_KEY", "GROUP_KEY", "START_TS"], audit_key)
    combos = _combinations(con, rules.combinations(members), res, groups, tenants, audit_key)
    skills = _skills(con, lines, tenants, audit_key, extra_skills)
    periods = rules.skill_periods(lines, exist)
    res.update(Keys(con, "RESOURCE").of(f"Agent:{p.person}" for p in periods))
    rsf = pl.DataFrame(
        [(res[f"Agent:{p.person}"], skills[p.skill], tenants[p.tenant], p.level, p.start, p.end) for p in periods],
        schema={
            "RESOURCE_KEY": pl.Int32,
            "SKILL_KEY": pl.Int32,
            "TENANT_KEY": pl.Int32,
            "SKILL_LEVEL": pl.Int32,
            "START_TS": pl.Int64,
            "END_TS": pl.Int64,
        },
        orient="row",
    )
    rsf = _periods(rsf)
    replace_table(con, "RESOURCE_SKILL_FACT_", rsf, ["RESOURCE_KEY", "SKILL_KEY", "START_TS"], audit_key)
    places = _places(con, lines, tenants, audit_key)
    in_place_groups = rules.memberships(lines, exist, rules.PLACE_GROUPS)
    pgf = pl.DataFrame(
        [
            (places[f"Place:{m.person}"], groups[f"Place:{m.group}"], tenants[m.tenant], m.start, m.end)
            for m in in_place_groups
        ],
        schema={
            "PLACE_KEY": pl.Int32,
            "GROUP_KEY": pl.Int32,
            "TENANT_KEY": pl.Int32,
            "START_TS": pl.Int64,
            "END_TS": pl.Int64,
        },
        orient="row",
    )
    pgf = _periods(pgf)
    replace_table(con, "PLACE_GROUP_FACT_", pgf, ["PLACE_KEY", "GROUP_KEY", "START_TS"], audit_key)
    dts = [f[c] for f in (rgf, rsf, pgf) for c in ("START_DATE_TIME_KEY", "END_DATE_TIME_KEY")]
    insert_date_times(con, pl.concat(dts).unique().to_list())
    return ConfigDimensions(combos, skills)


def _resources(
    con: duckdb.DuckDBPyConnection,
    lines: dict[rules.ObjectKey, list[rules.Segment]],
    res: dict[str, int],
    tenants: dict[str, int],
    audit_key: int,
) -> None:
    """RESOURCE_ rows of the log's people: added when the events have not named them yet, and given the
    attributes of their current version (config wins over what events carry; type 1, as GIM's RESOURCE_ holds
    the configuration object's attributes). START_TS / END_TS: when that version became valid / was deleted."""
    rows = []
    for (tenant, obj, oid), segs in lines.items():
        seg = rules.current(segs)
        if obj != "Person" or seg is None:
            continue
        p = seg.payload
        rows.append(
            (
                res[f"Agent:{oid}"],
                tenants[tenant],
                oid,
                p.get("first_name"),
                p.get("last_name"),
                p.get("employee_id"),
                p.get("user_name"),
                int(bool(p.get("is_agent", True))),
                seg.start,
                seg.end,  # a delete's time, else the open end
            )
        )
    frame = pl.DataFrame(
        rows,
        schema={
            "RESOURCE_KEY": pl.Int32,
            "TENANT_KEY": pl.Int32,
            "RESOURCE_NAME": pl.String,
            "AGENT_FIRST_NAME": pl.String,
            "AGENT_LAST_NAME": pl.String,
            "EMPLOYEE_ID": pl.String,
            "USER_NAME": pl.String,
            "IS_AGENT": pl.Int16,
            "START_TS": pl.Int64,
            "END_TS": pl.Int64,
        },
        orient="row",
    )
    _ensure_agents(con, set(frame["RESOURCE_NAME"]), res, tenants, audit_key)
    with registered(con, _p=frame):
        con.execute(
            "UPDATE RESOURCE_ r SET AGENT_FIRST_NAME = p.AGENT_FIRST_NAME, AGENT_LAST_NAME = p.AGENT_LAST_NAME,"
            " EMPLOYEE_ID = p.EMPLOYEE_ID, USER_NAME = p.USER_NAME, IS_AGENT = p.IS_AGENT, START_TS = p.START_TS,"
            " END_TS = p.END_TS, UPDATE_AUDIT_KEY = ? FROM _p p WHERE r.RESOURCE_KEY = p.RESOURCE_KEY"
            " AND (r.AGENT_FIRST_NAME IS DISTINCT FROM p.AGENT_FIRST_NAME OR r.AGENT_LAST_NAME IS DISTINCT FROM"
            " p.AGENT_LAST_NAME OR r.EMPLOYEE_ID IS DISTINCT FROM p.EMPLOYEE_ID OR r.USER_NAME IS DISTINCT FROM"
            " p.USER_NAME OR r.IS_AGENT IS DISTINCT FROM p.IS_AGENT OR r.START_TS IS DISTINCT FROM p.START_TS"
            " OR r.END_TS IS DISTINCT FROM p.END_TS)",
            [audit_key],
        )


def _ensure_agents(
    con: duckdb.DuckDBPyConnection, names: set[str], res: dict[str, int], tenants: dict[str, int], audit_key: int
) -> None:
    """RESOURCE_ rows (type Agent) for people the configuration names and no event has named yet."""
    if not names:
        return
    frame = pl.DataFrame(
        {"RESOURCE_KEY": [res[f"Agent:{n}"] for n in sorted(names)], "RESOURCE_NAME": sorted(names)},
        schema_overrides={"RESOURCE_KEY": pl.Int32},
    )
    with registered(con, _a=frame):
        con.execute(
            "INSERT INTO RESOURCE_ (RESOURCE_KEY, TENANT_KEY, RESOURCE_NAME, RESOURCE_TYPE, RESOURCE_TYPE_CODE,"
            " RESOURCE_SUBTYPE, EXTERNAL_RESOURCE_ID, CREATE_AUDIT_KEY, UPDATE_AUDIT_KEY)"
            " SELECT RESOURCE_KEY, ?, RESOURCE_NAME, 'Agent', 'AGENT', 'Agent', RESOURCE_NAME, ?, ? FROM _a"
            " WHERE RESOURCE_KEY NOT IN (SELECT RESOURCE_KEY FROM RESOURCE_)",
            [tenants["Resources"], audit_key, audit_key],
        )


def _named(
    con: duckdb.DuckDBPyConnection,
    lines: dict[rules.ObjectKey, list[rules.Segment]],
    objects: dict[str, str],
    referenced: set[tuple[str, str, str]],
    tenants: dict[str, int],
    kind: str,
) -> tuple[dict[str, int], list[tuple]]:
    """Keys and (key, tenant key, name, start, end, type) rows of named objects: those the log defines (`objects`
    maps object type -> the prefix of its natural key) and those only `referenced` as (tenant, type, id)."""
    found: dict[str, tuple] = {}
    for (tenant, obj, oid), segs in lines.items():
        if obj in objects and (span := rules.lifespan(segs)):
            name = (rules.current(segs).payload.get("name") if segs else None) or oid  # type: ignore[union-attr]
            found[f"{objects[obj]}:{oid}"] = (tenants[tenant], name, span[0], span[1], obj)
    for tenant, obj, oid in sorted(referenced):
        found.setdefault(f"{objects[obj]}:{oid}", (tenants[tenant], oid, None, None, obj))
    keys = Keys(con, kind).of(sorted(found))
    return keys, [(keys[nk], *row) for nk, row in found.items()]


def _groups(con, lines, tenants, audit_key) -> dict[str, int]:  # noqa: ANN001
    """GROUP_: agent groups and place groups (https://docs.genesys.com/Documentation/GIM/latest/PDMMS/Table-GROUP_),
    defined in the log or only named by a Person's agent_groups / a Place's place_groups; -1 is "no group"."""
    referenced = {
        (t, "AgentGroup", g)
        for (t, o, _), s in lines.items()
        if o == "Person"
        for x in s
        for g in x.payload.get("agent_groups") or []
    }
    referenced |= {
        (t, "PlaceGroup", g)
        for (t, o, _), s in lines.items()
        if o == "Place"
        for x in s
        for g in x.payload.get("place_groups") or []
    }
    keys, rows = _named(con, lines, {"AgentGroup": "Agent", "PlaceGroup": "Place"}, referenced, tenants, "GROUP")
    frame = pl.DataFrame(
        [(k, t, n, "Agent" if o == "AgentGroup" else "Place", s, e) for k, t, n, s, e, o in rows]
        + [(NO_VALUE, NO_VALUE, "NONE", "NONE", None, None)],
        schema={
            "GROUP_KEY": pl.Int32,
            "TENANT_KEY": pl.Int32,
            "GROUP_NAME": pl.String,
            "GROUP_TYPE": pl.String,
            "START_TS": pl.Int64,
            "END_TS": pl.Int64,
        },
        orient="row",
    ).with_columns(GROUP_TYPE_CODE=pl.col("GROUP_TYPE").str.to_uppercase())
    replace_table(con, "GROUP_", frame, ["GROUP_KEY"], audit_key)
    return keys


def _skills(con, lines, tenants, audit_key, extra: Iterable[str]) -> dict[str, int]:  # noqa: ANN001
    """SKILL (https://docs.genesys.com/Documentation/GIM/latest/PDMMS/Table-SKILL): the log's skills, the skills
    people have, the skills routing targets request; keyed by name (the id the events and expressions use)."""
    referenced = {
        (t, "Skill", k)
        for (t, o, _), s in lines.items()
        if o == "Person"
        for x in s
        for k in x.payload.get("skills") or {}
    }
    referenced |= {("Resources", "Skill", k) for k in extra}
    keys, rows = _named(con, lines, {"Skill": "Skill"}, referenced, tenants, "SKILL")
    replace_table(con, "SKILL", _named_frame(rows, "SKILL_KEY", "SKILL_NAME"), ["SKILL_KEY"], audit_key)
    return {nk.split(":", 1)[1]: k for nk, k in keys.items()}


def _named_frame(rows: list[tuple], key: str, name: str) -> pl.DataFrame:
    """A named dimension's rows (key, tenant, name, validity) plus its -1 "no value" row."""
    return pl.DataFrame(
        [(k, t, n, s, e) for k, t, n, s, e, _ in rows] + [(NO_VALUE, NO_VALUE, "NONE", None, None)],
        schema={key: pl.Int32, "TENANT_KEY": pl.Int32, name: pl.String, "START_TS": pl.Int64, "END_TS": pl.Int64},
        orient="row",
    )


def _places(con, lines, tenants, audit_key) -> dict[str, int]:  # noqa: ANN001
    """PLACE (https://docs.genesys.com/Documentation/GIM/latest/PDMMS/Table-PLACE): the log's places, the places
    people sit at and the places place groups list; -1 is "no place"."""
    referenced = {
        (t, "Place", x.payload["place"])
        for (t, o, _), s in lines.items()
        if o == "Person"
        for x in s
        if x.payload.get("place")
    }
    referenced |= {
        (t, "Place", m)
        for (t, o, _), s in lines.items()
        if o == "PlaceGroup"
        for x in s
        for m in x.payload.get("members") or []
    }
    keys, rows = _named(con, lines, {"Place": "Place"}, referenced, tenants, "PLACE")
    replace_table(con, "PLACE", _named_frame(rows, "PLACE_KEY", "PLACE_NAME"), ["PLACE_KEY"], audit_key)
    return keys


def _combinations(con, combos: list[rules.Combination], res, groups, tenants, audit_key) -> pl.DataFrame:  # noqa: ANN001
    """RESOURCE_GROUP_COMBINATION rows (one per group of each distinct set; the set's key is stable through
    CTL_KEY_MAP) and each agent's combination periods."""
    sets = {c: tuple(sorted(groups[f"Agent:{g}"] for g in c.groups)) for c in combos}
    keys = Keys(con, "GROUP_COMBINATION").of(",".join(map(str, s)) for s in sets.values())
    rows = {(keys[",".join(map(str, s))], g, tenants[c.tenant]) for c, s in sets.items() for g in s}
    frame = pl.DataFrame(
        sorted(rows) + [(NO_VALUE, NO_VALUE, NO_VALUE)],
        schema={"GROUP_COMBINATION_KEY": pl.Int32, "GROUP_KEY": pl.Int32, "TENANT_KEY": pl.Int32},
        orient="row",
    )
    replace_table(con, "RESOURCE_GROUP_COMBINATION", frame, ["GROUP_COMBINATION_KEY", "GROUP_KEY"], audit_key)
    return pl.DataFrame(
        [(res[f"Agent:{c.person}"], c.start, c.end, keys[",".join(map(str, s))]) for c, s in sets.items()],
        schema={"RESOURCE_KEY": pl.Int32, "START_TS": pl.Int64, "END_TS": pl.Int64, "GROUP_COMBINATION_KEY": pl.Int32},
        orient="row",
    )
