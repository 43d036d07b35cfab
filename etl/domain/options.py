"""GIM ETL options that change the facts, with GIM's section and option names, defaults and semantics.

One typed model serves the TOML config file, `--option NAME=VALUE` overrides and Dagster run config.
Option pages: https://enu.docs.genesys.com/Options:Genesys_Info_Mart_ETL:gim-etl-populate:populate-workbin-as-hold ,
https://docs.genesys.com/Documentation/GIM/latest/User/GIMMMIxnFlow (populate-mm-ixnqueue-facts tooltip).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

SECTION = "gim-etl-populate"


class GimOptions(BaseModel):
    """Options of the ``[gim-etl-populate]`` section (GIM 8.5.1xx behaviour)."""

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

    def as_gim_dict(self) -> dict[str, bool]:
        return self.model_dump(by_alias=True)

    @classmethod
    def load(cls, config_file: Path | None = None, overrides: Iterable[str] = ()) -> GimOptions:
        """Options from a TOML file (GIM section name) with ``NAME=VALUE`` overrides applied on top."""
        values: dict[str, object] = {}
        if config_file is not None:
            with Path(config_file).open("rb") as fh:
                values.update(_section(tomllib.load(fh), config_file, cls.option_names()))
        for item in overrides:
            name, sep, raw = item.partition("=")
            if not sep:
                raise ValueError(f"--option expects NAME=VALUE, got {item!r}")
            _known(name.strip(), cls.option_names(), "--option")
            values[name.strip()] = _parse_bool(name, raw.strip())
        return cls.model_validate(values)

    @classmethod
    def option_names(cls) -> list[str]:
        return [f.alias or n for n, f in cls.model_fields.items()]


#: Sections a config file may hold (a new section is added here when something reads it).
KNOWN_SECTIONS: tuple[str, ...] = (SECTION,)


def _section(doc: dict[str, object], where: Path | str, names: list[str]) -> dict[str, object]:
    """The [gim-etl-populate] section of a parsed TOML file; an unknown section or option is an error naming the
    valid ones (a misspelling would otherwise run on defaults)."""
    for section in doc:
        if section not in KNOWN_SECTIONS:
            raise ValueError(
                f"{where}: unknown section [{section}] (valid: {', '.join(f'[{k}]' for k in KNOWN_SECTIONS)})"
            )
    values = doc.get(SECTION, {})
    if not isinstance(values, dict):
        raise ValueError(f"{where}: [{SECTION}] must be a table of options")
    for name in values:
        _known(name, names, f"{where}: [{SECTION}]")
    return values


def _known(name: str, names: list[str], where: str) -> None:
    if name not in names and name not in GimOptions.model_fields:  # (field names are accepted too)
        raise ValueError(f"{where}: unknown option {name!r} (valid: {', '.join(names)})")


def _parse_bool(name: str, raw: str) -> bool:
    lowered = raw.lower()
    if lowered in {"true", "1", "yes", "on"}:
        return True
    if lowered in {"false", "0", "no", "off"}:
        return False
    raise ValueError(f"option {name} expects true or false, got {raw!r}")
