"""What the GIM documentation says each e-mail flow produces, read from fixtures/flows/<flow>/documented.yaml.

The expectations are written by hand from the page (they are the oracle the golden rows are reviewed against),
so they live as data beside each flow's events and golden rows, every entry citing the page section (and option
page) it comes from. File format::

    flow: direct_transfer                      # the directory's name, and the key in etl.simulate.flows.FLOWS
    page: https://docs.genesys.com/...         # the GIM page
    section: "Agent transfers e-mail ..."      # the flow's section on that page
    expected:                                  # one entry per option setting the page distinguishes
      - cite: 'GIMMMIxnFlow-Email, "..."'      # where the entry comes from (required)
        note: '...'                            # optional: how the page's diagram was read
        when: {populate-workbin-as-hold: true} # option values the entry holds for (absent: any)
        irf: [[IN, a1, RoutedTo/Transferred]]  # (interaction suffix, cast role, Role/Result [Reason])
        msf: [[IN, Inbound], [IN, VQ1]]        # (interaction suffix, resource name)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

FLOWS_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "flows"
DOCUMENTED_FILE = "documented.yaml"

OPTION_NAMES = ("populate-workbin-as-hold", "populate-mm-ixnqueue-facts", "populate-mm-workbin-facts")


@dataclass(frozen=True)
class Documented:
    """What the documentation page says a flow produces.

    `irf`: the IRF descriptors illustrated, as a multiset of (interaction, resource, label) with the
    interaction's suffix and the cast role ("a1", "a2", "s1"). `msf`: the MSF resources written, as a
    multiset of (interaction, resource name) — our reading of the diagrams. `when`: the option values for
    which the expectation holds (others are listed as separate entries). `cite`: where the page says so.
    """

    irf: tuple[tuple[str, str, str], ...]
    msf: tuple[tuple[str, str], ...] = ()
    when: tuple[tuple[str, bool], ...] = ()
    cite: str = field(default="", compare=False)


def documented_path(flow: str) -> Path:
    return FLOWS_DIR / flow / DOCUMENTED_FILE


@cache
def documented(flow: str) -> tuple[Documented, ...]:
    """The documented expectations of `flow`, in file order."""
    path = documented_path(flow)
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    if not isinstance(data, dict) or data.get("flow") != flow:
        raise ValueError(f"{path}: expected a mapping with flow: {flow}")
    entries = data.get("expected")
    if not entries:
        raise ValueError(f"{path}: no expected entries")
    return tuple(_entry(path, data, e) for e in entries)


def _entry(path: Path, data: dict[str, Any], entry: dict[str, Any]) -> Documented:
    unknown = set(entry) - {"cite", "note", "when", "irf", "msf"}
    if unknown or not entry.get("cite") or not entry.get("irf"):
        raise ValueError(f"{path}: each entry needs cite and irf (and knows only note, when, msf): {entry}")
    when = tuple((entry.get("when") or {}).items())
    if any(k not in OPTION_NAMES or not isinstance(v, bool) for k, v in when):
        raise ValueError(f"{path}: when takes {OPTION_NAMES} with true/false: {when}")
    irf = tuple(_row(path, r, 3) for r in entry["irf"])
    msf = tuple(_row(path, r, 2) for r in entry.get("msf") or ())
    return Documented(irf, msf, when, cite=f"{data.get('page', '')} {entry['cite']}".strip())  # type: ignore[arg-type]


def _row(path: Path, row: Any, width: int) -> tuple[str, ...]:
    if not isinstance(row, list) or len(row) != width or not all(isinstance(v, str) for v in row):
        raise ValueError(f"{path}: expected a list of {width} strings, got {row!r}")
    return tuple(row)


def expectation(flow: str, options: dict[str, bool]) -> Documented:
    """The documented expectation that applies under `options` (the most specific matching entry)."""
    best: Documented | None = None
    for doc in documented(flow):
        if all(options.get(k, False) == v for k, v in doc.when) and (best is None or len(doc.when) > len(best.when)):
            best = doc
    assert best is not None
    return best


def irf_expectation(flow: str, options: dict[str, bool]) -> Documented:
    """The entry whose IRF descriptors hold under `options`: the pages show them changing only with
    populate-workbin-as-hold, so the first entry for the hold value (one that names it, else any) applies."""
    hold = "populate-workbin-as-hold"
    docs = [d for d in documented(flow) if all(options.get(k) == v for k, v in d.when if k == hold)]
    hold_specific = [d for d in docs if any(k == hold for k, _ in d.when)]
    return (hold_specific or docs)[0]


def msf_expectation(flow: str, options: dict[str, bool]) -> Documented | None:
    """The entry whose MSFs hold under `options`: only one written for exactly this setting (the options set
    true), since a diagram shows the MSFs of one setting; None where the page shows none."""
    exact = [d for d in documented(flow) if dict(d.when) == {k: v for k, v in options.items() if v}]
    return exact[0] if exact else None
