"""Legacy TED XML export (schema R2.0.9, `TED_EXPORT`): TED notices published before November 2023."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lxml import etree

from veille.collect.connectors import Connector, NoOptions
from veille.collect.countries import country_code, country_zone, language_code
from veille.collect.normalize import SUMMARY_CAP, TITLE_CAP, item_id, plain_text
from veille.collect.tender import amount, cpv_codes, deadline, notice_type, summed, ted_number, tender_deadline
from veille.collect.xml import parse_xml, text
from veille.errors import TerminalSourceError
from veille.models import Item, Source

NOTICE_PAGE = "https://ted.europa.eu/en/notice/-/detail/{number}"
# Standard forms of one notice type: F01/F04/F16 prior information (unless their NOTICE says it is a call),
# F02/F05/F07/F12/F17/F24 calls, F03/F06/F13/F15/F18/F25 awards, F14 corrigendum, F20 modification. F21–F23
# (social and other specific services, concessions) are a prior information notice, a call or an award by
# their NOTICE TYPE and document type.
FORMS = {"F01": "prior-information", "F04": "prior-information", "F16": "prior-information",
         "F02": "contract-notice", "F05": "contract-notice", "F07": "contract-notice", "F12": "contract-notice",
         "F17": "contract-notice", "F24": "contract-notice", "F03": "award", "F06": "award", "F13": "award",
         "F15": "award", "F18": "award", "F25": "award", "F14": "modification", "F20": "modification"}
DOCUMENT_TYPES = {"3": "contract-notice", "7": "award"}  # TD_DOCUMENT_TYPE codes; else read by their label
# procedures where the time limit of IV.2.2 is for requests to participate (tenders come after an invitation)
TWO_STAGES = ("RESTRICTED", "COMPETITIVE_NEGOTIATION", "NEGOTIATED_WITH_PRIOR_CALL", "COMPETITIVE_DIALOGUE",
              "INNOVATION_PARTNERSHIP", "NEGOTIATED_WITH_COMPETITION", "ACCELERATED_NEGOTIATED",
              "INVOLVING_NEGOTIATION")


def _local(tag: str) -> str:
    return f"*[local-name()='{tag}']"


def _find(node: etree._Element, *path: str) -> etree._Element | None:
    found = node.xpath("/".join(_local(p) if p != "*" else "*" for p in path))
    return found[0] if found else None


def _findall(node: etree._Element, *path: str) -> list[etree._Element]:
    return list(node.xpath("/".join(_local(p) if p != "*" else "*" for p in path)))


def ojs_to_number(value: str | None) -> str | None:
    """'2020/S 248-616032' → '616032-2020', the publication number TED's API uses."""
    return ted_number(value) if value and "/S" in value else None


def _number(root: etree._Element) -> str:
    """Return the notice's publication number (DOC_ID, else from the OJ S reference); raise if not a notice."""
    if etree.QName(root).localname != "TED_EXPORT":
        raise TerminalSourceError(f"not a TED R2.0.9 export: root element is {etree.QName(root).localname}")
    number = ted_number(root.get("DOC_ID")) or ojs_to_number(text(_find(root, "CODED_DATA_SECTION", "NOTICE_DATA",
                                                                          "NO_DOC_OJS")))
    if not number:
        raise TerminalSourceError("TED R2.0.9 export without DOC_ID or NO_DOC_OJS")
    return number


def _form(root: etree._Element, data: etree._Element | None, source_lang: str | None, number: str) -> etree._Element:
    """Return the form in the first of these languages: the source's, French, English, the original; else the first."""
    original = (text(_find(data, "LG_ORIG")) if data is not None else None) or ""
    forms = _findall(root, "FORM_SECTION", "*")
    prefer = [x.upper() for x in ((source_lang or ""), "fr", "en", original) if x]
    form = next((f for lang in prefer for f in forms if (f.get("LG") or "").upper() == lang),
                forms[0] if forms else None)
    if form is None:
        raise TerminalSourceError(f"TED notice {number} has no FORM_SECTION")
    return form


def _country(data: etree._Element | None) -> str | None:
    """Return the ISO code of the notice's country (NOTICE_DATA/ISO_COUNTRY), or None."""
    iso = _find(data, "ISO_COUNTRY") if data is not None else None
    return country_code(iso.get("VALUE") if iso is not None else None)


NO_VALUE = {"value_amount": None, "value_currency": None, "value_kind": None, "value_min": None, "value_max": None}
# where a value is, in order: the contract object's (II.1.7 total or range, VI's modified total of F20, II.1.5
# estimate), else its lots' (V.2.4 of each awarded lot, once per lot, then II.2.6 of each lot)
OBJECT_VALUES = [("OBJECT_CONTRACT/VAL_TOTAL", "awarded"), ("OBJECT_CONTRACT/VAL_RANGE_TOTAL", "received"),
                 (".//VAL_TOTAL_AFTER", "awarded"), ("OBJECT_CONTRACT/VAL_ESTIMATED_TOTAL", "estimated")]


def _xpath(path: str) -> str:
    return "/".join(p if p in ("", ".") else _local(p) for p in path.split("/"))


def _summed(nodes: list[etree._Element]) -> tuple[float, str | None] | None:
    """The sum of amount elements in one currency (see `summed`)."""
    return summed((text(n), n.get("CURRENCY")) for n in nodes)


def _range(nodes: list[etree._Element], kind: str) -> dict[str, Any] | None:
    low = _summed([n for r in nodes for n in r.xpath(_local("LOW"))])
    high = _summed([n for r in nodes for n in r.xpath(_local("HIGH"))])
    if not (low and high and low[1] == high[1]):
        return None
    return {**NO_VALUE, "value_currency": low[1] or nodes[0].get("CURRENCY"), "value_kind": kind,
            "value_min": low[0], "value_max": high[0]}


def _lots_awarded(form: etree._Element) -> dict[str, Any] | None:
    """The awarded lots' values added up, each lot once (its highest: a framework lot has one award per winner);
    None unless every awarded lot gives one."""
    per_lot: dict[str, etree._Element] = {}
    for award in form.xpath(_xpath("AWARD_CONTRACT")):
        if not award.xpath(_local("AWARDED_CONTRACT")):
            continue  # a lot not awarded
        lot = text(_find(award, "LOT_NO")) or award.get("ITEM") or ""
        value = _find(award, "AWARDED_CONTRACT", "VALUES", "VAL_TOTAL")
        if value is None:
            return None
        if lot not in per_lot or (amount(text(value)) or 0) > (amount(text(per_lot[lot])) or 0):
            per_lot[lot] = value
    found = _summed(list(per_lot.values())) if per_lot else None
    return {**NO_VALUE, "value_amount": found[0], "value_currency": found[1], "value_kind": "awarded"} \
        if found else None


def _value(form: etree._Element) -> dict[str, Any]:
    """The notice's value: a total, else a range (kept as low and high), else its lots'; the kind says whether it
    is the estimate, the value awarded or the range of the tenders received."""
    for path, kind in OBJECT_VALUES:
        nodes = list(form.xpath(_xpath(path)))
        if not nodes:
            continue
        found = _range(nodes, kind) if path.endswith("RANGE_TOTAL") else None
        if found is None and not path.endswith("RANGE_TOTAL") and (total := _summed(nodes)):
            found = {**NO_VALUE, "value_amount": total[0], "value_currency": total[1], "value_kind": kind}
        if found:
            return found
    lots = _lots_awarded(form) or _range(form.xpath(_xpath("AWARD_CONTRACT/AWARDED_CONTRACT/VALUES/VAL_RANGE_TOTAL")),
                                         "received")
    if lots:
        return lots
    for path, kind in (("OBJECT_CONTRACT/OBJECT_DESCR/VAL_OBJECT", "estimated"),):
        if total := _summed(list(form.xpath(_xpath(path)))):
            return {**NO_VALUE, "value_amount": total[0], "value_currency": total[1], "value_kind": kind}
    return NO_VALUE


def _receipt(form: etree._Element) -> tuple[str | None, str | None]:
    """Return the date and the time of receipt of tenders, as written (None when absent)."""
    proc = _find(form, "PROCEDURE")
    if proc is None:
        return None, None
    return text(_find(proc, "DATE_RECEIPT_TENDERS")), text(_find(proc, "TIME_RECEIPT_TENDERS"))


def _related(number: str, data: etree._Element | None) -> list[str]:
    """Return this notice and the notices it refers to (REF_NOTICE), as TED identifiers."""
    related = [ojs_to_number(text(n)) for n in _findall(data, "REF_NOTICE", "NO_DOC_OJS")] if data is not None else []
    return [f"ted:{number}", *(f"ted:{r}" for r in related if r)]


def _object_text(obj: etree._Element | None, tag: str) -> str | None:
    """Return the text of the contract object's `tag` child, or None."""
    return text(_find(obj, tag)) if obj is not None else None


def _notice_kind(form: etree._Element) -> str | None:
    """The notice type a form's NOTICE TYPE says (F01 'PRI_CALL_COMPETITION' is a call; F21–F23 'PRI',
    'CONTRACT', 'AWARD_CONTRACT', 'CONCESSION', 'QSU'…), else None."""
    notice = _find(form, "NOTICE")
    kind = (notice.get("TYPE") or "").upper() if notice is not None else ""
    if not kind:
        return None
    if "AWARD" in kind:
        return "award"
    if kind.startswith(("CONTRACT", "CONCESSION", "QSU")) or "CALL_COMPETITION" in kind:
        return "contract-notice"
    return "prior-information" if kind.startswith(("PRI", "PER")) else None


def _kind(root: etree._Element, form: etree._Element) -> str | None:
    """Return the notice type: the form's NOTICE TYPE, else the form's own type, else the document type."""
    document = _find(root, "CODED_DATA_SECTION", "CODIF_DATA", "TD_DOCUMENT_TYPE")
    by_document = DOCUMENT_TYPES.get(document.get("CODE") or "") if document is not None else None
    return _notice_kind(form) or FORMS.get((form.get("FORM") or "").upper()) or by_document or \
        notice_type(text(document))


def _deadline_kind(root: etree._Element, form: etree._Element) -> str:
    """What IV.2.2's time limit is for: expressions of interest in a prior information notice used as a call,
    requests to participate in a two-stage procedure, else tenders."""
    notice = _find(form, "NOTICE")
    if notice is not None and "CALL_COMPETITION" in (notice.get("TYPE") or "").upper():
        return "interest"
    label = (text(_find(root, "CODED_DATA_SECTION", "CODIF_DATA", "PR_PROC")) or "").upper().replace(" ", "_")
    procedure = _find(form, "PROCEDURE")
    chosen = " ".join(etree.QName(n).localname for n in procedure) if procedure is not None else ""
    return "participation" if any(s in label or s in chosen for s in TWO_STAGES) else "tender"


def _notice(source: Source, root: etree._Element) -> Item:
    """Build the item of one TED_EXPORT notice."""
    number = _number(root)
    data = _find(root, "CODED_DATA_SECTION", "NOTICE_DATA")
    form = _form(root, data, source.lang, number)
    country = _country(data)
    obj = _find(form, "OBJECT_CONTRACT")
    date, clock = _receipt(form)
    related = _related(number, data)
    return Item(
        id=item_id(source.name, number),
        source=source.name,
        kind=source.kind,
        title=plain_text(_object_text(obj, "TITLE"), TITLE_CAP) or f"TED notice {number}",
        url=NOTICE_PAGE.format(number=number),
        summary=plain_text(_object_text(obj, "SHORT_DESCR"), SUMMARY_CAP),
        lang=language_code(form.get("LG")),
        country=country or source.country,
        published_at=deadline(text(_find(root, "CODED_DATA_SECTION", "REF_OJS", "DATE_PUB"))),
        notice_id=number,
        notice_type=_kind(root, form),
        buyer=text(_find(form, "CONTRACTING_BODY", "ADDRESS_CONTRACTING_BODY", "OFFICIALNAME")),
        **tender_deadline(date, clock, country_zone(country), _deadline_kind(root, form)),
        cpv=cpv_codes(n.get("CODE") for n in form.xpath(f".//{_local('CPV_CODE')}")),
        **_value(form),
        procedure=text(_find(root, "CODED_DATA_SECTION", "CODIF_DATA", "PR_PROC")),
        related=related,
    )


def parse(source: Source, content: bytes, url: str, content_type: str = "") -> Iterator[Item]:
    """Yield the item of the notice."""
    yield _notice(source, parse_xml(content, "TED R2.0.9"))


CONNECTOR = Connector("ted-xml", NoOptions, parse)
