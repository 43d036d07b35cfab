"""GIM ETL options that change the facts, with GIM's section and option names, defaults and semantics.

One typed model serves the TOML config file, `--option NAME=VALUE` overrides and Dagster run config.
Option pages: https://enu.docs.genesys.com/Options:Genesys_Info_Mart_ETL:gim-etl-populate:populate-workbin-as-hold ,
https://docs.genesys.com/Documentation/GIM/latest/User/GIMMMIxnFlow (populate-mm-ixnqueue-facts tooltip).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from etl.domain.user_data import UserDataMapping

SECTION = "gim-etl-populate"
#: Sections other than SECTION and the options each holds (GIM's names). Date-time options:
#: https://docs.genesys.com/Documentation/GIM/latest/User/GIMDateTime ; agent-state options ([gim-etl], GIMPopAgent):
#: https://docs.genesys.com/Documentation/GIM/latest/User/GIMPopAgent
SECTIONS: dict[str, tuple[str, ...]] = {
    "date-time": ("date-time-tz", "date-time-max-days-ahead", "date-time-min-days-ahead"),
    "gim-etl": (
        "service-objective",
        "sm-resource-state-priority",
        "factor-dnd-into-sm-resource-states",
        "max-state-duration",
        "max-session-duration-in-hours",
    ),
}
USER_DATA_SECTION = "user-data"
#: The state names `sm-resource-state-priority` lists (GIMPopAgent).
_STATE_NAMES = ("ACW", "NOT_READY", "BUSY", "READY")


class GimOptions(BaseModel):
    """Options of the ``[gim-etl-populate]`` section (GIM 8.5.1xx behaviour), plus ``[date-time]``, ``[gim-etl]``
    ``service-objective`` and the ``[user-data]`` mapping."""

    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="forbid")

    populate_workbin_as_hold: bool = Field(
        False,
        alias="populate-workbin-as-hold",
        description="Time an interaction spends in the handling agent's (or place's) own personal workbin, put "
        "there by that agent, is hold on the agent's IRF instead of mediation.",
    )
    populate_mm_ixnqueue_facts: bool = Field(
        False,
        alias="populate-mm-ixnqueue-facts",
        description="Write an MSF for every interaction-queue stay. Since 8.5.003 GIM always writes one for the "
        "first interaction queue an inbound interaction enters before first handling, whatever the value.",
    )
    populate_mm_workbin_facts: bool = Field(
        False,
        alias="populate-mm-workbin-facts",
        description="Write an MSF for workbin stays that count as mediation.",
    )
    # Contract 1.1 (../shared/contract/events.md, "Media types"): which media are online. GIM keeps this as
    # MEDIA_TYPE.IS_ONLINE and transforms new media types as offline unless marked online
    # (https://docs.genesys.com/Documentation/PSAAS/latest/RPRT/Table-MEDIA_TYPE); the chat flows are the guide
    # for online interactions, the e-mail flows for offline ones
    # (https://docs.genesys.com/Documentation/GIM/latest/User/GIMMMIxnFlow-Chat).
    online_media_types: tuple[str, ...] = Field(
        ("chat",),
        alias="online-media-types",
        description="Media types with an online session (customer present, like chat): they follow GIM's chat "
        "rules and have MEDIA_TYPE.IS_ONLINE = 1; every other media (e-mail, workitem, ...) is offline.",
    )

    date_time_tz: str = Field(
        "GMT",
        alias="date-time-tz",
        description="[date-time] Time zone of DATE_TIME's labels and CAL_* columns (a tz database name).",
    )
    date_time_max_days_ahead: int = Field(
        366,
        alias="date-time-max-days-ahead",
        ge=0,
        description="[date-time] Days DATE_TIME is populated ahead (after the last day of the data).",
    )
    date_time_min_days_ahead: int = Field(
        183,
        alias="date-time-min-days-ahead",
        ge=0,
        description="[date-time] DATE_TIME is extended again when fewer days than this remain ahead.",
    )
    service_objective: int = Field(
        0,
        alias="service-objective",
        ge=0,
        description="[gim-etl] Seconds within which an interaction should reach its handling resource "
        "(MET_SERVICE_OBJECTIVE_FLAG); 0 = no objective, the flag stays 0.",
    )
    user_data: UserDataMapping = Field(
        default_factory=UserDataMapping,
        alias="user-data",
        description="[user-data] Which attached-data key goes to which user-data column (etl.domain.user_data).",
    )

    # Agent states (etl.domain.agent_states), GIM's [gim-etl] options of "Populating agent activity":
    # https://docs.genesys.com/Documentation/GIM/latest/User/GIMPopAgent
    sm_resource_state_priority: str = Field(
        "ACW, NOT_READY, BUSY, READY",
        alias="sm-resource-state-priority",
        description="Concurrent agent states of one media, highest priority first (GIM's names ACW, NOT_READY, "
        "BUSY, READY); the summarized state is the one listed first. LoggedOnOnly ranks below all.",
    )
    factor_dnd_into_sm_resource_states: bool = Field(
        True,
        alias="factor-dnd-into-sm-resource-states",
        description="Do-not-disturb is a NotReady state of every media while on (GIM's default for multimedia); "
        "DND set before any media was added is not reported.",
    )
    max_state_duration: int = Field(
        14400,
        ge=1,
        alias="max-state-duration",
        description="Seconds after which a summarized state that has not changed is ended (SM_RES_STATE_FACT).",
    )
    max_session_duration_in_hours: int = Field(
        24,
        ge=1,
        alias="max-session-duration-in-hours",
        description="Hours after which a login session that has not ended is ended (SM_RES_SESSION_FACT).",
    )

    @field_validator("online_media_types", mode="before")
    @classmethod
    def _media_list(cls, value: object) -> object:
        """A TOML list, or a comma-separated `--option` value; names compared in lower case."""
        if isinstance(value, str):
            value = [v for v in (p.strip() for p in value.split(",")) if v]
        if isinstance(value, list | tuple):
            if not all(isinstance(v, str) and v.strip() for v in value):
                raise ValueError("online-media-types lists media type names, e.g. ['chat', 'sms']")
            return tuple(sorted({v.strip().lower() for v in value}))
        return value

    def is_online(self, media_type: str | None) -> bool:
        """The media has an online session (option `online-media-types`): GIM's chat rules apply to it."""
        return media_type is not None and media_type.lower() in self.online_media_types

    @field_validator("sm_resource_state_priority")
    @classmethod
    def _known_states(cls, value: str) -> str:
        unknown = [n for n in (p.strip().upper() for p in value.split(",")) if n and n not in _STATE_NAMES]
        if unknown:
            raise ValueError(f"unknown state(s) {unknown}; use {', '.join(_STATE_NAMES)}")
        return value

    def as_gim_dict(self) -> dict[str, object]:
        return self.model_dump(by_alias=True)

    @classmethod
    def load(cls, config_file: Path | None = None, overrides: Iterable[str] = ()) -> GimOptions:
        """Options from a TOML file (GIM section name) with ``NAME=VALUE`` overrides applied on top."""
        values: dict[str, object] = {}
        if config_file is not None:
            with Path(config_file).open("rb") as fh:
                values.update(_sections(tomllib.load(fh), config_file))
        for item in overrides:
            name, sep, raw = item.partition("=")
            if not sep:
                raise ValueError(f"--option expects NAME=VALUE, got {item!r}")
            _known(name.strip(), [n for n in cls.option_names() if n != USER_DATA_SECTION], "--option")
            values[name.strip()] = _parse_value(name.strip(), raw.strip())
        return cls.model_validate(values)

    @classmethod
    def option_names(cls) -> list[str]:
        return [f.alias or n for n, f in cls.model_fields.items()]


def _sections(doc: dict[str, object], where: Path | str) -> dict[str, object]:
    """The options of a parsed TOML file, from GIM's sections ([gim-etl-populate], [date-time], [gim-etl]) and
    [user-data]; an unknown section or option is an error naming the valid ones (a misspelling would otherwise run
    on defaults)."""
    grouped = {name for names in SECTIONS.values() for name in names}
    populate = tuple(n for n in GimOptions.option_names() if n not in grouped and n != USER_DATA_SECTION)
    known = {SECTION: populate, **SECTIONS}
    values: dict[str, object] = {}
    for section, body in doc.items():
        if section == USER_DATA_SECTION:
            values[USER_DATA_SECTION] = body  # typed and checked by UserDataMapping
            continue
        if section not in known:
            valid = ", ".join(f"[{k}]" for k in (*known, USER_DATA_SECTION))
            raise ValueError(f"{where}: unknown section [{section}] (valid: {valid})")
        if not isinstance(body, dict):
            raise ValueError(f"{where}: [{section}] must be a table of options")
        for name in body:
            _known(name, list(known[section]), f"{where}: [{section}]")
        values.update(body)
    return values


def _known(name: str, names: list[str], where: str) -> None:
    if name not in names and name not in GimOptions.model_fields:  # (field names are accepted too)
        raise ValueError(f"{where}: unknown option {name!r} (valid: {', '.join(names)})")


def _parse_value(name: str, raw: str) -> object:
    """An --option value in the type of its option (true/false, an integer or text)."""
    field = next((f for n, f in GimOptions.model_fields.items() if name in (n, f.alias)), None)
    if field is None or field.annotation is bool:
        return _parse_bool(name, raw)
    if field.annotation is int:
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"option {name} expects an integer, got {raw!r}") from None
    if field.annotation is str or field.alias == "online-media-types":
        return raw
    raise ValueError(f"option {name} is set in the config file, not with --option")


def _parse_bool(name: str, raw: str) -> bool:
    lowered = raw.lower()
    if lowered in {"true", "1", "yes", "on"}:
        return True
    if lowered in {"false", "0", "no", "off"}:
        return False
    raise ValueError(f"option {name} expects true or false, got {raw!r}")
