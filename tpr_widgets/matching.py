"""Match the data's ward names to a boundary file's ward names, within each LGA.

Names from NMEP / DHIS2 exports and from boundary files spell the same ward
differently (`Mayo-Lope` / `Mayo Lope`, `Girei II` / `Girei 2`, `Alayi A` /
`Alayi 1`, `Besto` / `Betso`). `match_names` pairs two lists of names that are
already blocked to one LGA, one-to-one, in tiers:

1. `recode`: the user's manual recode table, applied first;
2. `exact`: equal after `normalise` (a raw spelling difference is still listed
   for review);
3. `compact`: equal once spaces and punctuation are removed (`Ga'anda`/`Gaanda`);
4. `part`: one slash-separated part equals the other name (`Garta/Ghumchi`);
5. `fuzzy`: the best similarity (rapidfuzz) at or above `CUTOFF`, best for both
   names, ahead of the runner-up by `MARGIN`;
6. `zero_na`: as `fuzzy` after undoing the DHIS2 corruption of `na` into `0`
   inside a word (`Igbon0` -> `Igbonna`), tried only for names that have it.

Numbered wards match only a name with the same numbers after Roman numeral and
letter-suffix conversion, so `Arochukwu 1` never pairs with `Arochukwu 2`. A name
whose key is shared by two names on either side is ambiguous and refused: it is
left unmatched and listed, never paired by chance.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from rapidfuzz import fuzz

CUTOFF: Final = 80.0
MARGIN: Final = 3.0

_ROMAN: Final = {
    "i": "1",
    "ii": "2",
    "iii": "3",
    "iv": "4",
    "v": "5",
    "vi": "6",
    "vii": "7",
    "viii": "8",
    "ix": "9",
}
_WARD: Final = re.compile(r"\bward\b", re.IGNORECASE)
_LGA_WORDS: Final = re.compile(
    r"\b(local\s+government\s+area|local\s+govt\.?\s+area|l\.g\.a\.?|lga|"
    r"area\s+council)\s*$",
    re.IGNORECASE,
)
_ZERO_IN_WORD: Final = re.compile(r"(?<=[a-z])0|0(?=[a-z])")
_NOT_ALNUM: Final = re.compile(r"[^0-9a-z]+")


def normalise(name: object, code: str | None = None) -> str:
    """The comparison key of a ward name; empty for a missing name.

    Trim, cut at the first `(`, drop the row's state-code prefix (only `code`,
    never any two letters), drop the word `ward`, `-` `/` `_` to spaces,
    lower-case, Roman numerals i-ix to digits, a final single letter to its
    number (A=1, B=2 ...), collapse spaces. Apostrophes stay.
    """
    if not isinstance(name, str):
        return ""
    text = name.strip().split("(", 1)[0]
    if code and text[:3].lower() == f"{code.lower()} ":
        text = text[3:]
    text = _WARD.sub(" ", text)
    text = re.sub(r"[-/_]", " ", text).lower()
    tokens = [_ROMAN.get(token, token) for token in text.split()]
    if len(tokens) > 1 and len(tokens[-1]) == 1 and "a" <= tokens[-1] <= "z":
        tokens[-1] = str(ord(tokens[-1]) - ord("a") + 1)
    return " ".join(tokens)


def normalise_lga(name: object) -> str:
    """The comparison key of an LGA name (`Ilorin-South` = `ilorin south lga`)."""
    if not isinstance(name, str):
        return ""
    text = _LGA_WORDS.sub("", name.strip().split("(", 1)[0])
    return " ".join(re.sub(r"[-/_.]", " ", text).lower().split())


def compact(key: str) -> str:
    """A key without spaces or punctuation (`ga'anda` -> `gaanda`)."""
    return _NOT_ALNUM.sub("", key)


def numbers(key: str) -> tuple[str, ...]:
    """The numbers a key carries (`akanbi 4` -> ('4',)); must agree to match."""
    return tuple(re.findall(r"\d+", key))


@dataclass(frozen=True)
class Match:
    """One data name paired with one boundary name, and how."""

    data: str
    boundary: str
    method: str  # recode, exact, compact, part, fuzzy, zero_na
    score: float

    @property
    def needs_review(self) -> bool:
        """True unless the two spellings are the same apart from case/spaces."""
        return " ".join(self.data.lower().split()) != " ".join(
            self.boundary.lower().split()
        )


@dataclass
class Matching:
    """The pairs made in one block, and the names of each side left over."""

    matches: list[Match]
    unmatched_data: list[str]
    unmatched_boundary: list[str]
    refused: list[str]  # data names left over because their best was ambiguous


def _score(a: str, b: str) -> float:
    ca, cb = compact(a), compact(b)
    if not ca or not cb:
        return 0.0
    return max(fuzz.ratio(ca, cb), fuzz.token_sort_ratio(a, b))


def _pair_unique(
    data: Sequence[str],
    boundary: Sequence[str],
    key_data: Mapping[str, Iterable[str]],
    key_boundary: Mapping[str, Iterable[str]],
) -> tuple[list[tuple[str, str]], set[str]]:
    """Pairs whose key is unique on both sides; data names with a shared key."""
    d_keys = {name: set(key_data[name]) - {""} for name in data}
    b_keys = {name: set(key_boundary[name]) - {""} for name in boundary}
    d_count = Counter(k for keys in d_keys.values() for k in keys)
    b_count = Counter(k for keys in b_keys.values() for k in keys)
    pairs: list[tuple[str, str]] = []
    ambiguous: set[str] = set()
    taken: set[str] = set()
    for name in data:
        hits = {b for b in boundary if d_keys[name] & b_keys[b]}
        if not hits:
            continue
        shared = any(d_count[k] > 1 or b_count[k] > 1 for k in d_keys[name])
        if len(hits) > 1 or shared:
            ambiguous.add(name)
            continue
        (hit,) = hits
        if hit not in taken:
            pairs.append((name, hit))
            taken.add(hit)
    return pairs, ambiguous


def _fuzzy(
    data: Sequence[str],
    boundary: Sequence[str],
    dkey: Mapping[str, str],
    bkey: Mapping[str, str],
    cutoff: float,
) -> tuple[list[tuple[str, str, float]], set[str]]:
    """Mutual best pairs above `cutoff`, clear of the runner-up by `MARGIN`."""
    scores = {
        (d, b): _score(dkey[d], bkey[b])
        for d in data
        for b in boundary
        if numbers(dkey[d]) == numbers(bkey[b])
    }
    pairs: list[tuple[str, str, float]] = []
    refused: set[str] = set()
    for d in data:
        ranked = sorted(
            ((s, b) for (dd, b), s in scores.items() if dd == d), reverse=True
        )
        if not ranked or ranked[0][0] < cutoff:
            continue
        best, b = ranked[0]
        if len(ranked) > 1 and best - ranked[1][0] < MARGIN:
            refused.add(d)
            continue
        others = [s for (dd, bb), s in scores.items() if bb == b and dd != d]
        if others and best - max(others) < MARGIN:
            refused.add(d)
            continue
        pairs.append((d, b, best))
    return pairs, refused


def match_names(
    data: Sequence[str],
    boundary: Sequence[str],
    recode: Mapping[str, str] | None = None,
    cutoff: float = CUTOFF,
) -> Matching:
    """Pair `data` names with `boundary` names of one LGA, one-to-one.

    `recode` maps a data name (compared by `normalise`) to a boundary name. The
    result lists every pair with its method, and every name left unmatched.
    """
    d_left = list(dict.fromkeys(n for n in data if normalise(n)))
    b_left = list(dict.fromkeys(n for n in boundary if normalise(n)))
    matches: list[Match] = []
    refused: set[str] = set()

    def take(d: str, b: str, method: str, score: float) -> None:
        matches.append(Match(d, b, method, score))
        d_left.remove(d)
        b_left.remove(b)
        refused.discard(d)

    wanted = {normalise(k): normalise(v) for k, v in (recode or {}).items()}
    for d in list(d_left):
        target = wanted.get(normalise(d))
        hits = [b for b in b_left if target and normalise(b) == target]
        if len(hits) == 1:
            take(d, hits[0], "recode", 100.0)

    def whole(names: Sequence[str]) -> dict[str, list[str]]:
        return {n: [normalise(n)] for n in names}

    def squeezed(names: Sequence[str]) -> dict[str, list[str]]:
        return {n: [compact(normalise(n))] for n in names}

    def parts(names: Sequence[str]) -> dict[str, list[str]]:
        found = {}
        for n in names:
            pieces = [compact(normalise(p)) for p in n.split("/")]
            found[n] = [compact(normalise(n)), *pieces] if len(pieces) > 1 else []
        return found

    tiers = (("exact", whole), ("compact", squeezed))
    for method, keys in tiers:
        pairs, ambiguous = _pair_unique(d_left, b_left, keys(d_left), keys(b_left))
        refused |= ambiguous
        for d, b in pairs:
            take(d, b, method, 100.0)

    # A slash part against the other side's whole name (either side may split).
    d_parts, b_whole = parts(d_left), squeezed(b_left)
    b_parts, d_whole = parts(b_left), squeezed(d_left)
    d_keys = {n: d_parts[n] or d_whole[n] for n in d_left}
    b_keys = {n: b_parts[n] or b_whole[n] for n in b_left}
    pairs, ambiguous = _pair_unique(d_left, b_left, d_keys, b_keys)
    refused |= ambiguous
    for d, b in pairs:
        if d_parts[d] or b_parts[b]:
            take(d, b, "part", 100.0)

    for method, fix in (("fuzzy", False), ("zero_na", True)):
        candidates = [d for d in d_left if not fix or _ZERO_IN_WORD.search(d.lower())]
        dkey = {
            d: normalise(_ZERO_IN_WORD.sub("na", d.lower()) if fix else d)
            for d in candidates
        }
        bkey = {b: normalise(b) for b in b_left}
        fuzzy_pairs, ambiguous_f = _fuzzy(candidates, b_left, dkey, bkey, cutoff)
        refused |= ambiguous_f
        for d, b, score in sorted(fuzzy_pairs, key=lambda p: -p[2]):
            if d in d_left and b in b_left:
                take(d, b, method, round(score, 1))

    return Matching(
        matches=matches,
        unmatched_data=list(d_left),
        unmatched_boundary=list(b_left),
        refused=[d for d in d_left if d in refused],
    )


def disambiguate(names: Sequence[str], lgas: Sequence[str]) -> list[str]:
    """Tag names that occur more than once in the output with their LGA.

    `Ribadu` in Fufore and Mayo-Belwa become `Ribadu (Fufore)` and `Ribadu
    (Mayo-Belwa)`. Idempotent: a name already tagged with its own LGA is kept as
    it is, and tags are added only for duplicates within these names, so running
    it on its own output changes nothing.
    """
    bare = [_untag(n, lga) for n, lga in zip(names, lgas, strict=True)]
    counts = Counter(b.lower() for b in bare)
    return [
        f"{b} ({lga})" if counts[b.lower()] > 1 and lga else b
        for b, lga in zip(bare, lgas, strict=True)
    ]


def _untag(name: str, lga: str) -> str:
    suffix = f" ({lga})"
    return name[: -len(suffix)] if lga and name.endswith(suffix) else name
