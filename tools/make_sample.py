"""Generate the sample workbooks shipped in ``tpr_widgets/data/``.

The package needs realistic input files for its notebooks, its documentation and its
tests, but the real NMEP and DHIS2 exports cannot be redistributed. This script makes
two synthetic stand-ins that reproduce the real layouts and their quirks while using
only public names:

``nmep_sample_format_a.xlsx``
    Format A, the NMEP processed workbook: sheets ``pivot``, ``raw`` and ``tpr`` with
    the data in ``raw``; Adamawa, Kwara and Osun; January 2023 to December 2024. The
    ``≥`` in the six ≥5 headers is mis-encoded as ``â‰¥``; state values sometimes carry
    the two-letter prefix; ward names shared by two LGAs of a state carry the LGA in
    parentheses; a few facilities change level label for some months; exactly five
    facility-months report more positives than tests in one (method, age) pair.

``dhis2_sample_format_b.xlsx``
    Format B, a DHIS2 pivot export: one sheet ``Sheet1`` with ``orgunitlevel1..5``
    geography, no facility level or ownership, Kano state, the twelve months of 2024,
    LLIN columns, sparse microscopy, a few rows with no malaria data at all, two
    rows with more positives than tests, and a final totals row.

State, LGA and ward names come from the INEC ward list in naija-data 1.0.0 (naija-data
by Akanji Oluwaseun Gabriel, CC BY 4.0). Facility names and every count are invented.

Counts follow one model in both files: tests per facility-month are Poisson around a
facility mean with a seasonal peak, positives are binomial with a ward positivity
(most wards 45-75 %, a few far lower or above 85-90 %), and cells go missing the way
they do in real exports (whole facility-months absent, pregnant-women cells often
empty, microscopy mostly absent at primary facilities). Empty cells are written as
empty, never as 0.

The output is deterministic: a fixed seed drives every draw, and the workbooks are
re-packed with fixed timestamps so regenerating them does not change their bytes
(given the same numpy, openpyxl and zlib versions).

Run from the repository root::

    python tools/make_sample.py
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import column_index_from_string, get_column_letter

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WARDS_CSV = (
    REPO_ROOT.parent
    / "shared"
    / "data"
    / "admin_names"
    / "naija_data_1.0.0"
    / "nigeria_wards.csv"
)
DEFAULT_OUT_DIR = REPO_ROOT / "tpr_widgets" / "data"
FORMAT_A_NAME = "nmep_sample_format_a.xlsx"
FORMAT_B_NAME = "dhis2_sample_format_b.xlsx"

SEED = 20240716
FIXED_ZIP_TIME = (2025, 1, 1, 0, 0, 0)
FIXED_DOC_TIME = b"2025-01-01T00:00:00Z"

AGES = ("u5", "o5", "pw")
METHODS = ("rdt", "microscopy")
Pair = tuple[str, str]  # (test method, age group)
PAIRS: tuple[Pair, ...] = tuple((m, a) for m in METHODS for a in AGES)

MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

GE = "≥"
# UTF-8 bytes of "≥" decoded as cp1252, the way the real Format A file shows it.
GE_MOJIBAKE = GE.encode("utf-8").decode("cp1252")

# Facilities per ward: mean 1.30, a few wards without any facility.
FACILITIES_PER_WARD = {0: 0.04, 1: 0.68, 2: 0.22, 3: 0.06}
LEVEL_SHARES = {"Primary": 0.90, "Secondary": 0.08, "Tertiary": 0.02}
PRIVATE_SHARE = {"Primary": 0.15, "Secondary": 0.35, "Tertiary": 0.0}
ROMAN_SUFFIX = re.compile(r"^(?P<stem>.+?) (?P<num>[IVX]+)$")


# --------------------------------------------------------------------------------------
# Headers
# --------------------------------------------------------------------------------------


def indicator_header(measure: str, method: str, age: str, ge: str = GE) -> str:
    """Return the exact NMEP header for one indicator column.

    ``measure`` is ``tested`` or ``positive``. The ≥5 headers keep the double space
    of the real exports, and tested headers say ``&`` for RDT but ``and`` for
    microscopy.
    """
    method_text = "RDT" if method == "rdt" else "Microscopy"
    age_text = {"u5": "<5yrs", "o5": f" {ge}5yrs (excl PW)", "pw": "Preg Women (PW)"}
    if measure == "tested":
        joiner = "&" if method == "rdt" else "and"
        lead = f"Persons presenting with fever {joiner} tested by"
    else:
        lead = "Persons tested positive for malaria by"
    return f"{lead} {method_text} {age_text[age]}"


# Column keys are (measure, method, age); the two layouts order them differently.
FORMAT_A_INDICATORS = [
    (measure, method, age)
    for measure in ("tested", "positive")
    for method in METHODS
    for age in AGES
]
FORMAT_B_INDICATORS = [
    (measure, method, age)
    for method in METHODS
    for measure in ("tested", "positive")
    for age in AGES
]
OPD_HEADER = "Total number of all outpatient attendance"
GENERAL_HEADER = "General Attendance"
LLIN_U5_HEADER = "Children <5 yrs who received LLIN"
LLIN_PW_HEADER = "PW who received LLIN"


# --------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ward:
    """One INEC ward as read from the national list."""

    state: str
    state_code: str
    lga: str
    name: str


@dataclass
class Facility:
    """A synthetic health facility and the parameters that drive its counts."""

    ward: Ward
    name: str
    level: str
    ownership: str
    has_microscopy: bool
    reporting_rate: float
    mean_tested: dict[Pair, float]
    positivity: dict[Pair, float]


@dataclass
class Record:
    """One facility-month row; ``None`` means an empty cell."""

    facility: Facility
    year: int
    month: int
    level: str
    tested: dict[Pair, int | None]
    positive: dict[Pair, int | None]
    extra: dict[str, int | None] = field(default_factory=dict)

    @property
    def periodname(self) -> str:
        return f"{MONTH_NAMES[self.month - 1]} {self.year}"

    @property
    def periodcode(self) -> int:
        return self.year * 100 + self.month


@dataclass(frozen=True)
class Profile:
    """The knobs that differ between the two sample files."""

    microscopy_share_primary: float
    microscopy_share_other: float
    microscopy_month_share: float
    season_amplitude: float
    empty_row_share: float = 0.0


FORMAT_A_PROFILE = Profile(
    microscopy_share_primary=0.25,
    microscopy_share_other=0.85,
    microscopy_month_share=0.90,
    season_amplitude=0.25,
)
FORMAT_B_PROFILE = Profile(
    microscopy_share_primary=0.12,
    microscopy_share_other=0.80,
    microscopy_month_share=0.85,
    season_amplitude=0.45,
    empty_row_share=0.02,
)


# --------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------


def load_wards(path: Path, states: Sequence[str]) -> dict[str, list[Ward]]:
    """Read the wards of ``states`` from the INEC list, sorted by LGA then ward."""
    by_state: dict[str, list[Ward]] = {state: [] for state in states}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["state_name"] in by_state:
                by_state[row["state_name"]].append(
                    Ward(
                        state=row["state_name"],
                        state_code=row["state_code"].lower(),
                        lga=row["lga_name"],
                        name=row["ward_name"],
                    )
                )
    missing = [state for state, wards in by_state.items() if not wards]
    if missing:
        raise SystemExit(f"No wards found for {missing} in {path}.")
    for wards in by_state.values():
        wards.sort(key=lambda w: (w.lga.casefold(), w.name.casefold()))
    return by_state


def shared_ward_names(wards: Iterable[Ward]) -> set[str]:
    """Ward names that occur in more than one LGA of the same state."""
    lgas_by_name: dict[str, set[str]] = defaultdict(set)
    for ward in wards:
        lgas_by_name[ward.name].add(ward.lga)
    return {name for name, lgas in lgas_by_name.items() if len(lgas) > 1}


def ward_label(ward: Ward, shared: set[str], *, ward_before_numeral: bool) -> str:
    """The ward cell as the exports write it: prefix, name, ``Ward``, disambiguator.

    Format A appends ``Ward`` and adds ``(LGA)`` to names shared between LGAs; the
    DHIS2 style used for Format B writes ``Ward`` before a trailing Roman numeral.
    """
    name = ward.name
    if name.endswith(" Ward"):
        label = name
    elif ward_before_numeral and (match := ROMAN_SUFFIX.match(name)):
        label = f"{match['stem']} Ward {match['num']}"
    else:
        label = f"{name} Ward"
    if ward.name in shared:
        label = f"{label} ({ward.lga})"
    return f"{ward.state_code} {label}"


def lga_label(ward: Ward) -> str:
    return f"{ward.state_code} {ward.lga} Local Government Area"


def place_name(ward: Ward) -> str:
    """A short place name for facility names: first part of the ward name."""
    name = re.sub(r"\s*\(.*?\)", "", ward.name).split("/")[0].strip()
    return name.removesuffix(" Ward")


NORTHERN_PRIVATE = (
    "Alheri",
    "Nasara",
    "Al-Amin",
    "Rahama",
    "Salama",
    "Amana",
    "Albarka",
    "Jama'a",
    "Mercy",
    "Goodwill",
    "Faith",
    "Living Word",
    "St. Luke's",
    "Kauna",
)
SOUTHERN_PRIVATE = (
    "Ayomide",
    "Oluwaseun",
    "Ifeoluwa",
    "Irewolede",
    "Oreofe",
    "Ibukun",
    "Mercy",
    "Goodness",
    "St. Mary's",
    "Divine",
    "Life Care",
    "Jesus Cares",
    "Oke-Ayo",
    "Olaniyan",
)
NORTHERN_STATES = {"ad", "kn"}


def facility_name(
    rng: np.random.Generator,
    ward: Ward,
    level: str,
    ownership: str,
    taken: set[str],
) -> str:
    """Draw a realistic facility name for the given level and ownership.

    ``taken`` records the names given once per LGA (a general hospital) or once per
    state (a federal medical centre, a teaching hospital); later hospitals are named
    after their ward. Use one set per state.
    """
    prefix = ward.state_code
    place = place_name(ward)
    if ownership == "Private":
        names = NORTHERN_PRIVATE if prefix in NORTHERN_STATES else SOUTHERN_PRIVATE
        owner = str(rng.choice(names))
        if level == "Primary":
            kind = str(rng.choice(["Clinic", "Maternity", "Medical Clinic", "Clinic"]))
            name = f"{prefix} {owner} {kind}"
            if rng.random() < 0.05:
                name += f"({place} Maternity)"
            return name
        kind = str(rng.choice(["Hospital", "Specialist Hospital", "Medical Centre"]))
        return f"{prefix} {owner} {kind}"
    if level == "Primary":
        templates = [
            "{p} {x} Primary Health Centre",
            "{p} PHC {x}",
            "{p} {x} Health Post",
            "{p} {x} Dispensary",
            "{p} {x} Basic Health Centre",
            "{p} {x} Health Clinic",
            "{p} {x} Maternity",
        ]
        weights = [0.40, 0.10, 0.15, 0.10, 0.10, 0.07, 0.08]
        template = templates[int(rng.choice(len(templates), p=weights))]
        return template.format(p=prefix, x=place)
    if level == "Secondary":
        if f"general:{ward.lga}" not in taken:
            taken.add(f"general:{ward.lga}")
            return f"{prefix} {ward.lga} General Hospital"
        template = str(
            rng.choice(
                [
                    "Comprehensive Health Centre {x}",
                    "{p} {x} Cottage Hospital",
                    "{p} General Hospital {x}",
                ]
            )
        )
        return template.format(p=prefix, x=place)
    if "federal" not in taken:
        taken.add("federal")
        return f"{prefix} Federal Medical Centre {ward.lga}"
    if "teaching" not in taken:
        taken.add("teaching")
        return f"{prefix} {ward.state} State University Teaching Hospital"
    return f"{prefix} {place} Specialist Hospital"


# --------------------------------------------------------------------------------------
# Facilities and counts
# --------------------------------------------------------------------------------------


def ward_positivity(rng: np.random.Generator) -> float:
    """Ward-level share of tests that are positive; a few wards are extreme."""
    draw = rng.random()
    if draw < 0.04:
        return float(rng.uniform(0.12, 0.28))
    if draw < 0.07:
        return float(rng.uniform(0.86, 0.91))
    if draw < 0.09:
        return float(rng.uniform(0.93, 0.97))
    return float(rng.uniform(0.45, 0.75))


def build_facilities(
    rng: np.random.Generator,
    wards: Sequence[Ward],
    profile: Profile,
    *,
    odd_names: int = 0,
) -> list[Facility]:
    """Create 0-3 facilities per ward with their level, ownership and count means.

    ``odd_names`` facilities get a trailing space in their name, as hand-typed
    DHIS2 names sometimes do.
    """
    facilities: list[Facility] = []
    counts = list(FACILITIES_PER_WARD)
    count_weights = list(FACILITIES_PER_WARD.values())
    levels = list(LEVEL_SHARES)
    level_weights = list(LEVEL_SHARES.values())
    taken: set[str] = set()
    age_shift = {"u5": 0.03, "o5": -0.02, "pw": -0.05}

    for ward in wards:
        n_facilities = int(rng.choice(counts, p=count_weights))
        ward_p = ward_positivity(rng)
        used: set[str] = set()
        for _ in range(n_facilities):
            level = str(rng.choice(levels, p=level_weights))
            private = rng.random() < PRIVATE_SHARE[level]
            ownership = "Private" if private else "Public"
            name = facility_name(rng, ward, level, ownership, taken)
            while name in used:
                name = facility_name(rng, ward, level, ownership, taken)
            used.add(name)

            low, high = (10.0, 80.0) if level == "Primary" else (50.0, 120.0)
            u5 = float(rng.uniform(low, high))
            rdt_means = {
                "u5": u5,
                "o5": u5 * float(rng.uniform(1.3, 2.5)),
                "pw": u5 * float(rng.uniform(0.15, 0.45)),
            }
            micro_share = float(rng.uniform(0.2, 0.6))
            mean_tested: dict[Pair, float] = {}
            positivity: dict[Pair, float] = {}
            jitter = float(rng.normal(0.0, 0.03))
            for age in AGES:
                mean_tested["rdt", age] = rdt_means[age]
                mean_tested["microscopy", age] = rdt_means[age] * micro_share
                p = float(np.clip(ward_p + age_shift[age] + jitter, 0.02, 0.985))
                positivity["rdt", age] = p
                positivity["microscopy", age] = float(
                    np.clip(p * rng.uniform(0.9, 1.05), 0.02, 0.985)
                )
            share = (
                profile.microscopy_share_primary
                if level == "Primary"
                else profile.microscopy_share_other
            )
            facilities.append(
                Facility(
                    ward=ward,
                    name=name,
                    level=level,
                    ownership=ownership,
                    has_microscopy=bool(rng.random() < share),
                    reporting_rate=float(rng.beta(18.0, 2.0)),
                    mean_tested=mean_tested,
                    positivity=positivity,
                )
            )

    if odd_names:
        chosen = rng.choice(len(facilities), size=odd_names, replace=False)
        for index in sorted(int(i) for i in chosen):
            facilities[index].name += " "
    facilities.sort(
        key=lambda f: (
            f.ward.lga.casefold(),
            f.ward.name.casefold(),
            f.name.casefold(),
        )
    )
    return facilities


def months(first_year: int, last_year: int) -> list[tuple[int, int]]:
    return [(y, m) for y in range(first_year, last_year + 1) for m in range(1, 13)]


def simulate(
    rng: np.random.Generator,
    facilities: Sequence[Facility],
    periods: Sequence[tuple[int, int]],
    profile: Profile,
) -> list[Record]:
    """Draw the facility-month rows, with gaps, zeros and missing positives."""
    month_index = np.array([m for _, m in periods], dtype=float)
    season = 1.0 + profile.season_amplitude * np.cos(2 * np.pi * (month_index - 9) / 12)
    records: list[Record] = []

    for facility in facilities:
        n = len(periods)
        reported = rng.random(n) < facility.reporting_rate
        if not reported.any():
            reported[int(rng.integers(n))] = True
        tested_draws: dict[Pair, np.ndarray] = {}
        positive_draws: dict[Pair, np.ndarray] = {}
        for pair in PAIRS:
            noise = rng.gamma(20.0, 1 / 20, n)
            tested = rng.poisson(facility.mean_tested[pair] * season * noise)
            tested_draws[pair] = tested
            positive_draws[pair] = rng.binomial(tested, facility.positivity[pair])
        gaps = rng.random((n, 7))

        for i, (year, month) in enumerate(periods):
            if not reported[i]:
                continue
            empty_ages = {
                age
                for age, draw, share in zip(
                    AGES, gaps[i, :3], (0.03, 0.03, 0.15), strict=True
                )
                if draw < share
            }
            microscopy_today = (
                facility.has_microscopy and gaps[i, 3] < profile.microscopy_month_share
            )
            stockout = gaps[i, 4] < 0.01
            blank_row = gaps[i, 6] < profile.empty_row_share
            tested_cells: dict[Pair, int | None] = {}
            positive_cells: dict[Pair, int | None] = {}
            for pair in PAIRS:
                method, age = pair
                absent = (
                    blank_row
                    or age in empty_ages
                    or (method == "microscopy" and not microscopy_today)
                )
                if absent:
                    tested_cells[pair] = positive_cells[pair] = None
                elif stockout and method == "rdt":
                    tested_cells[pair] = positive_cells[pair] = 0
                else:
                    tested_cells[pair] = int(tested_draws[pair][i])
                    positive_cells[pair] = int(positive_draws[pair][i])
            present = [p for p in PAIRS if tested_cells[p] is not None]
            if present and gaps[i, 5] < 0.02:
                positive_cells[present[int(rng.integers(len(present)))]] = None
            records.append(
                Record(
                    facility=facility,
                    year=year,
                    month=month,
                    level=facility.level,
                    tested=tested_cells,
                    positive=positive_cells,
                )
            )
    return records


def vary_levels(
    rng: np.random.Generator, records: Sequence[Record], n_facilities: int
) -> None:
    """Relabel a few months of ``n_facilities`` facilities with another level."""
    other = {"Primary": "Secondary", "Secondary": "Primary", "Tertiary": "Secondary"}
    by_facility: dict[int, list[Record]] = defaultdict(list)
    for record in records:
        by_facility[id(record.facility)].append(record)
    candidates = [rows for rows in by_facility.values() if len(rows) >= 6]
    picked = rng.choice(len(candidates), size=n_facilities, replace=False)
    for index in sorted(int(i) for i in picked):
        rows = candidates[index]
        n_months = int(rng.integers(2, 5))
        for row_index in rng.choice(len(rows), size=n_months, replace=False):
            record = rows[int(row_index)]
            record.level = other[record.facility.level]


# Multipliers of positives over tests, after the ones the domain notes report.
IMPOSSIBLE_PLAN: tuple[tuple[Pair, float], ...] = (
    (("rdt", "u5"), 0.0),  # set to the literal 218 tested / 1,230 positive
    (("rdt", "o5"), 1.13),
    (("microscopy", "o5"), 1.092),
    (("rdt", "u5"), 8.96),
    (("microscopy", "u5"), 17.71),
)


def plant_impossible(
    records: Sequence[Record], plan: Sequence[tuple[Pair, float]]
) -> list[tuple[Record, Pair]]:
    """Make one (method, age) pair report more positives than tests in a few rows.

    One row per entry of ``plan``, spread evenly over the file; a factor of 0 writes
    the literal 218 tested / 1,230 positive. Pregnant-women columns are left alone.
    """
    planted: list[tuple[Record, Pair]] = []
    step = len(records) // len(plan)
    for k, (pair, factor) in enumerate(plan):
        start = k * step + step // 2
        for record in records[start:]:
            tested = record.tested[pair]
            if tested and record.positive[pair] is not None:
                break
        else:
            raise RuntimeError(f"No row left to hold an impossible {pair} value.")
        if factor == 0.0:
            record.tested[pair], record.positive[pair] = 218, 1230
        else:
            assert tested is not None
            record.positive[pair] = max(tested + 1, round(tested * factor))
        planted.append((record, pair))
    return planted


def add_attendance(rng: np.random.Generator, records: Iterable[Record]) -> None:
    """Outpatient attendance above the tests in the row; general attendance above."""
    for record in records:
        tested_sum = sum(v for v in record.tested.values() if v is not None)
        opd = tested_sum + 1 + int(rng.poisson(tested_sum * rng.uniform(0.3, 1.5) + 5))
        general = opd + int(rng.poisson(opd * rng.uniform(0.1, 0.6)))
        record.extra[OPD_HEADER] = opd
        record.extra[GENERAL_HEADER] = general


def add_llin(rng: np.random.Generator, records: Iterable[Record]) -> None:
    """LLIN distribution counts, often empty."""
    for record in records:
        means = record.facility.mean_tested
        u5 = int(rng.poisson(means["rdt", "u5"] * 0.15))
        pw = int(rng.poisson(means["rdt", "pw"] * 0.8))
        record.extra[LLIN_U5_HEADER] = u5 if rng.random() < 0.6 else None
        record.extra[LLIN_PW_HEADER] = pw if rng.random() < 0.7 else None


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------


def indicator_values(
    record: Record, indicators: Sequence[tuple[str, str, str]]
) -> list[int | None]:
    cells = {"tested": record.tested, "positive": record.positive}
    return [cells[measure][method, age] for measure, method, age in indicators]


def rdt_totals(records: Iterable[Record]) -> dict[tuple[str, int], tuple[int, int]]:
    """RDT tested and positive over all ages by (state, year), complete pairs only."""
    totals: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for record in records:
        for age in AGES:
            tested = record.tested["rdt", age]
            positive = record.positive["rdt", age]
            if tested is not None and positive is not None:
                key = (record.facility.ward.state, record.year)
                totals[key][0] += tested
                totals[key][1] += positive
    return {key: (t, p) for key, (t, p) in totals.items()}


def write_pivot_sheet(ws: WriteOnlyWorksheet, records: Sequence[Record]) -> None:
    totals = rdt_totals(records)
    states = sorted({state for state, _ in totals})
    years = sorted({year for _, year in totals})
    ws.append(["Sum of persons presenting with fever & tested by RDT (all ages)"])
    ws.append([])
    ws.append(["Row Labels", *years, "Grand Total"])
    for state in states:
        row = [totals[state, year][0] for year in years]
        ws.append([f"{state} State", *row, sum(row)])
    column_sums = [sum(totals[s, y][0] for s in states) for y in years]
    ws.append(["Grand Total", *column_sums, sum(column_sums)])


def write_tpr_sheet(ws: WriteOnlyWorksheet, records: Sequence[Record]) -> None:
    totals = rdt_totals(records)
    states = sorted({state for state, _ in totals})
    ws.append(["Test positivity rate by state, RDT, all ages, 2023-2024"])
    ws.append(["State", "Tested", "Positive", "TPR"])
    for state in states:
        tested = sum(t for (s, _), (t, _) in totals.items() if s == state)
        positive = sum(p for (s, _), (_, p) in totals.items() if s == state)
        rate = WriteOnlyCell(ws, value=round(positive / tested, 4))
        rate.number_format = "0.0%"
        ws.append([state, tested, positive, rate])


def write_format_a(
    path: Path,
    rng: np.random.Generator,
    records: Sequence[Record],
    shared: dict[str, set[str]],
) -> None:
    """Write the NMEP processed workbook (sheets pivot, raw, tpr).

    ``shared`` maps each state to its ward names that occur in several LGAs.
    """
    headers = [
        "State",
        "LGA",
        "Ward",
        "Health Faccility",
        "level",
        "ownership",
        "periodname",
        "periodcode",
        *(indicator_header(*key, ge=GE_MOJIBAKE) for key in FORMAT_A_INDICATORS),
        OPD_HEADER,
        GENERAL_HEADER,
    ]
    workbook = Workbook(write_only=True)
    workbook.properties.creator = "tpr_widgets tools/make_sample.py"
    write_pivot_sheet(workbook.create_sheet("pivot"), records)

    raw = workbook.create_sheet("raw")
    raw.append(headers)
    prefixed_state = rng.random(len(records)) < 0.04
    for record, prefixed in zip(records, prefixed_state, strict=True):
        ward = record.facility.ward
        state = f"{ward.state} State"
        raw.append(
            [
                f"{ward.state_code} {state}" if prefixed else state,
                lga_label(ward),
                ward_label(ward, shared[ward.state], ward_before_numeral=False),
                record.facility.name,
                record.level,
                record.facility.ownership,
                record.periodname,
                record.periodcode,
                *indicator_values(record, FORMAT_A_INDICATORS),
                record.extra[OPD_HEADER],
                record.extra[GENERAL_HEADER],
            ]
        )

    write_tpr_sheet(workbook.create_sheet("tpr"), records)
    save_reproducibly(workbook, path)


def write_format_b(path: Path, records: Sequence[Record], shared: set[str]) -> None:
    """Write the DHIS2 pivot export (one sheet, totals row last)."""
    indicator_headers = [indicator_header(*key) for key in FORMAT_B_INDICATORS]
    extra_headers = [LLIN_U5_HEADER, LLIN_PW_HEADER]
    headers = [
        *(f"orgunitlevel{level}" for level in range(1, 6)),
        "organisationunitname",
        "periodname",
        "periodcode",
        *indicator_headers,
        *extra_headers,
    ]
    workbook = Workbook(write_only=True)
    workbook.properties.creator = "tpr_widgets tools/make_sample.py"
    sheet = workbook.create_sheet("Sheet1")
    sheet.append(headers)

    sums = [0] * (len(indicator_headers) + len(extra_headers))
    for record in records:
        ward = record.facility.ward
        counts = [
            *indicator_values(record, FORMAT_B_INDICATORS),
            *(record.extra[h] for h in extra_headers),
        ]
        sums = [s + (v or 0) for s, v in zip(sums, counts, strict=True)]
        sheet.append(
            [
                "ng Federal Government",
                f"{ward.state_code} {ward.state} State",
                lga_label(ward),
                ward_label(ward, shared, ward_before_numeral=True),
                record.facility.name,
                record.facility.name,
                record.periodname,
                record.periodcode,
                *counts,
            ]
        )
    sheet.append(["Total", None, None, None, None, None, None, None, *sums])
    save_reproducibly(workbook, path)


def add_dimension(sheet_xml: bytes) -> bytes:
    """Insert the ``<dimension>`` element that write-only mode leaves out.

    Excel and DHIS2 always write it, and readers such as openpyxl's read-only mode
    rely on it to know the sheet's width.
    """
    last_row = max(
        (int(n) for n in re.findall(rb'<row r="(\d+)"', sheet_xml)), default=1
    )
    letters = set(re.findall(rb'<c r="([A-Z]+)\d+"', sheet_xml)) or {b"A"}
    last_col = max(column_index_from_string(c.decode()) for c in letters)
    ref = f"A1:{get_column_letter(last_col)}{last_row}".encode()
    return sheet_xml.replace(
        b"<sheetViews>", b'<dimension ref="' + ref + b'" /><sheetViews>', 1
    )


def save_reproducibly(workbook: Workbook, path: Path) -> None:
    """Save, then re-pack the zip with fixed timestamps so reruns are byte-equal."""
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    output = io.BytesIO()
    with (
        zipfile.ZipFile(buffer) as source,
        zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                    rb"\g<1>" + FIXED_DOC_TIME,
                    data,
                )
            elif re.fullmatch(r"xl/worksheets/sheet\d+\.xml", info.filename):
                data = add_dimension(data)
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, data, compresslevel=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(output.getvalue())


# --------------------------------------------------------------------------------------
# Summary and entry point
# --------------------------------------------------------------------------------------


def exceeds(tested: int | None, positive: int | None) -> bool:
    """Whether a (tested, positive) pair reports more positives than tests."""
    return tested is not None and positive is not None and positive > tested


def describe(name: str, path: Path, records: Sequence[Record], wards: int) -> str:
    facilities = {id(r.facility): r.facility for r in records}.values()
    states = sorted({f.ward.state for f in facilities})
    lgas = {(f.ward.state, f.ward.lga) for f in facilities}
    covered = {(f.ward.state, f.ward.lga, f.ward.name) for f in facilities}
    levels = Counter(f.level for f in facilities)
    periods = {r.periodcode for r in records}
    micro_cells = [r.tested[m, a] for r in records for m, a in PAIRS if m != "rdt"]
    micro_missing = sum(v is None for v in micro_cells) / len(micro_cells)
    impossible = sum(
        exceeds(r.tested[pair], r.positive[pair]) for r in records for pair in PAIRS
    )
    size_mb = path.stat().st_size / 1e6
    level_text = ", ".join(f"{levels[k]} {k.lower()}" for k in LEVEL_SHARES)
    return (
        f"{name}: {len(records):,} facility-month rows, {len(periods)} periods, "
        f"states {', '.join(states)}, {len(lgas)} LGAs, {len(covered)} of {wards} "
        f"wards with facilities, {len(facilities):,} facilities ({level_text}), "
        f"microscopy cells {micro_missing:.0%} empty, {impossible} rows with "
        f"positives above tests, {size_mb:.2f} MB."
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wards-csv", type=Path, default=DEFAULT_WARDS_CSV)
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(SEED)

    a_states = ("Adamawa", "Kwara", "Osun")
    a_wards = load_wards(args.wards_csv, a_states)
    a_facilities = [
        facility
        for state in a_states
        for facility in build_facilities(
            rng, a_wards[state], FORMAT_A_PROFILE, odd_names=1
        )
    ]
    a_records = simulate(rng, a_facilities, months(2023, 2024), FORMAT_A_PROFILE)
    vary_levels(rng, a_records, n_facilities=8)
    plant_impossible(a_records, IMPOSSIBLE_PLAN)
    add_attendance(rng, a_records)
    a_path = args.out_dir / FORMAT_A_NAME
    a_shared = {state: shared_ward_names(a_wards[state]) for state in a_states}
    write_format_a(a_path, rng, a_records, a_shared)

    b_wards = load_wards(args.wards_csv, ("Kano",))["Kano"]
    b_facilities = build_facilities(rng, b_wards, FORMAT_B_PROFILE, odd_names=2)
    b_records = simulate(rng, b_facilities, months(2024, 2024), FORMAT_B_PROFILE)
    plant_impossible(b_records, IMPOSSIBLE_PLAN[1:3])
    add_llin(rng, b_records)
    b_path = args.out_dir / FORMAT_B_NAME
    write_format_b(b_path, b_records, shared_ward_names(b_wards))

    n_a_wards = sum(len(w) for w in a_wards.values())
    print(
        describe(FORMAT_A_NAME, a_path, a_records, n_a_wards),
        describe(FORMAT_B_NAME, b_path, b_records, len(b_wards))
        + " Plus one totals row.",
    )


if __name__ == "__main__":
    main()
