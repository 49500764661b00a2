"""Give boundary features their LGA and state names from the national ward list.

Boundary files such as GRID3's carry ward names and codes but no LGA names.
Features are grouped by their `LGACode` (each feature alone when it has none).
For a group, the code is tried first as an OCHA p-code (`24006` -> `NG024006`,
Ilorin East) and accepted only when the codes agree: at least half of the
group's ward names match that LGA's wards in the national list. Otherwise the
group's names are matched against every LGA of the state and the LGA with the
most matches wins, if it is clearly ahead; a tie is refused and the features
keep no LGA (they can then join only by WardCode). Metro Kano's file shows why
the check matters: its `LGACode` 20012 is Gwale, but `NG020012` is Fagge.
"""

from __future__ import annotations

import logging
from functools import cache
from importlib import resources

import geopandas as gpd
import pandas as pd

from tpr_widgets.matching import match_names, normalise
from tpr_widgets.vocab import STATE_ZONES, canonical_state

log = logging.getLogger(__name__)


@cache
def national_wards() -> pd.DataFrame:
    """The bundled national ward list (INEC codes, OCHA p-codes, zones)."""
    source = resources.files("tpr_widgets") / "data" / "nigeria_wards.csv"
    with source.open("rb") as handle:
        frame = pd.read_csv(handle, dtype=str, keep_default_na=False)
    frame["state"] = [canonical_state(s) or s for s in frame["state_name"]]
    return frame


def state_of(value: object, code: object) -> str | None:
    """A canonical state from a name, else from a two-letter state code."""
    found = canonical_state(value)
    if found:
        return found
    if isinstance(code, str) and len(code.strip()) == 2:
        wards = national_wards()
        hits = wards.loc[wards["state_code"] == code.strip().upper(), "state"]
        if len(hits):
            return str(hits.iloc[0])
    return None


def _pcode(code: object) -> str | None:
    text = str(code).strip().upper() if code is not None else ""
    if text.startswith("NG") and text[2:].isdigit():
        return text
    if text.isdigit():
        return f"NG{int(text):06d}"
    return None


def _matches(names: list[str], wards: list[str]) -> int:
    return len(match_names(names, wards).matches)


def derive_lgas(
    frame: gpd.GeoDataFrame, state: str | None
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Fill `State`, `LGA`, `LGACode` where the national list says; notes."""
    frame = frame.copy()
    notes: list[str] = []
    wards = national_wards()
    states = [
        state_of(s, c) or state
        for s, c in zip(frame["State"], frame["StateCode"], strict=True)
    ]
    frame["State"] = states
    frame["GeopoliticalZone"] = [STATE_ZONES.get(s) if s else None for s in states]
    missing = frame["LGA"].isna()
    if not missing.any():
        return frame, notes
    keys = [
        (s, str(c) if c is not None else f"#{i}")
        for i, (s, c) in enumerate(zip(frame["State"], frame["LGACode"], strict=True))
    ]
    groups: dict[tuple[str | None, str], list[int]] = {}
    for i, key in enumerate(keys):
        if missing.iloc[i]:
            groups.setdefault(key, []).append(i)
    for (group_state, code), rows in groups.items():
        names = [str(n) for n in frame["WardName"].iloc[rows] if isinstance(n, str)]
        pool = wards[wards["state"] == group_state] if group_state else wards.iloc[:0]
        if pool.empty or not names:
            notes.append(
                f"LGA code {code}: no state known, so no LGA name was derived"
                if not group_state
                else f"LGA code {code}: no ward names to match"
            )
            continue
        lga, pcode, how = _by_code(code, names, pool)
        if lga is None:
            lga, pcode, how = _by_vote(names, pool)
        if lga is None:
            notes.append(
                f"LGA code {code} ({len(rows)} wards): {how}; these wards keep no LGA"
            )
            continue
        index = frame.index[rows]
        frame.loc[index, "LGA"] = lga
        frame.loc[index, "LGA_Pcode"] = pcode
        notes.append(f"LGA code {code} ({len(rows)} wards) is {lga} ({how})")
    return frame, notes


def _by_code(
    code: str, names: list[str], pool: pd.DataFrame
) -> tuple[str | None, str | None, str]:
    pcode = _pcode(code) if not code.startswith("#") else None
    if pcode is None:
        return None, None, "no usable code"
    lga_wards = pool[pool["lga_pcode"] == pcode]
    if lga_wards.empty:
        return None, None, f"{pcode} is not an LGA of the state"
    hits = _matches(names, list(lga_wards["ward_name"]))
    if 2 * hits < len(names):
        return None, None, f"{pcode} disagrees with the ward names"
    return str(lga_wards["lga_name"].iloc[0]), pcode, f"p-code {pcode}"


def _by_vote(
    names: list[str], pool: pd.DataFrame
) -> tuple[str | None, str | None, str]:
    groups = list(pool.groupby("lga_pcode"))
    # Full matching only for the LGAs that share most exact names (a national
    # file would otherwise match every group against every LGA of its state).
    keys = {normalise(n) for n in names}
    overlap = {
        str(pcode): len(keys & {normalise(n) for n in group["ward_name"]})
        for pcode, group in groups
    }
    best = sorted(set(overlap.values()), reverse=True)[:3]
    if best and best[0] > 0:
        groups = [(p, g) for p, g in groups if overlap[str(p)] in best]
    votes = sorted(
        (
            (
                _matches(names, list(group["ward_name"])),
                str(pcode),
                str(group["lga_name"].iloc[0]),
            )
            for pcode, group in groups
        ),
        reverse=True,
    )
    if not votes or votes[0][0] == 0:
        return None, None, "no LGA of the state has these ward names"
    if len(votes) > 1 and votes[0][0] == votes[1][0]:
        return (
            None,
            None,
            (
                f"ambiguous between {votes[0][2]} and {votes[1][2]} "
                f"({votes[0][0]} matching wards each)"
            ),
        )
    hits, pcode, lga = votes[0]
    how = f"{hits} of {len(names)} ward names match the national list"
    return str(lga), str(pcode), how
