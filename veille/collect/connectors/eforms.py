"""A TED eForms notice (UBL XML, as at `links.xml.MUL`): contract notices, awards, PINs, changes."""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from veille.collect.connectors import Connector, NoOptions
from veille.collect.countries import country_code, language_code
from veille.collect.normalize import SUMMARY_CAP, TITLE_CAP, item_id, plain_text
from veille.collect.tender import (
    Deadline,
    amount,
    cpv_codes,
    deadline,
    earliest_deadline,
    notice_type,
    preferred_languages,
    ted_number,
    tender_deadline,
)
from veille.collect.xml import parse_xml, text
from veille.errors import TerminalSourceError
from veille.models import Item, Source

NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "efac": "http://data.europa.eu/p27/eforms-ubl-extension-aggregate-components/1",
    "efbc": "http://data.europa.eu/p27/eforms-ubl-extension-basic-components/1",
    "ext": "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2",
}
NOTICE_PAGE = "https://ted.europa.eu/en/notice/-/detail/{number}"


def _all(node: etree._Element, path: str) -> list[etree._Element]:
    return list(node.xpath(path, namespaces=NS))


def _one(node: etree._Element, path: str) -> str | None:
    found = _all(node, path)
    return text(found[0]) if found else None


def _in_language(nodes: list[etree._Element], prefer: list[str]) -> str | None:
    by_lang: dict[str, str | None] = {}
    for node in nodes:
        by_lang.setdefault((node.get("languageID") or "").lower(), text(node))
    for lang in [*prefer, *by_lang]:
        if by_lang.get(lang):
            return by_lang[lang]
    return None


def _buyer(root: etree._Element, prefer: list[str]) -> tuple[str | None, str | None]:
    """Return the name and country of the first contracting party's organisation."""
    party_id = _one(root, "cac:ContractingParty/cac:Party/cac:PartyIdentification/cbc:ID")
    companies = _all(root, ".//efac:Organizations/efac:Organization/efac:Company")
    company = next((c for c in companies if _one(c, "cac:PartyIdentification/cbc:ID") == party_id),
                   companies[0] if companies else None)
    if company is None:
        return None, None
    name = _in_language(_all(company, "cac:PartyName/cbc:Name"), prefer)
    country = _one(company, "cac:PostalAddress/cac:Country/cbc:IdentificationCode")
    return name, country_code(country)


def _identifiers(root: etree._Element) -> tuple[str | None, str | None]:
    """Return the publication number (TED's form, without leading zeros) and the notice id; raise if neither."""
    publication = _one(root, ".//efac:Publication/efbc:NoticePublicationID")
    number = publication.lstrip("0") if publication else None  # 00622691-2023 → 622691-2023 as TED's API
    notice = _one(root, "cbc:ID[@schemeName='notice-id']") or _one(root, "cbc:ID")
    if not (number or notice):
        raise TerminalSourceError("not an eForms notice: no notice identifier (cbc:ID)")
    if not _all(root, "cac:ProcurementProject | cac:ProcurementProjectLot"):
        raise TerminalSourceError(f"eForms notice {number or notice} has no procurement project")
    return number, notice


def _title_nodes(root: etree._Element) -> list[etree._Element]:
    """Return the procedure's names, in every language (else any project's names)."""
    return _all(root, "cac:ProcurementProject/cbc:Name") or _all(root, ".//cac:ProcurementProject/cbc:Name")


def _deadlines(root: etree._Element) -> list[Deadline]:
    """Return the tender submission deadline of each lot."""
    return [tender_deadline(_one(lot, "cac:TenderingProcess/cac:TenderSubmissionDeadlinePeriod/cbc:EndDate"),
                            _one(lot, "cac:TenderingProcess/cac:TenderSubmissionDeadlinePeriod/cbc:EndTime"))
            for lot in _all(root, "cac:ProcurementProjectLot")]


def _cpv(root: etree._Element) -> list[str]:
    """Return the distinct CPV codes, main and additional, of the procedure and its lots."""
    return cpv_codes(text(n) for n in _all(
        root, ".//cac:MainCommodityClassification/cbc:ItemClassificationCode"
              " | .//cac:AdditionalCommodityClassification/cbc:ItemClassificationCode"))


def _value_node(root: etree._Element) -> etree._Element | None:
    """Return the estimated value element of the procedure (else of the first lot that has one), or None."""
    totals = _all(root, "cac:ProcurementProject/cac:RequestedTenderTotal/cbc:EstimatedOverallContractAmount") or \
        _all(root, ".//cac:RequestedTenderTotal/cbc:EstimatedOverallContractAmount")
    return totals[0] if totals else None


def _title_language(prefer: list[str], title_nodes: list[etree._Element]) -> str | None:
    """Return the first preferred language in which the title is written, or None."""
    return next((p for p in prefer if any((n.get("languageID") or "").lower() == p for n in title_nodes)), None)


def _kind(root: etree._Element) -> str | None:
    """Return the notice type: 'modification' for a change notice, else the normalised notice type code."""
    return "modification" if _all(root, ".//efac:Changes") else notice_type(_one(root, "cbc:NoticeTypeCode"))


def _related(number: str | None, folder: str | None) -> list[str]:
    """Return the notice's TED number and its procedure's folder id, as related identifiers."""
    number = ted_number(number) or number
    return [*([f"ted:{number}"] if number else []), *([f"procedure:{folder}"] if folder else [])]


def parse_notice(source: Source, root: etree._Element) -> Item:
    """Build the item of one eForms notice; raise TerminalSourceError when it is not a procurement notice."""
    notice_lang = _one(root, "cbc:NoticeLanguageCode")
    prefer = preferred_languages(source.lang, [notice_lang] if notice_lang else [])
    number, notice = _identifiers(root)
    title_nodes = _title_nodes(root)
    title = _in_language(title_nodes, prefer) or f"eForms notice {number or notice}"
    summary = _in_language(_all(root, "cac:ProcurementProject/cbc:Description"), prefer)
    deadlines = _deadlines(root)
    cpv = _cpv(root)
    value_node = _value_node(root)
    buyer, country = _buyer(root, prefer)
    published = _one(root, ".//efac:Publication/efbc:PublicationDate") or _one(root, "cbc:IssueDate")
    lang_used = _title_language(prefer, title_nodes)
    folder = _one(root, "cbc:ContractFolderID")
    return Item(
        id=item_id(source.name, number or str(notice)),
        source=source.name,
        kind=source.kind,
        title=plain_text(title, TITLE_CAP),
        url=NOTICE_PAGE.format(number=number) if number else None,
        summary=plain_text(summary, SUMMARY_CAP),
        lang=language_code(lang_used) if lang_used else source.lang,
        country=country or source.country,
        published_at=deadline(published),
        notice_id=number or notice,
        notice_type=_kind(root),
        buyer=buyer,
        **earliest_deadline(deadlines),
        cpv=cpv,
        value_amount=amount(text(value_node)) if value_node is not None else None,
        value_currency=value_node.get("currencyID") if value_node is not None else None,
        procedure=_one(root, "cac:TenderingProcess/cbc:ProcedureCode"),
        related=_related(number, folder),
    )


def parse(source: Source, content: bytes, url: str, content_type: str = "") -> Iterator[Item]:
    root = parse_xml(content, "eForms")
    yield parse_notice(source, root)


CONNECTOR = Connector("eforms", NoOptions, parse)
