"""A configuration log (../shared/contract/config.md) for the generator's contact centre, and the routing targets
its strategies use: agent groups, skills, places, the queues' and strategies' Script objects, and a few changes
during the period (every day at 12:00 UTC some agents move to another group, one changes name, one gains a skill
level), all a pure function of the generator's settings and seed.

The routing target of a generated invitation (`target_for`) is drawn from the interaction id: an agent group the
invited agent belongs to at that moment, a skill expression the agent satisfies, or the agent itself.
"""

from __future__ import annotations

import json
import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from etl.simulate.scenario import iso, parse_iso

#: When each day's configuration changes take effect (UTC hour).
CHANGE_HOUR = 12
CHANGES_PER_DAY = 3


@dataclass
class ConfigLog:
    """The generated configuration: versions in time order plus the lookups `target_for` needs."""

    agents: int
    start_ms: int
    groups: list[str]
    versions: list[dict[str, Any]] = field(default_factory=list)
    #: agent number -> [(valid-from ms, groups, skills)] in time order
    history: dict[int, list[tuple[int, list[str], dict[str, int]]]] = field(default_factory=dict)

    def state_at(self, num: int, ts_ms: int) -> tuple[list[str], dict[str, int]]:
        groups, skills = self.history[num][0][1:]
        for start, g, s in self.history[num]:
            if start <= ts_ms:
                groups, skills = g, s
        return groups, skills

    def target_for(self, ev: dict[str, Any]) -> dict[str, Any]:
        """The `target` of a routing invitation `ev` (config.md): deterministic per interaction."""
        num = int(ev["party"]["id"][5:])
        groups, skills = self.state_at(num, parse_iso(ev["ts"]))
        pick = zlib.crc32(ev["interaction_id"].encode()) % 10
        if pick < 5 and groups:
            return {"type": "AgentGroup", "name": groups[pick % len(groups)]}
        if pick < 8:
            return {"type": "Skill", "name": "EmailSkills", "expression": f"Email>={skills['Email']}"}
        return {"type": "Agent", "name": ev["party"]["id"]}


def build(
    agents: int, queues: int, vqs: int, days: int, start_date: str, seed: int, agent_fields: Callable[[int], dict]
) -> ConfigLog:
    """The configuration log of a generated contact centre (see the module docstring)."""
    start = parse_iso(f"{start_date}T00:00:00.000Z")
    rng = random.Random(f"gim-etl-generator:{seed}:config")
    groups = [f"AG_Team{k + 1}" for k in range(max(2, agents // 10))]
    log = ConfigLog(agents, start, groups)
    at = iso(start)
    log.versions += [{"object": "AgentGroup", "id": g, "ts": at, "name": g.replace("AG_", "")} for g in groups]
    log.versions.append({"object": "AgentGroup", "id": "AG_Escalation", "ts": at, "name": "Escalation"})
    log.versions += [{"object": "Skill", "id": s, "ts": at, "name": s} for s in ("Email", "Billing", "Spanish")]
    for q in range(max(queues, 2)):
        log.versions.append({"object": "Script", "id": f"Inbound{q}", "ts": at, "script_type": "InteractionQueue"})
        log.versions.append({"object": "Script", "id": f"Strategy{q}", "ts": at, "script_type": "RoutingStrategy"})
    for v in range(vqs):
        log.versions.append({"object": "Script", "id": f"VQ{v + 1}", "ts": at, "script_type": "VirtualQueue"})
    for num in range(agents):
        fields = agent_fields(num)
        log.versions.append({"object": "Place", "id": fields["place"], "ts": at, "name": f"Desk {num:03d}"})
        member = [groups[num % len(groups)]] + (["AG_Escalation"] if num % 5 == 0 else [])
        skills = {"Email": 1 + num % 5} | ({"Billing": 1 + num % 3} if num % 2 == 0 else {})
        skills |= {"Spanish": 3} if num % 7 == 0 else {}
        _person(log, num, start, fields, member, skills)
    for day in range(days):
        when = start + day * 86_400_000 + CHANGE_HOUR * 3_600_000
        for num in rng.sample(range(agents), min(CHANGES_PER_DAY, agents)):
            _, member, skills = log.history[num][-1]
            moved = [groups[(groups.index(member[0]) + 1) % len(groups)], *member[1:]]
            _person(log, num, when, agent_fields(num), moved, skills)
        num = rng.randrange(agents)
        _, member, skills = log.history[num][-1]
        bumped = skills | {"Email": min(10, skills["Email"] + 1)}
        _person(log, num, when + 60_000, agent_fields(num), member, bumped)
    return log


def _person(log: ConfigLog, num: int, ts_ms: int, fields: dict, groups: list[str], skills: dict[str, int]) -> None:
    married = len(log.history.get(num, [])) >= 2  # an agent's third version also changes the last name
    log.versions.append(
        {
            "object": "Person",
            "id": f"agent{num:03d}",
            "ts": iso(ts_ms),
            "first_name": fields["first_name"],
            "last_name": fields["last_name"] + ("-Wed" if married else ""),
            "employee_id": fields["employee_id"],
            "user_name": f"user{num:03d}",
            "place": fields["place"],
            "agent_groups": groups,
            "skills": skills,
        }
    )
    log.history.setdefault(num, []).append((ts_ms, groups, skills))


def write(log: ConfigLog, out_dir: Path) -> Path:
    """`config.jsonl` in `out_dir`, in time order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "config.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for v in sorted(log.versions, key=lambda v: v["ts"]):
            fh.write(json.dumps(v, separators=(",", ":")) + "\n")
    return path
