"""An independent reference for ward TPR, for tests only.

It reads a workbook with openpyxl (the product reads with fastexcel), finds the
indicator columns by their exact published headers, cleans names with the few
rules the sample files need, and applies the TPR rule in plain Python loops. It
shares no code with tpr_widgets, so agreement between the two is evidence.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import openpyxl

GE = "≥"
MOJIBAKE = "â‰¥"


def indicator(method: str, kind: str, age: str, ge: str = MOJIBAKE) -> str:
    """The exact header of one indicator column, as domain.md lists them."""
    group = {"u5": "<5yrs", "o5": f" {ge}5yrs (excl PW)", "pw": "Preg Women (PW)"}[age]
    if kind == "positive":
        head = "Persons tested positive for malaria by "
    elif method == "rdt":
        head = "Persons presenting with fever & tested by "
    else:
        head = "Persons presenting with fever and tested by "
    name = {"rdt": "RDT", "microscopy": "Microscopy"}[method]
    return f"{head}{name} {group}"


@dataclass
class WardSums:
    tested: float = 0.0
    positive: float = 0.0
    impossible: int = 0
    facilities: set[str] | None = None


def _clean(text: str, code: str) -> str:
    text = " ".join(str(text).split())
    if text.lower().startswith(code + " "):
        text = text[len(code) + 1 :]
    for suffix in (" Local Government Area", " State"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    return text


def _ward(text: str, code: str, lga: str) -> str:
    text = _clean(text, code)
    tag = ""
    if text.endswith(")") and "(" in text:
        text, tag = text[: text.rindex("(")].strip(), text[text.rindex("(") + 1 : -1]
    words = [w for w in text.split() if w.lower() != "ward"]
    name = " ".join(words)
    if tag and tag.lower() != lga.lower():
        name = f"{name} ({tag})"
    return name


def ward_tpr(
    path: Path,
    *,
    state: str,
    code: str,
    ages: tuple[str, ...],
    methods: tuple[str, ...],
    level: str | None = None,
    sheet: str = "raw",
    ge: str = MOJIBAKE,
    geo: tuple[str, str, str, str] = ("State", "LGA", "Ward", "Health Faccility"),
    level_column: str = "level",
) -> dict[tuple[str, str], WardSums]:
    """(LGA, ward) -> pooled sums for one state, by the published rule."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = book[sheet].iter_rows(values_only=True)
    header = list(next(rows))
    at = {h: i for i, h in enumerate(header)}
    pairs = [
        (at[indicator(m, "tested", a, ge)], at[indicator(m, "positive", a, ge)])
        for m in methods
        for a in ages
    ]
    out: dict[tuple[str, str], WardSums] = defaultdict(WardSums)
    for row in rows:
        raw_state = row[at[geo[0]]]
        if not raw_state or _clean(raw_state, code) != state:
            continue
        if level is not None and str(row[at[level_column]]).lower() != level:
            continue
        lga = _clean(row[at[geo[1]]], code)
        ward = _ward(row[at[geo[2]]], code, lga)
        sums = out[(lga, ward)]
        if sums.facilities is None:
            sums.facilities = set()
        sums.facilities.add(" ".join(str(row[at[geo[3]]]).split()))
        for t_at, p_at in pairs:
            t, p = row[t_at], row[p_at]
            if t is None and p is None:
                continue
            t, p = float(t or 0), float(p or 0)
            if p > t:
                sums.impossible += 1
                continue
            sums.tested += t
            sums.positive += p
    book.close()
    return dict(out)


def rate(sums: WardSums) -> float | None:
    if not sums.tested:
        return None
    return round(100.0 * sums.positive / sums.tested, 2)
