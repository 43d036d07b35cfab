"""Date format models: Oracle ``TO_CHAR``/``TO_DATE`` models and T-SQL ``CONVERT`` styles -> DuckDB strftime.

Only elements whose output is the same in both engines are mapped; anything else is refused by name (Oracle's
``MONTH``/``DAY`` are blank-padded and upper-cased, ``WW``/``D`` depend on NLS settings, ...)."""

from __future__ import annotations

import re

#: Oracle datetime format elements (longest first) -> strftime.
_ORACLE = {
    "YYYY": "%Y",
    "HH24": "%H",
    "HH12": "%I",
    "YY": "%y",
    "MM": "%m",
    "DD": "%d",
    "DDD": "%j",
    "HH": "%I",
    "MI": "%M",
    "SS": "%S",
    "AM": "%p",
    "PM": "%p",
}
_ORACLE_TOKEN = re.compile(r'"[^"]*"|[A-Za-z][A-Za-z0-9]*|[^A-Za-z"]+')
_ORACLE_ELEMENT = re.compile(r"(YYYY|YYY|YY|Y|HH24|HH12|HH|MI|SS|MM|DDD|DD|AM|PM|[A-Z]+)")
_PUNCT = re.compile(r"[-/,.;: ]+")


def oracle_format(model: str) -> str:
    """Oracle format model -> strftime; ValueError naming the first element we do not translate."""
    out: list[str] = []
    for tok in _ORACLE_TOKEN.findall(model):
        if tok.startswith('"'):
            out.append(tok[1:-1].replace("%", "%%"))
        elif not tok[0].isalpha():
            if not _PUNCT.fullmatch(tok):
                raise ValueError(f"format text {tok!r}")
            out.append(tok)
        else:
            pos = 0
            up = tok.upper()
            while pos < len(up):
                m = _ORACLE_ELEMENT.match(up, pos)
                elem = m.group(0) if m else up[pos:]
                if elem not in _ORACLE:
                    raise ValueError(f"format element {elem}")
                out.append(_ORACLE[elem])
                pos += len(elem)
    return "".join(out)


#: T-SQL CONVERT(varchar, datetime, style) styles (SQL Server docs, "Date and time styles") -> strftime.
TSQL_STYLES = {
    1: "%m/%d/%y",
    2: "%y.%m.%d",
    3: "%d/%m/%y",
    4: "%d.%m.%y",
    5: "%d-%m-%y",
    8: "%H:%M:%S",
    10: "%m-%d-%y",
    11: "%y/%m/%d",
    12: "%y%m%d",
    20: "%Y-%m-%d %H:%M:%S",
    23: "%Y-%m-%d",
    24: "%H:%M:%S",
    101: "%m/%d/%Y",
    102: "%Y.%m.%d",
    103: "%d/%m/%Y",
    104: "%d.%m.%Y",
    105: "%d-%m-%Y",
    108: "%H:%M:%S",
    110: "%m-%d-%Y",
    111: "%Y/%m/%d",
    112: "%Y%m%d",
    120: "%Y-%m-%d %H:%M:%S",
    121: "%Y-%m-%d %H:%M:%S.%g",
    126: "%Y-%m-%dT%H:%M:%S.%g",
}


def strftime_leftover(fmt: str) -> str | None:
    """A letter in a strftime format that is not a directive: a format token sqlglot did not translate."""
    stripped = re.sub(r"%.", "", fmt)
    m = re.search(r"[A-Za-z]+", stripped)
    return m.group(0) if m else None
