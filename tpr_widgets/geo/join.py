"""Join the ward table to boundary features: one output row per feature.

Wards join on (state, normalised LGA, matched ward name) or, through the recode
table, on `WardCode`; never on a ward name alone. LGAs are paired first (by
the same matcher, so `Ilorin South` meets `Ilorin-South`), then ward names are
matched within each LGA pair (`tpr_widgets.matching`). A feature without a
ward name or LGA, or a name shared by two features of one LGA, never joins by
name; a data ward with no name never joins. Everything left over is reported:
data wards without a feature, features without data, features without a
geometry (kept as rows, left off the map).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from tpr_widgets.errors import InputError
from tpr_widgets.geo.read import null_geometry
from tpr_widgets.matching import disambiguate, match_names, normalise, normalise_lga
from tpr_widgets.vocab import STATE_CODES, STATE_ZONES

log = logging.getLogger(__name__)

IDENTIFIERS = (
    "WardCode",
    "WardName",
    "LGA",
    "State",
    "StateCode",
    "LGACode",
    "GeopoliticalZone",
)
MATCH_COLUMNS = ("Data_WardName", "Match", "Match_Score")


@dataclass
class JoinResult:
    """The joined wards and everything a reviewer needs to check the join."""

    frame: gpd.GeoDataFrame
    matches: pd.DataFrame
    unmatched_data: pd.DataFrame
    unmatched_boundary: pd.DataFrame
    null_geometry: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "boundary_wards": len(self.frame),
            "matched": int(self.frame["Data_WardName"].notna().sum()),
            "review": int(self.matches["Review"].sum()) if len(self.matches) else 0,
            "data_wards_unmatched": len(self.unmatched_data),
            "boundary_wards_without_data": len(self.unmatched_boundary),
            "null_geometry": len(self.null_geometry),
        }


def parse_recode(table: pd.DataFrame) -> pd.DataFrame:
    """The recode table in standard columns `LGA, WardName, BoundaryWard, WardCode`.

    Each row names a data ward (its LGA and name as in the ward table) and the
    boundary ward it is: a boundary ward name in the same LGA, or a WardCode.
    """
    keys = {str(c).strip().lower().replace("_", "").replace(" ", ""): c for c in table}
    spell = {
        "LGA": ("lga", "lganame"),
        "WardName": ("wardname", "ward", "dataward", "datawardname"),
        "BoundaryWard": ("boundaryward", "boundarywardname", "boundaryname"),
        "WardCode": ("wardcode",),
    }
    out = pd.DataFrame(index=table.index)
    for column, names in spell.items():
        source = next((keys[n] for n in names if n in keys), None)
        out[column] = (
            table[source].map(lambda v: str(v).strip() if pd.notna(v) else "")
            if source is not None
            else ""
        )
    if not (out["WardName"] != "").any() and len(out):
        raise InputError(
            "The recode table needs a WardName column (the data's ward name), with "
            "LGA and either BoundaryWard or WardCode; its columns are "
            f"{', '.join(map(str, table.columns))}."
        )
    bad = out[
        (out["WardName"] != "") & (out["BoundaryWard"] == "") & (out["WardCode"] == "")
    ]
    if len(bad):
        row = bad.iloc[0]
        raise InputError(
            f"The recode row for {row['WardName']!r} ({row['LGA'] or 'no LGA'}) "
            "names neither a BoundaryWard nor a WardCode; fill one in or remove it."
        )
    return out[out["WardName"] != ""].reset_index(drop=True)


def _state_key(value: Any) -> str:
    return str(value).strip().lower() if isinstance(value, str) and value else ""


def join_wards(
    ward: pd.DataFrame,
    boundaries: gpd.GeoDataFrame,
    recode: pd.DataFrame | None = None,
    state: str | None = None,
) -> JoinResult:
    """One row per boundary feature (of `state`), with the ward table's values."""
    notes: list[str] = []
    features = boundaries.reset_index(drop=True).copy()
    if state and state != "all":
        keep = features["State"].isna() | (features["State"] == state)
        if not keep.any():
            raise InputError(
                f"The boundary file has no wards of {state}; upload the boundaries "
                "of the state you chose."
            )
        dropped = int((~keep).sum())
        if dropped:
            notes.append(f"{dropped} boundary features of other states left out")
        features = features[keep].reset_index(drop=True)
    rules = parse_recode(recode) if recode is not None and len(recode) else None
    chosen: dict[int, tuple[int, str, float]] = {}  # feature -> (data row, how)
    data_taken: set[int] = set()
    matches: list[dict[str, Any]] = []

    def record(f: int, d: int, how: str, score: float, review: bool) -> None:
        chosen[f] = (d, how, score)
        data_taken.add(d)
        matches.append(
            {
                "State": ward.at[d, "State"],
                "LGA": ward.at[d, "LGA"],
                "Data_WardName": ward.at[d, "WardName"],
                "Boundary_WardName": features.at[f, "WardName"],
                "WardCode": features.at[f, "WardCode"],
                "Method": how,
                "Score": score,
                "Review": review,
            }
        )

    data_key = {
        i: (normalise_lga(ward.at[i, "LGA"]), normalise(ward.at[i, "WardName"]))
        for i in ward.index
    }
    if rules is not None:
        codes = features["WardCode"]
        for _, rule in rules[rules["WardCode"] != ""].iterrows():
            key = (normalise_lga(rule["LGA"]), normalise(rule["WardName"]))
            rows = [i for i, k in data_key.items() if k == key and i not in data_taken]
            hits = list(features.index[codes == rule["WardCode"]])
            if len(rows) == 1 and len(hits) == 1 and hits[0] not in chosen:
                record(hits[0], rows[0], "recode_code", 100.0, True)
            else:
                notes.append(
                    f"recode {rule['WardName']!r} -> {rule['WardCode']!r} not used "
                    f"({len(rows)} data wards, {len(hits)} features with that code)"
                )

    # Pair LGAs within each state (a boundary state may be unknown: '').
    b_lgas = features["LGA"]
    rename: dict[str, str] = {}
    for s in sorted({_state_key(v) for v in ward["State"]}):
        d_rows = [i for i in ward.index if _state_key(ward.at[i, "State"]) == s]
        f_rows = [
            f
            for f in features.index
            if isinstance(b_lgas.iloc[f], str)
            and _state_key(features.at[f, "State"]) in (s, "")
        ]
        d_lga = list(dict.fromkeys(str(ward.at[i, "LGA"]) for i in d_rows))
        f_lga = list(dict.fromkeys(str(b_lgas.iloc[f]) for f in f_rows))
        lga_pairs = match_names(d_lga, f_lga)
        for m in lga_pairs.matches:
            rename[m.boundary] = m.data
            if m.needs_review and normalise_lga(m.data) != normalise_lga(m.boundary):
                notes.append(f"LGA {m.data!r} paired with {m.boundary!r} ({m.method})")
            _join_block(
                ward,
                features,
                [i for i in d_rows if ward.at[i, "LGA"] == m.data],
                [f for f in f_rows if b_lgas.iloc[f] == m.boundary],
                rules,
                chosen,
                data_taken,
                record,
                notes,
            )
        for lga in lga_pairs.unmatched_data:
            notes.append(f"LGA {lga!r} of the data has no LGA in the boundary file")
    features["LGA"] = [rename.get(v, v) if isinstance(v, str) else v for v in b_lgas]
    return _assemble(ward, features, chosen, data_taken, matches, notes)


def _join_block(
    ward: pd.DataFrame,
    features: gpd.GeoDataFrame,
    d_rows: list[int],
    f_rows: list[int],
    rules: pd.DataFrame | None,
    chosen: Mapping[int, Any],
    data_taken: set[int],
    record: Any,
    notes: list[str],
) -> None:
    d_rows = [i for i in d_rows if i not in data_taken]
    f_rows = [f for f in f_rows if f not in chosen]
    by_name: dict[str, list[int]] = {}
    for f in f_rows:
        name = features.at[f, "WardName"]
        if isinstance(name, str) and normalise(name):
            by_name.setdefault(name, []).append(f)
    for name, rows in by_name.items():
        if len(rows) > 1:
            notes.append(
                f"boundary ward name {name!r} occurs {len(rows)} times in "
                f"{features.at[rows[0], 'LGA']}; those features join only by WardCode"
            )
    names = {n: r[0] for n, r in by_name.items() if len(r) == 1}
    data_names: dict[str, int] = {}
    for i in d_rows:
        data_names.setdefault(str(ward.at[i, "WardName"]), i)
    lga = str(ward.at[d_rows[0], "LGA"]) if d_rows else ""
    recode: dict[str, str] = {}
    if rules is not None:
        mine = rules[
            (rules["BoundaryWard"] != "")
            & (rules["LGA"].map(normalise_lga) == normalise_lga(lga))
        ]
        recode = dict(zip(mine["WardName"], mine["BoundaryWard"], strict=True))
    result = match_names(list(data_names), list(names), recode)
    for m in result.matches:
        record(names[m.boundary], data_names[m.data], m.method, m.score, m.needs_review)
    for name in result.refused:
        notes.append(f"{name!r} ({lga}) has no single best boundary ward; not joined")


def _assemble(
    ward: pd.DataFrame,
    features: gpd.GeoDataFrame,
    chosen: Mapping[int, tuple[int, str, float]],
    data_taken: set[int],
    matches: list[dict[str, Any]],
    notes: list[str],
) -> JoinResult:
    values = [c for c in ward.columns if c not in ("State", "LGA", "WardName")]
    rows: list[dict[str, Any]] = []
    for f in features.index:
        found = chosen.get(f)
        state = features.at[f, "State"]
        lga = features.at[f, "LGA"]
        row: dict[str, Any] = {
            "WardCode": features.at[f, "WardCode"],
            "WardName": features.at[f, "WardName"],
            "LGA": ward.at[found[0], "LGA"] if found else lga,
            "State": ward.at[found[0], "State"] if found else state,
            "StateCode": features.at[f, "StateCode"]
            or (STATE_CODES.get(state, "").upper() or None),
            "LGACode": features.at[f, "LGACode"],
            "GeopoliticalZone": STATE_ZONES.get(str(state)),
            "Data_WardName": ward.at[found[0], "WardName"] if found else None,
            "Match": found[1] if found else None,
            "Match_Score": found[2] if found else None,
        }
        for column in values:
            row[column] = ward.at[found[0], column] if found else None
        rows.append(row)
    frame = gpd.GeoDataFrame(
        pd.DataFrame(rows, index=features.index),
        geometry=features.geometry.values,
        crs=features.crs,
    )
    frame["WardName"] = disambiguate(
        [str(n) if isinstance(n, str) else "" for n in frame["WardName"]],
        [str(v) if isinstance(v, str) else "" for v in frame["LGA"]],
    )
    frame.loc[features["WardName"].isna().values, "WardName"] = None
    left = ward.loc[[i for i in ward.index if i not in data_taken]]
    unmatched_data = left[["State", "LGA", "WardName", "Tested", "Positive", "TPR"]]
    no_data = frame[frame["Data_WardName"].isna()][["WardCode", "WardName", "LGA"]]
    nulls = frame[null_geometry(frame).values][["WardCode", "WardName", "LGA"]]
    match_table = pd.DataFrame(
        matches,
        columns=[
            "State",
            "LGA",
            "Data_WardName",
            "Boundary_WardName",
            "WardCode",
            "Method",
            "Score",
            "Review",
        ],
    )
    log.info(
        "joined %d of %d boundary wards; %d data wards unmatched",
        len(chosen),
        len(frame),
        len(unmatched_data),
    )
    return JoinResult(
        frame=frame,
        matches=match_table,
        unmatched_data=unmatched_data.reset_index(drop=True),
        unmatched_boundary=pd.DataFrame(no_data).reset_index(drop=True),
        null_geometry=pd.DataFrame(nulls).reset_index(drop=True),
        notes=notes,
    )
