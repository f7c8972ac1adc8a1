"""A TED eForms notice (UBL XML, as at `links.xml.MUL`): contract notices, awards, PINs, changes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypedDict

from lxml import etree

from veille.collect.connectors import Connector, NoOptions
from veille.collect.countries import country_code, country_zone, language_code
from veille.collect.normalize import SUMMARY_CAP, TITLE_CAP, item_id, plain_text
from veille.collect.tender import (
    Deadline,
    amount,
    cpv_codes,
    deadline,
    earliest_deadline,
    eforms_notice_type,
    preferred_languages,
    summed,
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
    "efext": "http://data.europa.eu/p27/eforms-ubl-extensions/1",
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
    if etree.QName(root).localname not in ROOTS:
        raise TerminalSourceError(f"not an eForms notice: the root element is {etree.QName(root).localname}, not "
                                  f"one of {', '.join(sorted(ROOTS))}")
    if not (number or notice):
        raise TerminalSourceError("invalid eForms notice: no notice identifier (cbc:ID)")
    if not _all(root, "cac:ProcurementProject | cac:ProcurementProjectLot"):
        raise TerminalSourceError(f"invalid eForms notice {number or notice}: no procurement project "
                                  "(cac:ProcurementProject)")
    return number, notice


def _title_nodes(root: etree._Element) -> list[etree._Element]:
    """Return the procedure's names, in every language (else any project's names)."""
    return _all(root, "cac:ProcurementProject/cbc:Name") or _all(root, ".//cac:ProcurementProject/cbc:Name")


# what is due at each period of a lot's tendering process: answers to a pre-market consultation, expressions of
# interest (BT-630, a prior information notice used as a call), requests to participate (BT-1311, restricted,
# negotiated and competitive-dialogue procedures), tenders (BT-131)
EXTENSION = "ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent/efext:EformsExtension"
PERIODS = {
    "consultation": f"{EXTENSION}/efac:AnswerReceptionPeriod",  # answers to a pre-market consultation (E1)
    "interest": f"{EXTENSION}/efac:InterestExpressionReceptionPeriod",
    "participation": "cac:ParticipationRequestReceptionPeriod",
    "tender": "cac:TenderSubmissionDeadlinePeriod",
}


def _deadlines(root: etree._Element, zone: str | None) -> list[Deadline]:
    """Return each lot's deadlines for requests to participate and for tenders (the procedure's own when a
    notice gives them at its level); a date without offset nor time ends in `zone`, the buyer's."""
    found = []
    for holder in [*_all(root, "cac:ProcurementProjectLot"), root]:
        for kind, period in PERIODS.items():
            end = f"cac:TenderingProcess/{period}/cbc:EndDate"
            if date := _one(holder, end):
                found.append(tender_deadline(date, _one(holder, f"cac:TenderingProcess/{period}/cbc:EndTime"),
                                             zone, kind))
    return found


def _cpv(root: etree._Element) -> list[str]:
    """Return the distinct CPV codes, main and additional, of the procedure and its lots."""
    return cpv_codes(text(n) for n in _all(
        root, ".//cac:MainCommodityClassification/cbc:ItemClassificationCode"
              " | .//cac:AdditionalCommodityClassification/cbc:ItemClassificationCode"))


class Value(TypedDict):
    """A notice's value as the item's fields."""

    value_amount: float | None
    value_currency: str | None
    value_kind: str | None
    value_min: float | None
    value_max: float | None


NO_VALUE: Value = {"value_amount": None, "value_currency": None, "value_kind": None, "value_min": None,
                   "value_max": None}
RESULT = "ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent/efext:EformsExtension/efac:NoticeResult"


def _amounts(nodes: list[etree._Element]) -> tuple[float, str | None] | None:
    """The sum of amount elements and their currency (see `summed`)."""
    return summed((text(n), n.get("currencyID")) for n in nodes)


def _value(amount_currency: tuple[float, str | None] | None, kind: str) -> Value | None:
    """The value fields of a positive amount (a 0 written for a framework's BT-161 is no value)."""
    if amount_currency is None:
        return None
    return {**NO_VALUE, "value_amount": amount_currency[0], "value_currency": amount_currency[1], "value_kind": kind}


def _is_group(tender: etree._Element) -> bool:
    """A tender for a group of lots (its lots' tenders are listed too)."""
    lot = _all(tender, "efac:TenderLot/cbc:ID")
    return bool(lot) and ((lot[0].get("schemeName") or "").lower() == "lotsgroup" or
                          (text(lot[0]) or "").startswith("GLO-"))


def _winning_tenders(result: etree._Element) -> list[etree._Element]:
    """The value of the tenders retained (BT-720), one per lot (the highest where a framework retains several),
    tenders for groups of lots left out: those a lot result with a winner or a settled contract refers to (a
    contract modification lists only its contract's); every tender only when the notice has no lot result."""
    by_id = {_one(t, "cbc:ID"): t for t in _all(result, "efac:LotTender")}
    lot_results = _all(result, "efac:LotResult")
    kept: dict[str | None, None] = {}
    for lot in lot_results:
        if _one(lot, "cbc:TenderResultCode") in ("clos-nw", "open-nw"):  # no winner chosen (yet)
            continue
        kept.update((text(ref), None) for ref in _all(lot, "efac:LotTender/cbc:ID"))
    kept.update((text(ref), None) for ref in _all(result, "efac:SettledContract/efac:LotTender/cbc:ID"))
    tenders = [by_id[r] for r in kept if r in by_id] if kept or lot_results else list(by_id.values())
    per_lot: dict[str | None, etree._Element] = {}
    for tender in tenders:
        payable = _all(tender, "cac:LegalMonetaryTotal/cbc:PayableAmount")
        if _is_group(tender) or not payable:
            continue
        lot = _one(tender, "efac:TenderLot/cbc:ID")
        if lot not in per_lot or (amount(text(payable[0])) or 0) > (amount(text(per_lot[lot])) or 0):
            per_lot[lot] = payable[0]
    return list(per_lot.values())


def _result_value(root: etree._Element) -> Value | None:
    """The value of an award or a modification notice's result: its total (BT-161), else the maximum value of its
    framework agreements (BT-118, else BT-709 of each lot), else the retained tenders of its lots summed (BT-720),
    else the range of the tenders received (BT-710/711, lots summed: kind "received")."""
    results = _all(root, RESULT)
    old = ".//cac:AwardedTenderedProject/cac:LegalMonetaryTotal/cbc:PayableAmount"  # the first SDK versions
    if not results:
        return _value(_amounts(_all(root, old)), "awarded")
    result = results[0]
    found = _value(_amounts(_all(result, "cbc:TotalAmount")), "awarded") or \
        _value(_amounts(_all(result, "efbc:OverallMaximumFrameworkContractsAmount")), "maximum") or \
        _value(_amounts(_all(result, "efac:LotResult/efac:FrameworkAgreementValues/cbc:MaximumValueAmount")),
               "maximum") or \
        _value(_amounts(_winning_tenders(result)), "awarded") or \
        _value(_amounts(_all(root, old)), "awarded")
    if found:
        return found
    low = _amounts(_all(result, "efac:LotResult/cbc:LowerTenderAmount"))
    high = _amounts(_all(result, "efac:LotResult/cbc:HigherTenderAmount"))
    if low and high and low[1] == high[1]:
        return {**NO_VALUE, "value_currency": low[1], "value_kind": "received", "value_min": low[0],
                "value_max": high[0]}
    return None


def _estimated_value(root: etree._Element) -> Value:
    """The estimated value of the procedure (BT-27), else of its lots summed (groups of lots left out: their
    value is their lots')."""
    path = "cac:RequestedTenderTotal/cbc:EstimatedOverallContractAmount"
    if not _all(root, f".//{path}"):
        path = "cac:RequestedTenderTotal/cbc:TotalAmount"  # BT-27 in the first SDK versions
    lots = "cac:ProcurementProjectLot[not(cbc:ID[@schemeName='LotsGroup'])]"
    return _value(_amounts(_all(root, f"cac:ProcurementProject/{path}")), "estimated") or \
        _value(_amounts(_all(root, f"{lots}/cac:ProcurementProject/{path}")), "estimated") or \
        NO_VALUE


def _title_language(prefer: list[str], title_nodes: list[etree._Element]) -> str | None:
    """Return the first preferred language in which the title is written, or None."""
    return next((p for p in prefer if any((n.get("languageID") or "").lower() == p for n in title_nodes)), None)


ROOTS = {"ContractNotice", "ContractAwardNotice", "PriorInformationNotice"}


def _kind(root: etree._Element) -> str | None:
    """Return the notice type: 'modification' for a change notice (a corrigendum), else by the notice type
    code's list, else by the code."""
    if _all(root, ".//efac:Changes"):
        return "modification"
    node = _all(root, "cbc:NoticeTypeCode")
    return eforms_notice_type(text(node[0]), node[0].get("listName")) if node else None


def _related(root: etree._Element, number: str | None, folder: str | None) -> list[str]:
    """Return the notice's TED number, its procedure's folder id and the TED numbers of the notices it changes or
    modifies (a change notice, a contract modification), as related identifiers."""
    number = ted_number(number) or number
    changed = [ted_number(text(n)) for n in _all(root, ".//efac:ContractModification/efbc:ChangedNoticeIdentifier"
                                                       " | .//efac:Changes/efbc:ChangedNoticeIdentifier")]
    return list(dict.fromkeys([*([f"ted:{number}"] if number else []), *([f"procedure:{folder}"] if folder else []),
                               *(f"ted:{c}" for c in changed if c)]))


def parse_notice(source: Source, root: etree._Element) -> Item:
    """Build the item of one eForms notice; raise TerminalSourceError when it is not a procurement notice."""
    notice_lang = _one(root, "cbc:NoticeLanguageCode")
    prefer = preferred_languages(source.lang, [notice_lang] if notice_lang else [])
    number, notice = _identifiers(root)
    title_nodes = _title_nodes(root)
    title = _in_language(title_nodes, prefer) or f"eForms notice {number or notice}"
    summary = _in_language(_all(root, "cac:ProcurementProject/cbc:Description"), prefer)
    cpv = _cpv(root)
    buyer, country = _buyer(root, prefer)
    deadlines = _deadlines(root, country_zone(country or source.country))
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
        **(_result_value(root) or _estimated_value(root)),
        procedure=_one(root, "cac:TenderingProcess/cbc:ProcedureCode"),
        related=_related(root, number, folder),
    )


def parse(source: Source, content: bytes, url: str, content_type: str = "") -> Iterator[Item]:
    root = parse_xml(content, "eForms")
    yield parse_notice(source, root)


CONNECTOR = Connector("eforms", NoOptions, parse)
