"""ROUTING_TARGET and REQUESTED_SKILL from the routing invitations' `target` (../shared/contract/config.md), and
the configuration keys of IRF rows: RESOURCE_GROUP_COMBINATION_KEY (the agent's groups when the IRF started),
ROUTING_TARGET_KEY and REQUESTED_SKILL_KEY (from the routing invitation the IRF answers).

Which IRF rows get keys: those this run wrote (re-derived facts are new rows), and, when this run loaded
configuration, those still without a group combination (-1) whose start the configuration now covers. An IRF
that has a combination keeps it: a configuration change later than the fact does not rewrite its history.
"""

from __future__ import annotations

import duckdb
import polars as pl

from etl.domain import config as rules
from etl.storage.config_dims import NO_VALUE, Keys, replace_table, tenant_keys
from etl.storage.writes import registered

_TARGETS_SCHEMA = {
    "TARGET_TYPE": pl.String,
    "TARGET_NAME": pl.String,
    "TARGET_EXPRESSION": pl.String,
    "ROUTING_TARGET_KEY": pl.Int32,
    "REQUESTED_SKILL_KEY": pl.Int32,
}


def invitation_targets(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, str | None]]:
    """Every distinct (tenant, type, name, expression) target of a stored routing invitation."""
    return con.execute(
        "SELECT DISTINCT TENANT, TARGET_TYPE, TARGET_NAME, TARGET_EXPRESSION FROM STG_EVENTS"
        " WHERE EVENT = 'EventAgentInvited' AND REASON = 'route' AND TARGET_NAME IS NOT NULL ORDER BY ALL"
    ).fetchall()


def requested_skill_names(targets: list[tuple[str, str, str, str | None]]) -> set[str]:
    return {s for _, typ, name, expr in targets if typ == "Skill" for s, _ in rules.requested_skills(expr or name)}


def write_targets(
    con: duckdb.DuckDBPyConnection,
    targets: list[tuple[str, str, str, str | None]],
    skill_keys: dict[str, int],
    audit_key: int,
) -> pl.DataFrame:
    """ROUTING_TARGET (one row per distinct target, https://docs.genesys.com/Documentation/GIM/latest/PDMMS/Table-ROUTING_TARGET)
    and REQUESTED_SKILL (one row per skill term of each distinct set of terms); returns the invitation fields ->
    (ROUTING_TARGET_KEY, REQUESTED_SKILL_KEY)."""
    tenants = tenant_keys(con, {t for t, *_ in targets} | {"Resources"})
    gim = [(t, typ, name, expr, rules.routing_target(typ, name, expr)) for t, typ, name, expr in targets]
    rt_keys = Keys(con, "ROUTING_TARGET").of(g.natural_key for *_, g in gim)
    terms = {
        i: rules.requested_skills((expr or name) if typ == "Skill" else None)
        for i, (_, typ, name, expr, _) in enumerate(gim)
    }
    rs_nk = {i: "&".join(f"{s}>={lvl}" if lvl is not None else s for s, lvl in ts) for i, ts in terms.items() if ts}
    rs_keys = Keys(con, "REQUESTED_SKILL").of(rs_nk.values())
    rt_rows = {rt_keys[g.natural_key]: (tenants[t], g) for t, _, _, _, g in gim}
    frame = pl.DataFrame(
        [
            (k, tk, g.type, g.type_code, g.selected, g.agent_group, g.place_group, g.skill_expression, 0)
            for k, (tk, g) in sorted(rt_rows.items())
        ]
        + [(NO_VALUE, NO_VALUE, "NONE", "NONE", "NONE", None, None, None, 0)],
        schema={
            "ROUTING_TARGET_KEY": pl.Int32,
            "TENANT_KEY": pl.Int32,
            "ROUTING_TARGET_TYPE": pl.String,
            "ROUTING_TARGET_TYPE_CODE": pl.String,
            "TARGET_OBJECT_SELECTED": pl.String,
            "AGENT_GROUP_NAME": pl.String,
            "PLACE_GROUP_NAME": pl.String,
            "SKILL_EXPRESSION": pl.String,
            "PURGE_FLAG": pl.Int16,
        },
        orient="row",
    )
    replace_table(con, "ROUTING_TARGET", frame, ["ROUTING_TARGET_KEY"], audit_key)
    rs_rows: dict[tuple[int, int], tuple] = {}
    for i, nk in rs_nk.items():
        tenant, _, name, expr, _ = gim[i]
        for skill, level in terms[i]:
            rs_rows.setdefault((rs_keys[nk], skill_keys[skill]), (tenants[tenant], level, expr or name))
    rs = pl.DataFrame(
        [(k, s, *rest) for (k, s), rest in sorted(rs_rows.items())] + [(NO_VALUE, NO_VALUE, NO_VALUE, None, None)],
        schema={
            "REQUESTED_SKILL_KEY": pl.Int32,
            "SKILL_KEY": pl.Int32,
            "TENANT_KEY": pl.Int32,
            "SKILL_LEVEL": pl.Int32,
            "SKILL_EXPRESSION": pl.String,
        },
        orient="row",
    )
    replace_table(con, "REQUESTED_SKILL", rs, ["REQUESTED_SKILL_KEY", "SKILL_KEY"], audit_key)
    return pl.DataFrame(
        [
            (typ, name, expr, rt_keys[g.natural_key], rs_keys.get(rs_nk.get(i, ""), NO_VALUE))
            for i, (_, typ, name, expr, g) in enumerate(gim)
        ],
        schema=_TARGETS_SCHEMA,
        orient="row",
    )


def set_fact_keys(
    con: duckdb.DuckDBPyConnection, audit_key: int, combos: pl.DataFrame, targets: pl.DataFrame, fill_unknown: bool
) -> None:
    """The three configuration keys of the IRF rows this run wrote (and, with `fill_unknown`, of older IRFs that
    have no group combination yet)."""
    # New rows carry -1 already (fact_rows.irf_rows); rows of a mart older than these columns have NULL.
    old = "FROM INTERACTION_RESOURCE_FACT WHERE RESOURCE_GROUP_COMBINATION_KEY IS NULL"
    if con.execute(f"SELECT count(*) {old}").fetchall()[0][0]:
        con.execute(
            "UPDATE INTERACTION_RESOURCE_FACT SET RESOURCE_GROUP_COMBINATION_KEY = -1, ROUTING_TARGET_KEY = -1,"
            " REQUESTED_SKILL_KEY = -1 WHERE RESOURCE_GROUP_COMBINATION_KEY IS NULL"
        )
        fill_unknown = True
    which = "(f.UPDATE_AUDIT_KEY = ?" + (" OR f.RESOURCE_GROUP_COMBINATION_KEY = -1)" if fill_unknown else ")")
    with registered(con, _comb=combos, _tg=targets):
        # The combination valid at the IRF's start (GIM's IRF.RESOURCE_GROUP_COMBINATION_KEY, an RAA group rollup).
        if combos.height:
            con.execute(
                "UPDATE INTERACTION_RESOURCE_FACT f SET RESOURCE_GROUP_COMBINATION_KEY = c.GROUP_COMBINATION_KEY"
                " FROM _comb c WHERE c.RESOURCE_KEY = f.RESOURCE_KEY AND f.START_TS >= c.START_TS"
                f" AND f.START_TS < c.END_TS AND {which}",
                [audit_key],
            )
        if not targets.height:
            return
        # The routing invitation the IRF answers: the first route invitation of this party in the interaction
        # within the IRF's [START_TS, END_TS] (a routed IRF starts with the mediation before the invitation).
        con.execute(
            f"""
            UPDATE INTERACTION_RESOURCE_FACT f SET ROUTING_TARGET_KEY = p.rt, REQUESTED_SKILL_KEY = p.rs
            FROM (
                SELECT f.INTERACTION_RESOURCE_ID AS id, arg_min(t.ROUTING_TARGET_KEY, e.TS_MS) AS rt,
                       arg_min(t.REQUESTED_SKILL_KEY, e.TS_MS) AS rs
                FROM INTERACTION_RESOURCE_FACT f
                JOIN INTERACTION_FACT i ON i.INTERACTION_ID = f.INTERACTION_ID
                JOIN RESOURCE_ r ON r.RESOURCE_KEY = f.RESOURCE_KEY
                JOIN STG_EVENTS e ON e.INTERACTION_ID = i.MEDIA_SERVER_IXN_GUID AND e.PARTY_ID = r.RESOURCE_NAME
                    AND e.PARTY_TYPE = r.RESOURCE_TYPE AND e.EVENT = 'EventAgentInvited' AND e.REASON = 'route'
                    AND e.TS_MS >= f.START_TS * 1000 AND e.TS_MS <= f.END_TS * 1000 + 999
                JOIN _tg t ON t.TARGET_TYPE = e.TARGET_TYPE AND t.TARGET_NAME = e.TARGET_NAME
                    AND t.TARGET_EXPRESSION IS NOT DISTINCT FROM e.TARGET_EXPRESSION
                WHERE {which}
                GROUP BY f.INTERACTION_RESOURCE_ID
            ) p
            WHERE f.INTERACTION_RESOURCE_ID = p.id
            """,
            [audit_key],
        )
