"""Legacy TED XML export (schema R2.0.9, `TED_EXPORT`): TED notices published before November 2023."""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from veille.collect.connectors import Connector, NoOptions
from veille.collect.countries import country_code, country_zone, language_code
from veille.collect.normalize import SUMMARY_CAP, TITLE_CAP, item_id, plain_text
from veille.collect.tender import amount, cpv_codes, deadline, notice_type, ted_number, tender_deadline
from veille.collect.xml import parse_xml, text
from veille.errors import TerminalSourceError
from veille.models import Item, Source

NOTICE_PAGE = "https://ted.europa.eu/en/notice/-/detail/{number}"
# Standard forms: F01/F04/F16 prior information, F02/F05/F07/F12/F17/F21–F24 calls, F03/F06/F13/F15/F18
# awards, F14 corrigendum, F20 modification.
FORMS = {"F01": "prior-information", "F04": "prior-information", "F16": "prior-information",
         "F02": "contract-notice", "F05": "contract-notice", "F07": "contract-notice", "F12": "contract-notice",
         "F17": "contract-notice", "F21": "contract-notice", "F22": "contract-notice", "F23": "contract-notice",
         "F24": "contract-notice", "F03": "award", "F06": "award", "F13": "award", "F15": "award",
         "F18": "award", "F25": "award", "F14": "modification", "F20": "modification"}


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


def _value_node(obj: etree._Element | None) -> etree._Element | None:
    """Return the total value element of the contract object, else its estimated total, else None."""
    if obj is None:  # (an lxml element without children is falsy: test `is None`, never `or`)
        return None
    value_node = _find(obj, "VAL_TOTAL")
    return _find(obj, "VAL_ESTIMATED_TOTAL") if value_node is None else value_node


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


def _kind(root: etree._Element, form: etree._Element) -> str | None:
    """Return the notice type of the standard form, else of the document type code."""
    code = (form.get("FORM") or "").upper()
    return FORMS.get(code) or notice_type(text(_find(root, "CODED_DATA_SECTION", "CODIF_DATA", "TD_DOCUMENT_TYPE")))


def _notice(source: Source, root: etree._Element) -> Item:
    """Build the item of one TED_EXPORT notice."""
    number = _number(root)
    data = _find(root, "CODED_DATA_SECTION", "NOTICE_DATA")
    form = _form(root, data, source.lang, number)
    country = _country(data)
    obj = _find(form, "OBJECT_CONTRACT")
    value_node = _value_node(obj)
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
        **tender_deadline(date, clock, country_zone(country)),
        cpv=cpv_codes(n.get("CODE") for n in form.xpath(f".//{_local('CPV_CODE')}")),
        value_amount=amount(text(value_node)) if value_node is not None else None,
        value_currency=value_node.get("CURRENCY") if value_node is not None else None,
        procedure=text(_find(root, "CODED_DATA_SECTION", "CODIF_DATA", "PR_PROC")),
        related=related,
    )


def parse(source: Source, content: bytes, url: str, content_type: str = "") -> Iterator[Item]:
    """Yield the item of the notice."""
    yield _notice(source, parse_xml(content, "TED R2.0.9"))


CONNECTOR = Connector("ted-xml", NoOptions, parse)
