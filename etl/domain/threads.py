"""E-mail threads: which interaction is the root of a thread (INTERACTION_FACT.MEDIA_SERVER_ROOT_IXN_GUID).

GIM: "MEDIA_SERVER_ROOT_IXN_GUID ... the ID of the root interaction of the thread" (Table-INTERACTION_FACT,
https://docs.genesys.com/Documentation/GIM/latest/PDMPostgre/Table-INTERACTION_FACT). Interaction Server gives
the thread id on some events; otherwise a reply's root is its parent's root [I].
"""

from __future__ import annotations

from collections.abc import Mapping

#: A parent cycle in bad input must not hang the run: the walk stops after this many hops.
MAX_HOPS = 100


def thread_root(
    guid: str, parent: Mapping[str, str | None], thread: Mapping[str, str | None], stored: Mapping[str, str]
) -> str:
    """The root of `guid`: its thread id when given, else its parent's root, else itself.

    `parent`/`thread` hold the links of the interactions being derived; an interaction without links of its own
    has the root `stored` by an earlier load, else is its own root."""
    cur = guid
    for _ in range(MAX_HOPS):
        if thread.get(cur):
            return thread[cur]  # type: ignore[return-value]
        if cur not in parent:
            return stored.get(cur, cur)
        nxt = parent[cur]
        if nxt is None:
            return cur
        cur = nxt
    return cur


def thread_roots(
    parent: Mapping[str, str | None], thread: Mapping[str, str | None], stored: Mapping[str, str]
) -> dict[str, str]:
    """`thread_root` of every interaction in `parent`."""
    return {g: thread_root(g, parent, thread, stored) for g in parent}
