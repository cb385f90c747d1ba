"""What each record holds in its encrypted part: the private schema, declared as data.

A record's plaintext columns are only those the schema marks public (DESIGN §2, issue 5):
coded, non-identifying values the database must count and filter by (act type, month, region,
status, perpetrator type) and the links between records. Everything else a researcher writes
is declared here and stored in one of two sealed columns of the row:

``identity``
    What identifies a person or a place: names, birth date, contacts, documents, addresses,
    exact locations, sex, gender identity and sexual orientation. Opening it writes an audit
    entry (issue 5: "every read of an identifying field writes an audit entry").
``details``
    Everything else that is private: descriptions, methods, dates with their wording, notes.
    Lists and timelines open it without an audit entry; it names no one.

Both are JSON objects sealed with the desk's ``FieldCipher``, bound to table, row and column.
One token per column rather than per field keeps a row small (300,000 acts) and hides which
fields are filled in; ``sealing`` pads them so a token's length does not give away a name's.

``tests/web/records/test_schema.py`` fails when a model gains a plaintext column that is not
declared public here, so no one adds one by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

Kind = Literal["text", "longtext", "date", "term", "terms", "list", "bool", "int"]


@dataclass(frozen=True)
class Field:
    """One private field: its name in the sealed JSON, its label, its kind and, for terms,
    the vocabulary whose keys it holds. ``esf`` is the ESF field number it maps to."""

    name: str
    label: str | Promise
    kind: Kind = "text"
    vocabulary: str = ""
    identifying: bool = False
    esf: str = ""
    help: str | Promise = ""

    @property
    def column(self) -> str:
        return "identity" if self.identifying else "details"

    def empty(self) -> object:
        if self.kind in ("terms", "list"):
            return []
        if self.kind == "bool":
            return False
        if self.kind in ("date", "int"):
            return None
        return ""


def _id(name: str, label: str | Promise, kind: Kind = "text", **kw: object) -> Field:
    return Field(name, label, kind, identifying=True, **kw)  # type: ignore[arg-type]


EVENT: tuple[Field, ...] = (
    Field("title", _("Title"), esf="0102"),
    Field(
        "when",
        _("When"),
        "date",
        help=_("As the source put it: “late February 2017”, “between 10 and 15 March”."),
        esf="0113/0114",
    ),
    Field("local_area", _("Local area"), esf="0112"),
    Field("description", _("Description"), "longtext", esf="0115"),
    Field("impact", _("Impact"), "longtext", esf="0116"),
    Field("remarks", _("Remarks"), "longtext", esf="0150"),
    Field("source_ids", _("Record ids in other sources"), "list"),
)

PERSON: tuple[Field, ...] = (
    _id("full_name", _("Full name"), esf="0903"),
    _id("given_name", _("Given name"), esf="0903"),
    _id("patronymic", _("Patronymic")),
    _id("family_name", _("Family name"), esf="0903"),
    _id("other_names", _("Other names and spellings"), "list", esf="0904"),
    _id("birth_date", _("Birth date"), "date", esf="0911"),
    _id("birth_place", _("Place of birth"), esf="0912/0913"),
    _id("home_place", _("Where the person lives or comes from"), esf="0910"),
    _id("sex", _("Sex"), "term", vocabulary="sex", esf="0915"),
    _id("gender_identity", _("Gender identity"), "term", vocabulary="gender-identity"),
    _id(
        "sexual_orientation",
        _("Sexual orientation"),
        "term",
        vocabulary="sexual-orientation",
        esf="0916",
    ),
    _id("sogi_own_words", _("Gender and orientation in the person's own words"), "longtext"),
    _id("contacts", _("Contacts (phone, messenger, e-mail)"), "list"),
    _id("id_documents", _("Identity documents"), "list", esf="0917"),
    _id("addresses", _("Addresses"), "list", esf="8003"),
    _id("source_ids", _("Record ids in other sources"), "list"),
    Field("occupation", _("Occupation"), esf="0922"),
    Field("physical_description", _("Physical description"), "longtext", esf="0926"),
    Field("deceased", _("Deceased"), "bool", esf="0927"),
    Field("date_of_death", _("Date of death"), "date", esf="0928"),
    Field("remarks", _("Remarks"), "longtext", esf="0950"),
)

ACT: tuple[Field, ...] = (
    Field("when", _("When"), "date", esf="2111/2121"),
    _id("exact_location", _("Exact location"), esf="2112"),
    Field("stated_reason", _("Stated reason"), "longtext", esf="2113"),
    Field("methods", _("Methods of violence"), "terms", vocabulary="violence-methods", esf="2114"),
    Field("attribution", _("Attribution"), "term", vocabulary="attribution", esf="2115"),
    Field("physical_consequences", _("Physical consequences"), "longtext", esf="2116"),
    Field("psychological_consequences", _("Psychological consequences"), "longtext", esf="2117"),
    Field("age_at_time", _("Age at the time"), "int", esf="2118"),
    Field(
        "characteristics",
        _("Targeted for (characteristics, perceived or actual)"),
        "terms",
        vocabulary="victim-characteristics",
        esf="2121",
    ),
    Field("location_type", _("Type of location"), "term", vocabulary="location-types", esf="2153"),
    # Arrest and detention (ESF 31xx)
    Field(
        "detention_type", _("Type of detention"), "term", vocabulary="detention-types", esf="3112"
    ),
    Field("detention_conditions", _("Conditions of detention"), "longtext", esf="3113"),
    Field("whereabouts", _("Whereabouts"), "term", vocabulary="whereabouts", esf="3114"),
    Field("legal_counsel", _("Legal counsel"), "term", vocabulary="legal-counsel", esf="3115"),
    # Killing (ESF 32xx)
    Field("autopsy", _("Autopsy"), "term", vocabulary="autopsy", esf="3212"),
    Field(
        "death_certificate",
        _("Death certificate"),
        "term",
        vocabulary="death-certificate",
        esf="3213",
    ),
    # Torture (ESF 33xx)
    Field(
        "statement_signed",
        _("Statement signed"),
        "term",
        vocabulary="statements-signed",
        esf="3311",
    ),
    Field(
        "medical_attention",
        _("Medical attention"),
        "term",
        vocabulary="medical-attention",
        esf="3312",
    ),
    Field("intent", _("Intent"), "term", vocabulary="intent", esf="3351"),
    Field("remarks", _("Remarks"), "longtext", esf="2150"),
    Field("source_ids", _("Record ids in other sources"), "list"),
)

INVOLVEMENT: tuple[Field, ...] = (
    Field(
        "degree", _("Degree of involvement"), "term", vocabulary="involvement-degrees", esf="2409"
    ),
    Field("unit", _("Unit or agency")),
    Field(
        "latest_status",
        _("Latest status as perpetrator"),
        "term",
        vocabulary="perpetrator-status",
        esf="2422",
    ),
    Field("remarks", _("Remarks"), "longtext", esf="2450"),
)

PLACE: tuple[Field, ...] = (
    Field("name", _("Name"), help=_("As people call it: “the commandant's office in Argun”.")),
    Field("other_names", _("Other names and spellings"), "list"),
    Field("used", _("Period of use"), "date"),
    _id("exact_location", _("Exact location or address")),
    _id("coordinates", _("Coordinates, with their precision")),
    Field("description", _("Description"), "longtext"),
    Field("remarks", _("Remarks"), "longtext"),
)

SOURCE: tuple[Field, ...] = (
    Field("title", _("Title or short description")),
    Field(
        "material_type",
        _("Type of source material"),
        "term",
        vocabulary="source-material-types",
        esf="2512",
    ),
    Field("language", _("Language"), esf="2510"),
    Field("date", _("Date of the source"), "date", esf="2511"),
    _id("name", _("Name of the source"), esf="0903"),
    _id("contact", _("How to reach the source"), "longtext", esf="8005-8008"),
    Field("remarks", _("Remarks"), "longtext"),
)

INFORMATION: tuple[Field, ...] = (
    Field(
        "connection",
        _("Source's connection to the information"),
        "term",
        vocabulary="source-connections",
        esf="2509",
    ),
    Field("reliability", _("Reliability"), "term", vocabulary="reliability", esf="2553"),
    Field("received", _("Date received"), "date", esf="2560"),
    # A testimony names people (victims, perpetrators, relatives): reading it is audited.
    _id("summary", _("What the source says"), "longtext"),
    Field("reference", _("Where in the source (page, minute, passage)")),
    Field("remarks", _("Remarks"), "longtext", esf="2550"),
)

INTERVENTION: tuple[Field, ...] = (
    # Type and status stay sealed: "relocated" next to a person's code must not be readable
    # from a seized database, even though the code itself names no one.
    Field(
        "intervention_type",
        _("Type of intervention"),
        "term",
        vocabulary="intervention-types",
        esf="2609",
    ),
    Field("when", _("Date"), "date", esf="2611"),
    Field("parties_requested", _("Parties requested"), "longtext", esf="2612"),
    Field("response", _("Response"), "term", vocabulary="intervention-responses", esf="2613"),
    Field("status", _("Status"), "term", vocabulary="intervention-status", esf="2651"),
    Field("impact", _("Impact"), "longtext", esf="2614"),
    Field("remarks", _("Remarks"), "longtext", esf="2650"),
)

RELATIONSHIP: tuple[Field, ...] = (
    Field(
        "relationship_type", _("Relationship"), "term", vocabulary="relationship-types", esf="2309"
    ),
    Field(
        "danger",
        _("A danger to the person"),
        "bool",
        help=_("Relatives and acquaintances who threaten or informed on the person."),
    ),
    Field("when", _("Dates"), "date", esf="2310/2311"),
    Field("remarks", _("Remarks"), "longtext", esf="2350"),
)

CHAIN: tuple[Field, ...] = (Field("remarks", _("Remarks"), "longtext", esf="2250"),)

# ESF field numbers of the plaintext columns (links and public coded fields), by record kind,
# for docs/data-model.md and for exports that name ESF fields. Columns without an ESF
# counterpart (Place, a record ESF lacks; regions, ours) are absent.
PUBLIC_ESF: dict[str, dict[str, str]] = {
    "event": {"region": "0111", "violation_status": "0151", "status": "0172"},
    "act": {"event": "2103", "victim": "2102", "act_type": "2109", "victim_status": "2123"},
    "involvement": {"act": "2404", "perpetrator": "2402", "perpetrator_type": "2412"},
    "information": {"source": "2502", "event": "2503", "person": "2504"},
    "intervention": {"event": "2603", "victim": "2604", "party": "2602"},
    "chain": {"from_event": "2202", "to_event": "2203", "chain_type": "2209"},
    "relationship": {"person": "2302", "other": "2303"},
}
