"""Which identity groups a comment mentions, from a French and English lexicon. Pure.

The lexicon lists neutral words people use to name a group (origins, religions, genders, sexual
orientations, disabilities), not slurs: a comment that names a group only through a slur is scored
by the toxicity model but is not counted here as mentioning the group. The terms, the reasons for
leaving some words out and the known ambiguities are documented in docs/bias-report.md.

Matching is on whole words after case folding and accent stripping, so "Musulmanes", "musulmanes"
and "musulmânes" all match `musulmanes`; multi-word terms accept a space or a hyphen between words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    ORIGIN = "origin"
    RELIGION = "religion"
    GENDER = "gender"
    ORIENTATION = "orientation"
    DISABILITY = "disability"


@dataclass(frozen=True, slots=True)
class IdentityGroup:
    id: str
    category: Category
    label_en: str
    label_fr: str
    terms: tuple[str, ...]


def _group(category: Category, name: str, label_en: str, label_fr: str, *terms: str) -> IdentityGroup:
    return IdentityGroup(f"{category.value}:{name}", category, label_en, label_fr, terms)


ORI, REL, GEN, SEX, DIS = (
    Category.ORIGIN,
    Category.RELIGION,
    Category.GENDER,
    Category.ORIENTATION,
    Category.DISABILITY,
)

# Feminine and plural forms are spelled out rather than generated: a reviewer can read exactly
# what counts, and words whose other forms are ambiguous ("noir", "gai", "bi") can be left out.
GROUPS: tuple[IdentityGroup, ...] = (
    _group(ORI, "arab", "Arab, North African", "Arabe, maghrébin",
           "arabe", "arabes", "maghrebin", "maghrebine", "maghrebins", "maghrebines",
           "nord-africain", "nord-africaine", "nord-africains", "nord-africaines",
           "arab", "arabs", "north african", "north africans"),
    _group(ORI, "black", "Black", "Noir",
           "les noirs", "un noir", "une noire", "personne noire", "personnes noires",
           "homme noir", "hommes noirs", "femme noire", "femmes noires",
           "afro-americain", "afro-americaine", "afro-americains", "afro-americaines",
           "afrodescendant", "afrodescendante", "afrodescendants", "afrodescendantes",
           "black people", "black person", "black man", "black men", "black woman", "black women",
           "african american", "african americans"),
    _group(ORI, "african", "African", "Africain",
           "africain", "africaine", "africains", "africaines",
           "subsaharien", "subsaharienne", "subsahariens", "subsahariennes",
           "african", "africans", "sub-saharan"),
    _group(ORI, "asian", "Asian", "Asiatique",
           "asiatique", "asiatiques", "chinois", "chinoise", "chinoises",
           "vietnamien", "vietnamienne", "vietnamiens", "vietnamiennes",
           "asian", "asians", "chinese", "vietnamese"),
    _group(ORI, "white", "White", "Blanc",
           "les blancs", "personne blanche", "personnes blanches", "homme blanc", "hommes blancs",
           "femme blanche", "femmes blanches",
           "white people", "white person", "white man", "white men", "white woman", "white women",
           "caucasian", "caucasians"),
    _group(ORI, "latino", "Latino, Hispanic", "Latino, hispanique",
           "latino", "latinos", "latina", "latinas", "hispanique", "hispaniques",
           "latino-americain", "latino-americaine", "latino-americains", "latino-americaines",
           "mexicain", "mexicaine", "mexicains", "mexicaines",
           "hispanic", "hispanics", "latin american", "latin americans", "mexican", "mexicans"),
    _group(ORI, "roma", "Roma, Traveller", "Rom, gens du voyage",
           "rom", "roms", "tsigane", "tsiganes", "tzigane", "tziganes", "gitan", "gitane", "gitans",
           "gitanes", "gens du voyage", "manouche", "manouches",
           "roma", "romani", "gypsy", "gypsies", "traveller", "travellers"),
    _group(ORI, "migrant", "Migrant, refugee", "Migrant, réfugié",
           "migrant", "migrante", "migrants", "migrantes", "immigre", "immigree", "immigres", "immigrees",
           "immigrant", "immigrante", "immigrants", "immigrantes",
           "refugie", "refugiee", "refugies", "refugiees", "sans-papiers",
           "demandeur d'asile", "demandeurs d'asile", "demandeuse d'asile", "demandeuses d'asile",
           "refugee", "refugees", "asylum seeker", "asylum seekers", "undocumented"),
    _group(REL, "muslim", "Muslim", "Musulman",
           "musulman", "musulmane", "musulmans", "musulmanes", "islam", "islamique", "islamiques",
           "muslim", "muslims", "islamic"),
    _group(REL, "jewish", "Jewish", "Juif",
           "juif", "juive", "juifs", "juives", "judaisme", "israelite", "israelites",
           "jew", "jews", "jewish", "judaism"),
    _group(REL, "christian", "Christian", "Chrétien",
           "chretien", "chretienne", "chretiens", "chretiennes", "christianisme",
           "catholique", "catholiques", "protestant", "protestante", "protestants", "protestantes",
           "evangelique", "evangeliques",
           "christian", "christians", "christianity", "catholic", "catholics", "evangelical", "evangelicals"),
    _group(REL, "hindu", "Hindu", "Hindou",
           "hindou", "hindoue", "hindous", "hindoues", "hindouisme", "hindu", "hindus", "hinduism"),
    _group(REL, "buddhist", "Buddhist", "Bouddhiste",
           "bouddhiste", "bouddhistes", "bouddhisme", "buddhist", "buddhists", "buddhism"),
    _group(REL, "atheist", "Atheist", "Athée",
           "athee", "athees", "atheisme", "atheist", "atheists", "atheism"),
    _group(GEN, "women", "Women", "Femmes",
           "femme", "femmes", "woman", "women", "feministe", "feministes", "feminist", "feminists"),
    _group(GEN, "men", "Men", "Hommes",
           "hommes", "men", "males"),
    _group(GEN, "trans", "Trans", "Trans",
           "trans", "transgenre", "transgenres", "transsexuel", "transsexuelle", "transsexuels",
           "transsexuelles", "transidentite", "transgender", "transgenders", "transsexual", "transsexuals"),
    _group(GEN, "nonbinary", "Non-binary", "Non-binaire",
           "non binaire", "non binaires", "non binary", "nonbinary", "enby"),
    _group(SEX, "gay", "Gay", "Gay",
           "gay", "gays", "homosexuel", "homosexuelle", "homosexuels", "homosexuelles", "homosexualite",
           "homosexual", "homosexuals", "homosexuality"),
    _group(SEX, "lesbian", "Lesbian", "Lesbienne",
           "lesbienne", "lesbiennes", "lesbian", "lesbians"),
    _group(SEX, "bisexual", "Bisexual", "Bisexuel",
           "bisexuel", "bisexuelle", "bisexuels", "bisexuelles", "bisexual", "bisexuals"),
    _group(SEX, "lgbt", "LGBTQ+ (as a whole)", "LGBTQ+ (dans l'ensemble)",
           "lgbt", "lgbtq", "lgbti", "lgbtqi", "lgbtqia", "queer", "queers"),
    _group(SEX, "heterosexual", "Heterosexual", "Hétérosexuel",
           "heterosexuel", "heterosexuelle", "heterosexuels", "heterosexuelles", "hetero", "heteros",
           "heterosexual", "heterosexuals"),
    _group(DIS, "disabled", "Disabled people", "Personnes handicapées",
           "handicape", "handicapee", "handicapes", "handicapees", "handicap", "handicaps",
           "fauteuil roulant", "paraplegique", "paraplegiques", "tetraplegique", "tetraplegiques",
           "disabled", "disability", "disabilities", "wheelchair", "wheelchairs", "paraplegic",
           "paraplegics"),
    _group(DIS, "sensory", "Blind, deaf", "Aveugle, sourd",
           "aveugle", "aveugles", "malvoyant", "malvoyante", "malvoyants", "malvoyantes",
           "sourd", "sourde", "sourds", "sourdes", "malentendant", "malentendante", "malentendants",
           "malentendantes", "blind", "deaf", "visually impaired", "hard of hearing"),
    _group(DIS, "cognitive", "Autism, intellectual disability, mental illness", "Autisme, handicap mental",
           "autiste", "autistes", "autisme", "trisomique", "trisomiques", "trisomie",
           "maladie mentale", "maladies mentales", "neuroatypique", "neuroatypiques",
           "autistic", "autism", "down syndrome", "mental illness", "mentally ill", "neurodivergent"),
)  # fmt: skip

GROUPS_BY_ID: dict[str, IdentityGroup] = {group.id: group for group in GROUPS}
if len(GROUPS_BY_ID) != len(GROUPS):
    raise RuntimeError("identity group ids must be unique: they are stored with each decision")


def fold(text: str) -> str:
    """Lower case without accents, typographic apostrophes made plain: how terms and texts are compared."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return plain.replace("\u2019", "'").replace("\u02bc", "'")


def _pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = []
    # Longest first so a phrase wins over a word it starts with.
    for term in sorted({fold(term) for term in terms}, key=len, reverse=True):
        words = re.split(r"[\s\-]+", term)
        alternatives.append(r"[\s\-]+".join(re.escape(word) for word in words))
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


class IdentityLexicon:
    """Compiled once per process; `mentions` is what the facts consumer calls on every decided comment."""

    def __init__(self, groups: tuple[IdentityGroup, ...] = GROUPS) -> None:
        self._patterns = [(group.id, _pattern(group.terms)) for group in groups]

    def mentions(self, text: str) -> frozenset[str]:
        folded = fold(text)
        return frozenset(group_id for group_id, pattern in self._patterns if pattern.search(folded))
