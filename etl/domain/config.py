"""GIM's configuration dimensions as rules over a configuration log (../shared/contract/config.md): which version
of an object is valid when, who belongs to which agent group and with which skills over time, the set of groups an
agent had at a moment (RESOURCE_GROUP_COMBINATION), and what a routing target is in GIM's terms. No I/O, no frames.

Times are UTC epoch seconds (GIM's *_TS); a version is valid from its `ts` until the next version of the same
(tenant, object, id), and an `op: delete` version ends the object's existence at its `ts`.

GIM pages: ROUTING_TARGET (https://docs.genesys.com/Documentation/GIM/latest/PDMMS/Table-ROUTING_TARGET: "a new
row is issued for each distinct routing target", its columns) and Subject Areas
(https://docs.genesys.com/Documentation/GIM/Current/PDMPostgre/SubjectAreas: IRF "and RESOURCE_GROUP_FACT_" / "and
RESOURCE_SKILL_FACT_" are combined without direct references, i.e. by resource and time) were read; the other
Table-* pages are cited at their place in GIM's physical data model, whose text our search corpus does not hold.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from etl.domain.descriptors import code

#: Open end of a period: GIM's tentative end (the same sentinel as active facts, 2099-12-31 00:00 UTC).
OPEN_END = 4102358400

ObjectKey = tuple[str, str, str]  # (tenant, object, id)


@dataclass(frozen=True)
class Version:
    """One accepted line of the configuration log."""

    tenant: str
    object: str
    id: str
    ts: int  # seconds
    op: str  # upsert | delete
    payload: dict[str, Any]


@dataclass(frozen=True)
class Segment:
    """A period [start, end) during which one upsert version of an object is the valid one."""

    start: int
    end: int
    payload: dict[str, Any]


def timelines(versions: Iterable[Version]) -> dict[ObjectKey, list[Segment]]:
    """Per object, its valid versions in time order. "A later ts for the same (tenant, object, id) replaces the
    earlier version from that moment on" (config.md); a delete ends the previous version and starts none. Two
    versions in the same second: the later line wins (the earlier one lasts zero seconds and is dropped)."""
    by_obj: dict[ObjectKey, list[Version]] = defaultdict(list)
    for v in versions:
        by_obj[(v.tenant, v.object, v.id)].append(v)
    out: dict[ObjectKey, list[Segment]] = {}
    for key, vs in by_obj.items():
        vs.sort(key=lambda v: v.ts)
        segs = []
        for i, v in enumerate(vs):
            end = vs[i + 1].ts if i + 1 < len(vs) else OPEN_END
            if v.op == "upsert" and end > v.ts:
                segs.append(Segment(v.ts, end, v.payload))
        out[key] = segs
    return out


#: Before the first version of an object whose log starts with a delete, it is taken to have existed.
_BEFORE = -(2**62)


def existence(versions: Iterable[Version]) -> dict[ObjectKey, tuple[int, int]]:
    """When each object of the log exists, as one period: from its first upsert (or always, when its log starts
    with a delete) until its last version when that is a delete (else open)."""
    by_obj: dict[ObjectKey, list[Version]] = defaultdict(list)
    for v in versions:
        by_obj[(v.tenant, v.object, v.id)].append(v)
    out = {}
    for key, vs in by_obj.items():
        vs.sort(key=lambda v: v.ts)
        start = vs[0].ts if vs[0].op == "upsert" else _BEFORE
        out[key] = (start, vs[-1].ts if vs[-1].op == "delete" else OPEN_END)
    return out


def lifespan(segments: list[Segment]) -> tuple[int, int] | None:
    """(first start, last end) of an object's existence; None if it never existed (only deletes)."""
    return (segments[0].start, segments[-1].end) if segments else None


def current(segments: list[Segment]) -> Segment | None:
    """The latest valid version: the attributes a type-1 dimension row (RESOURCE_, GROUP_) carries."""
    return segments[-1] if segments else None


def _merge(periods: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of periods as disjoint, non-adjacent periods in time order."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(periods):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _clip(period: tuple[int, int], within: tuple[int, int] | None) -> tuple[int, int] | None:
    if within is None:
        return period
    s, e = max(period[0], within[0]), min(period[1], within[1])
    return (s, e) if s < e else None


@dataclass(frozen=True)
class Membership:
    """An uninterrupted period in which agent `person` belongs to agent group `group` (RESOURCE_GROUP_FACT_)."""

    tenant: str
    person: str
    group: str
    start: int
    end: int


#: (member object, group object, the member's list of its groups): agents in agent groups, places in place groups.
AGENT_GROUPS = ("Person", "AgentGroup", "agent_groups")
PLACE_GROUPS = ("Place", "PlaceGroup", "place_groups")


def memberships(
    lines: dict[ObjectKey, list[Segment]],
    exist: dict[ObjectKey, tuple[int, int]],
    kind: tuple[str, str, str] = AGENT_GROUPS,
) -> list[Membership]:
    """Group membership over time: agents in agent groups (RESOURCE_GROUP_FACT_,
    https://docs.genesys.com/Documentation/GIM/latest/PDMMS/Table-RESOURCE_GROUP_FACT_) or, with
    `kind=PLACE_GROUPS`, places in place groups (PLACE_GROUP_FACT_).

    "Membership can come from either side" (config.md): an agent belongs to a group at t when the Person version
    valid at t lists the group in `agent_groups`, or the AgentGroup version valid at t lists the person in
    `members` (a version without `members` says nothing). A membership lasts only while both objects exist
    (`exist`, from `existence`; a group or person the log never mentions as an object is taken to exist)."""
    member_obj, group_obj, field_name = kind
    claims: dict[tuple[str, str, str], list[tuple[int, int]]] = defaultdict(list)
    for (tenant, obj, oid), segs in lines.items():
        for seg in segs:
            if obj == member_obj:
                pairs = [(oid, g) for g in seg.payload.get(field_name) or []]
            elif obj == group_obj and seg.payload.get("members") is not None:
                pairs = [(m, oid) for m in seg.payload["members"]]
            else:
                continue
            for member, group in pairs:
                period: tuple[int, int] | None = (seg.start, seg.end)
                for other in ((tenant, member_obj, member), (tenant, group_obj, group)):
                    period = _clip(period, exist.get(other)) if period else None
                if period:
                    claims[(tenant, member, group)].append(period)
    return [Membership(t, p, g, s, e) for (t, p, g), periods in sorted(claims.items()) for s, e in _merge(periods)]


@dataclass(frozen=True)
class Combination:
    """The set of agent groups `person` belonged to during [start, end) (RESOURCE_GROUP_COMBINATION)."""

    tenant: str
    person: str
    groups: tuple[str, ...]  # sorted, non-empty
    start: int
    end: int


def combinations(members: list[Membership]) -> list[Combination]:
    """Per agent, the periods in which its set of groups is constant and not empty: the combination an IRF
    starting in the period refers to (https://docs.genesys.com/Documentation/GIM/latest/PDMMS/Table-RESOURCE_GROUP_COMBINATION)."""
    by_person: dict[tuple[str, str], list[Membership]] = defaultdict(list)
    for m in members:
        by_person[(m.tenant, m.person)].append(m)
    out: list[Combination] = []
    for (tenant, person), ms in sorted(by_person.items()):
        bounds = sorted({b for m in ms for b in (m.start, m.end)})
        for s, e in zip(bounds, bounds[1:], strict=False):
            groups = tuple(sorted({m.group for m in ms if m.start <= s and e <= m.end}))
            if not groups:
                continue
            if out and out[-1].person == person and out[-1].groups == groups and out[-1].end == s:
                out[-1] = Combination(tenant, person, groups, out[-1].start, e)
            else:
                out.append(Combination(tenant, person, groups, s, e))
    return out


@dataclass(frozen=True)
class SkillPeriod:
    """A period in which agent `person` has `skill` at one `level` (RESOURCE_SKILL_FACT_)."""

    tenant: str
    person: str
    skill: str
    level: int
    start: int
    end: int


def skill_periods(lines: dict[ObjectKey, list[Segment]], exist: dict[ObjectKey, tuple[int, int]]) -> list[SkillPeriod]:
    """Agents' skills and levels over time, from the `skills` of each Person version; consecutive versions with
    the same level make one period (https://docs.genesys.com/Documentation/GIM/latest/PDMMS/Table-RESOURCE_SKILL_FACT_)."""
    spans = exist
    out: list[SkillPeriod] = []
    for (tenant, obj, person), segs in sorted(lines.items()):
        if obj != "Person":
            continue
        open_: dict[str, SkillPeriod] = {}
        for seg in segs:
            skills = seg.payload.get("skills") or {}
            for name, p in list(open_.items()):
                if skills.get(name) != p.level or p.end != seg.start:
                    out.append(p)
                    del open_[name]
            for name, level in skills.items():
                p = open_.get(name)
                open_[name] = SkillPeriod(tenant, person, name, level, p.start if p else seg.start, seg.end)
        out.extend(open_.values())
    clipped = []
    for p in out:  # a skill the log deletes ends there
        period = _clip((p.start, p.end), spans.get((p.tenant, "Skill", p.skill)))
        if period:
            clipped.append(SkillPeriod(p.tenant, p.person, p.skill, p.level, *period))
    return sorted(clipped, key=lambda p: (p.person, p.skill, p.start))


#: The contract's routing-target types -> GIM's ROUTING_TARGET_TYPE labels
#: (https://docs.genesys.com/Documentation/GIM/latest/PDMMS/Table-ROUTING_TARGET); codes are upper case without
#: spaces, as every GIM code in this mart (`descriptors.code`).
ROUTING_TARGET_TYPES = {
    "Agent": "Agent",
    "Place": "Place",
    "AgentGroup": "Agent Group",
    "PlaceGroup": "Place Group",
    "Skill": "Skill Expression",
}


@dataclass(frozen=True)
class RoutingTarget:
    """One ROUTING_TARGET row: what the strategy was asked to route to."""

    type: str
    type_code: str
    selected: str
    agent_group: str | None
    place_group: str | None
    skill_expression: str | None

    @property
    def natural_key(self) -> str:
        return f"{self.type_code}|{self.selected}|{self.skill_expression or ''}"


def routing_target(target_type: str, name: str, expression: str | None) -> RoutingTarget:
    """A routing invitation's `target` (config.md) as GIM's ROUTING_TARGET: TARGET_OBJECT_SELECTED is the
    target's name; the group and skill-expression columns are filled for their own types only."""
    label = ROUTING_TARGET_TYPES[target_type]
    return RoutingTarget(
        type=label,
        type_code=code(label),
        selected=name,
        agent_group=name if target_type == "AgentGroup" else None,
        place_group=name if target_type == "PlaceGroup" else None,
        skill_expression=(expression or name) if target_type == "Skill" else None,
    )


_TERM = re.compile(r"([A-Za-z_][\w.\- ]*?)\s*(>=|<=|=|>|<)\s*(\d+)|([A-Za-z_][\w.\-]*)")


def requested_skills(expression: str | None) -> tuple[tuple[str, int | None], ...]:
    """The (skill, level) terms of a skill expression such as `Billing>=5 & English>3` (URS' skill-expression
    syntax: comparisons joined by & and |), sorted; a bare name is a term without a level. REQUESTED_SKILL
    (https://docs.genesys.com/Documentation/GIM/latest/PDMMS/Table-REQUESTED_SKILL) keeps one row per term."""
    if not expression:
        return ()
    terms: dict[str, int | None] = {}
    for part in re.split(r"[&|()!]|\bAND\b|\bOR\b", expression):
        m = _TERM.fullmatch(part.strip())
        if m:
            name, level = (m.group(1), int(m.group(3))) if m.group(1) else (m.group(4), None)
            terms[name.strip()] = level
    return tuple(sorted(terms.items()))
