"""CanadaBuys tender notices open data: one CSV (UTF-8 with BOM) with bilingual `english-french` columns.

Every field is quoted, records end in CRLF, descriptions hold quoted line breaks, and a field with several
values is a list of `*item` lines (`*National Capital Region (NCR)\n*Canada`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from pydantic import Field

from veille import __version__
from veille.collect.connectors import Connector, NoOptions
from veille.collect.http import Fetcher, Response, Validators
from veille.collect.normalize import SUMMARY_CAP, TITLE_CAP, canonical_url, item_id, plain_text
from veille.collect.paging import shape_error
from veille.collect.tender import deadline, notice_type, tender_deadline
from veille.models import Item, Source
from veille.text import compile_phrases, fold

EASTERN = "America/Toronto"  # closing times of federal tenders are Eastern time
NOTICE_PAGE = {"en": "https://canadabuys.canada.ca/en/tender-opportunities/tender-notice/{ref}",
               "fr": "https://canadabuys.canada.ca/fr/occasions-de-marche/appels-d-offres/{ref}"}
REFERENCE = "referenceNumber-numeroReference"
SOLICITATION = "solicitationNumber-numeroSollicitation"


class CanadaBuysOptions(NoOptions):
    """`keywords` (any, in title or description, English or French) and `unspsc` prefixes select rows."""

    keywords: list[str] = Field(default_factory=list)
    unspsc: list[str] = Field(default_factory=list)


# The site's firewall answers 403 to library user agents; a browser-like one that still names us.
BROWSER_AGENT = f"Mozilla/5.0 (compatible; veille/{__version__}; water-sector market watch)"


async def fetch(source: Source, fetcher: Fetcher, validators: Validators) -> list[Response]:
    return [await fetcher.fetch(source.url, allow_private=source.allow_private_network, validators=validators,
                                headers={"User-Agent": BROWSER_AGENT})]


def _column(row: dict[str, str], stem: str, lang: str) -> str | None:
    """Value of a bilingual column: `stem-eng` / `stem-fra`, the asked language first."""
    suffixes = ("fra", "eng") if lang == "fr" else ("eng", "fra")
    for suffix in suffixes:
        value = row.get(f"{stem}-{suffix}")
        if value and value.strip():
            return value.strip()
    return (row.get(stem) or "").strip() or None


def _items(value: str | None) -> list[str]:
    """Return the values of a `*item` list field (one value a line, each starting with `*`), in order."""
    lines = (line.strip().removeprefix("*").strip() for line in (value or "").splitlines())
    return list(dict.fromkeys(line for line in lines if line))


def _listed(row: dict[str, str], stem: str, lang: str) -> str | None:
    """Return a bilingual `*item` list field as one text, 'A, B'."""
    return ", ".join(_items(_column(row, stem, lang))) or None


def _reader(content: bytes) -> csv.DictReader[str]:
    """Return a reader of the CSV rows, once the header is read and has the reference column."""
    try:
        reader = csv.DictReader(io.StringIO(content.decode("utf-8-sig")))
        fields = reader.fieldnames or []
    except (UnicodeDecodeError, csv.Error) as exc:
        raise shape_error("a CanadaBuys CSV file", f"UTF-8 text ({exc})") from exc
    if REFERENCE not in fields:
        raise shape_error("a CanadaBuys tender notice CSV", f"a '{REFERENCE}' column")
    return reader


def _unspsc_hit(unspsc: list[str], prefixes: list[str]) -> bool:
    """Return whether one of the row's UNSPSC codes starts with one of `prefixes`."""
    return any(code.startswith(p) for code in unspsc for p in prefixes)


def _keyword_hit(row: dict[str, str], wanted: re.Pattern[str]) -> bool:
    """Return whether a keyword appears in the row's title or description, English or French."""
    both = " ".join(filter(None, (row.get("title-titre-eng"), row.get("title-titre-fra"),
                                  row.get("tenderDescription-descriptionAppelOffres-eng"),
                                  row.get("tenderDescription-descriptionAppelOffres-fra"))))
    return bool(wanted.search(fold(both).text))


def _selected(row: dict[str, str], wanted: re.Pattern[str] | None, prefixes: list[str]) -> bool:
    """Return whether the row is kept: any keyword or UNSPSC prefix when keywords are given, else the prefixes."""
    unspsc = _items(row.get("unspsc"))
    if wanted is not None:
        return _keyword_hit(row, wanted) or _unspsc_hit(unspsc, prefixes)
    return not prefixes or _unspsc_hit(unspsc, prefixes)


def _summary(row: dict[str, str], lang: str) -> str:
    """Return the summary parts joined: region of delivery, category, plain description."""
    description = _column(row, "tenderDescription-descriptionAppelOffres", lang)
    region = _listed(row, "regionsOfDelivery-regionsLivraison", lang)
    category = _listed(row, "gsinDescription-nibsDescription", lang) or _listed(row, "unspscDescription", lang)
    return " · ".join(x for x in (region, category, plain_text(description)) if x)


def _row_item(source: Source, row: dict[str, str], reference: str, lang: str) -> Item:
    """Return the item of one tender notice row."""
    title = _column(row, "title-titre", lang)
    page = _column(row, "noticeURL-URLavis", lang) or NOTICE_PAGE["fr" if lang == "fr" else "en"].format(
        ref=reference)
    return Item(
        id=item_id(source.name, reference),
        source=source.name,
        kind=source.kind,
        title=plain_text(title or reference, TITLE_CAP),
        url=canonical_url(page),
        summary=plain_text(_summary(row, lang), SUMMARY_CAP),
        lang="fr" if lang == "fr" and row.get("title-titre-fra") else "en",
        country="CA",
        published_at=deadline(row.get("publicationDate-datePublication"), zone=EASTERN),
        updated_at=deadline(row.get("amendmentDate-dateModification"), zone=EASTERN),
        notice_id=reference,
        notice_type=notice_type(_column(row, "noticeType-avisType", "en")),
        buyer=_column(row, "contractingEntityName-nomEntitContractante", lang)
        or _column(row, "contractingEntityName-nomEntiteContractante", lang),
        **tender_deadline(row.get("tenderClosingDate-appelOffresDateCloture"), zone=EASTERN),
        procedure=_column(row, "procurementMethod-methodeApprovisionnement", lang),
        related=[f"canadabuys:{(row.get(SOLICITATION) or reference).strip()}"],
    )


def parse(source: Source, content: bytes, url: str, content_type: str = "") -> Iterator[Item]:
    """Yield one item per tender notice row that the options select."""
    options = CanadaBuysOptions(**source.options)
    lang = source.lang or "fr"  # the source's language, else French, then English
    reader = _reader(content)
    wanted = compile_phrases(tuple(options.keywords)) if options.keywords else None
    for row in reader:
        reference = (row.get(REFERENCE) or "").strip()
        if reference and _selected(row, wanted, options.unspsc):
            yield _row_item(source, row, reference, lang)


CONNECTOR = Connector("canadabuys", CanadaBuysOptions, parse, fetch)
