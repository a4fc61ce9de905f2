"""The curated layer of the gazetteer: what GeoNames lacks or gets wrong for news text.

GeoNames (see ``watcher.facts.gazetteer``) gives countries, cities and US states. News text also
needs regions ("Southeast Asia", "the Korean Peninsula"), the names reporters use ("DPRK",
"the U.S.", "Ulaanbaatar" where GeoNames says "Ulan Bator"), places GeoNames files under another
heading or below its population floor (the DMZ, Davos, Mar-a-Lago), the sovereign of each
territory (Hong Kong lies in China, Guam in the United States) and the city names that are far
more often something else (see STOP and KEEP). Everything here wins over GeoNames.

Operators add their own places in ``rules/places.yaml`` (``watcher.rules.places_file``); this
file is for what every installation needs.
"""

from __future__ import annotations

# Regions: name -> (containing region or None, aliases besides the name).
REGIONS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "Asia": (None, ()),
    "East Asia": ("Asia", ("Northeast Asia",)),
    "Korean Peninsula": ("East Asia", ("Korean peninsula",)),
    "Southeast Asia": ("Asia", ()),
    "South Asia": ("Asia", ()),
    "Central Asia": ("Asia", ()),
    "Middle East": (None, ("Gulf region",)),
    "Europe": (None, ()),
    "Africa": (None, ()),
    "North America": (None, ()),
    "Latin America": (None, ()),
    "Central America": ("Latin America", ()),
    "Caribbean": ("Latin America", ("the Caribbean",)),
    "South America": ("Latin America", ()),
    "Pacific": (None, ("South Pacific", "Pacific islands", "Pacific Islands", "Oceania")),
}

# Which region each country (ISO code) lies in, where its GeoNames continent is not enough.
COUNTRY_REGIONS: dict[str, tuple[str, ...]] = {
    "Korean Peninsula": ("KP", "KR"),
    "East Asia": ("CN", "JP", "MN", "TW"),
    "Southeast Asia": ("VN", "TH", "SG", "MY", "ID", "PH", "KH", "LA", "MM", "BN", "TL"),
    "South Asia": ("IN", "PK", "AF", "BD", "LK", "NP", "BT", "MV"),
    "Central Asia": ("KZ", "UZ", "KG", "TJ", "TM"),
    "Middle East": ("TR", "IL", "SA", "AE", "QA", "KW", "IQ", "IR", "JO", "EG", "LB", "OM",
                    "BH", "SY", "YE", "PS"),
    "Europe": ("GE", "AM", "AZ", "CY", "RU"),
    "Central America": ("BZ", "GT", "HN", "SV", "NI", "CR", "PA"),
    "Caribbean": ("CU", "JM", "HT", "DO", "BS", "BB", "TT", "AG", "DM", "GD", "KN", "LC", "VC"),
    "Latin America": ("MX",),
    "North America": ("US", "CA"),
}
# Otherwise by GeoNames continent code.
CONTINENT_REGIONS = {"AS": "Asia", "EU": "Europe", "AF": "Africa", "NA": "North America",
                     "SA": "South America", "OC": "Pacific"}

# Territories GeoNames lists as countries: code -> (kind, the sovereign's ISO code).
TERRITORIES: dict[str, tuple[str, str]] = {
    "HK": ("city", "CN"), "MO": ("city", "CN"),
    **{c: ("region", "DK") for c in ("GL", "FO")},
    **{c: ("region", "US") for c in ("PR", "GU", "VI", "AS", "MP", "UM")},
    **{c: ("region", "NL") for c in ("AW", "CW", "SX", "BQ")},
    **{c: ("region", "FR") for c in ("GF", "GP", "MQ", "RE", "YT", "NC", "PF", "PM", "BL",
                                     "MF", "WF", "TF")},
    **{c: ("region", "GB") for c in ("GI", "FK", "SH", "IO", "KY", "BM", "MS", "TC", "VG",
                                     "AI", "PN", "GS", "GG", "JE", "IM")},
    **{c: ("region", "NZ") for c in ("CK", "NU", "TK")},
    **{c: ("region", "AU") for c in ("NF", "CX", "CC", "HM")},
    **{c: ("region", "NO") for c in ("SJ", "BV")},
    "AX": ("region", "FI"),
    "PS": ("region", ""),  # its region comes from COUNTRY_REGIONS
}
OBSOLETE = frozenset({"CS", "AN"})  # Serbia and Montenegro, Netherlands Antilles

# GeoNames country names that news spells otherwise: ISO code -> canonical name.
COUNTRY_NAMES = {
    "NL": "Netherlands", "CZ": "Czech Republic", "BA": "Bosnia",
    "CD": "Democratic Republic of the Congo", "TL": "Timor-Leste", "PS": "Palestinian territories",
    "MO": "Macao", "VA": "Vatican",
}

# Extra names of countries and territories (canonical name -> aliases).
COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {
    "North Korea": ("DPRK", "Democratic People's Republic of Korea"),
    "South Korea": ("Republic of Korea", "ROK"),
    "Vietnam": ("Viet Nam",),
    "Myanmar": ("Burma",),
    "China": ("People's Republic of China", "mainland China"),
    "Russia": ("Russian Federation",),
    "Micronesia": ("Federated States of Micronesia",),
    "United States": ("the U.S.", "the US", "U.S.A.", "USA", "America",
                      "United States of America"),
    "United Kingdom": ("Britain", "Great Britain", "the U.K.", "the UK", "England"),
    "Czech Republic": ("Czechia",),
    "Georgia": ("Republic of Georgia",),
    "Bosnia": ("Bosnia and Herzegovina", "Bosnia-Herzegovina"),
    "Democratic Republic of the Congo": ("Congo", "DR Congo", "DRC", "Congo-Kinshasa"),
    "Republic of the Congo": ("Congo-Brazzaville",),
    "Netherlands": ("the Netherlands", "Holland"),
    "Vatican": ("Holy See", "Vatican City"),
    "United Arab Emirates": ("UAE",),
    "Timor-Leste": ("East Timor", "Timor Leste"),
    "Ivory Coast": ("Côte d'Ivoire", "Cote d'Ivoire"),
    "Cabo Verde": ("Cape Verde",),
    "Eswatini": ("Swaziland",),
    "Macao": ("Macau",),
    "Palestinian territories": ("West Bank", "Gaza", "Gaza Strip", "Palestine"),
    "Reunion": ("Réunion",),
}

# Names never matched on their own: far more often a person, a word or another place.
UNMATCHED = frozenset({"Georgia", "Jersey", "Reunion"})

# Cities GeoNames names otherwise: (folded GeoNames name, ISO code) -> canonical name.
CITY_NAMES = {
    ("Ulan Bator", "MN"): "Ulaanbaatar",
    ("New York City", "US"): "New York",
    ("Nay Pyi Taw", "MM"): "Naypyidaw",
    ("Frankfurt am Main", "DE"): "Frankfurt",
    ("Koln", "DE"): "Cologne",
    ("Hannover", "DE"): "Hanover",
    ("Sevilla", "ES"): "Seville",
    ("Luzern", "CH"): "Lucerne",
    ("Makkah", "SA"): "Mecca",
    ("Al Hudaydah", "YE"): "Hodeidah",
}
# Korean names: news drops the apostrophes and the administrative suffix ("Namp'o" is
# Nampo, "Kusong-si" is Kusong).
ROMANIZED = frozenset({"KP", "KR"})
KOREAN_SUFFIXES = ("-si", "-up", "-ni", "-ri", "-dong", "-gun", "-tong")

# Cities that lie in another city, not only in their country.
PARENTS = {"Manhattan": "New York", "Brooklyn": "New York", "Queens": "New York",
           "The Bronx": "New York", "Bronx": "New York", "Staten Island": "New York"}

# Places GeoNames lacks (or lists below 15,000 people, or as something else):
# name -> (kind, what it lies in, aliases besides the name).
PLACES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "Korean DMZ": ("site", "Korean Peninsula",
                   ("the DMZ", "DMZ", "demilitarized zone", "Demilitarized Zone", "Panmunjom",
                    "Panmunjeom", "truce village")),
    "Mar-a-Lago": ("site", "United States", ("Palm Beach",)),
    "Normandy": ("region", "France", ()),
    "Pyeongchang": ("city", "South Korea", ("PyeongChang",)),
    "Davos": ("city", "Switzerland", ()),
    "Nuuk": ("city", "Greenland", ()),
    "Pohnpei": ("city", "Micronesia", ("Palikir", "Kolonia")),
    "Sentosa": ("site", "Singapore", ()),
    "Bali": ("region", "Indonesia", ()),
    "Golan Heights": ("region", "Middle East", ("the Golan",)),
    "State of Georgia": ("region", "United States", ("state of Georgia", "U.S. state of Georgia")),
    "Washington State": ("region", "United States", ("Washington state", "state of Washington")),
    "New York State": ("region", "United States", ("New York state", "state of New York",
                                                   "upstate New York")),
}
# US states under another key, because the plain name is a city or a country.
STATE_NAMES = {"Georgia": "State of Georgia", "Washington": "Washington State",
               "New York": "New York State"}

# Names news uses for GeoNames places (canonical name -> aliases).
ALIASES: dict[str, tuple[str, ...]] = {
    "Washington": ("Washington, D.C.", "Washington D.C.", "Washington, DC", "Washington DC",
                   "D.C.", "White House", "Oval Office", "Camp David", "Capitol Hill"),
    "New York": ("New York City", "the Big Apple", "United Nations headquarters",
                 "U.N. headquarters"),
    "Seoul": ("Blue House",),
    "Moscow": ("the Kremlin", "Kremlin"),
    "New Delhi": ("Delhi",),
    "Kyiv": ("Kiev",),
    "Ulaanbaatar": ("Ulan Bator", "Ulaan Baatar"),
    "Astana": ("Nur-Sultan",),
    "Pyongyang": ("P'yongyang",),
    "Ho Chi Minh City": ("Saigon",),
    "Da Nang": ("Danang",),
    "Hodeidah": ("Hudaydah", "Al Hudaydah", "Hodeida"),
    "Naypyidaw": ("Naypyitaw", "Nay Pyi Taw"),
    "Quebec": ("Charlevoix", "Quebec City"),
    "Hong Kong": ("Hong Kong",),
}

# City names never taken as places: in news text they are far more often a person or a word.
# (The dictionary rule in ``watcher.facts.gazetteer`` drops most word-like names; these are the
# ones it misses: surnames and first names, and names of big cities or capitals.)
STOP = frozenset({
    "Kim", "Obama", "Clinton", "Bolton", "Lincoln", "Jackson", "Hamilton", "Marshall", "Bush",
    "Carter", "Kennedy", "Johnson", "Nixon", "Franklin", "Madison", "Jefferson", "Warren",
    "Nancy", "Mary", "Male", "Victoria", "Of", "Mobile", "Reading", "Split", "Nice", "Bath",
    "March", "Sale", "Deal", "Battle", "Man", "Van", "Oral", "Batman", "Police", "Best",
    "Olympic", "Vladimir", "Alice", "Taylor", "Davis", "Sens", "Orion", "Chelsea",
})

# Single-word city names that are dictionary words (so under the dictionary rule) but that news
# mostly uses for the city: internationally known places.
KEEP = frozenset({
    "Geneva", "Boston", "Florence", "Porto", "Granada", "York", "Cork", "Perm", "Liege",
    "Trier", "Kiel", "Varna", "Derby", "Worcester", "Providence", "Anchorage", "Buffalo",
    "Fresno", "Cordoba", "Rosario", "Astrakhan", "Tula", "Kurgan", "Ganja", "Calais", "Delft",
    "Parma", "Modena", "Bari", "Palma", "Arusha", "Natal", "Saskatoon", "Tyre", "Acre",
})

# Canonical names of earlier versions (stored in old findings) -> today's.
OLD_NAMES = {"Israel/Palestinian territories": "Palestinian territories",
             "Congo": "Democratic Republic of the Congo"}
