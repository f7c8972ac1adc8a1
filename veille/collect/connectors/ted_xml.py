"""Legacy TED XML export (schema R2.0.9, `TED_EXPORT`): TED notices published before November 2023."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from veille.collect.connectors import Connector, NoOptions
from veille.collect.countries import country_code, country_zone, language_code
from veille.collect.normalize import SUMMARY_CAP, TITLE_CAP, item_id, plain_text
from veille.collect.tender import amount, cpv_codes, deadline, notice_type
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
_OJS = re.compile(r"(\d{4})/S\s*\d+-0*(\d+)")


def _local(tag: str) -> str:
    return f"*[local-name()='{tag}']"


def _find(node: etree._Element, *path: str) -> etree._Element | None:
    found = node.xpath("/".join(_local(p) if p != "*" else "*" for p in path))
    return found[0] if found else None


def _findall(node: etree._Element, *path: str) -> list[etree._Element]:
    return list(node.xpath("/".join(_local(p) if p != "*" else "*" for p in path)))


def ojs_to_number(value: str | None) -> str | None:
    """'2020/S 248-616032' → '616032-2020', the publication number TED's API uses."""
    m = _OJS.search(value or "")
    return f"{m.group(2)}-{m.group(1)}" if m else None


def parse(source: Source, content: bytes, url: str, content_type: str = "") -> Iterator[Item]:
    root = parse_xml(content, "TED R2.0.9")
    if etree.QName(root).localname != "TED_EXPORT":
        raise TerminalSourceError(f"not a TED R2.0.9 export: root element is {etree.QName(root).localname}")
    number = root.get("DOC_ID") or ojs_to_number(text(_find(root, "CODED_DATA_SECTION", "NOTICE_DATA", "NO_DOC_OJS")))
    if not number:
        raise TerminalSourceError("TED R2.0.9 export without DOC_ID or NO_DOC_OJS")
    data = _find(root, "CODED_DATA_SECTION", "NOTICE_DATA")
    original = (text(_find(data, "LG_ORIG")) if data is not None else None) or ""
    forms = _findall(root, "FORM_SECTION", "*")
    prefer = [x.upper() for x in ((source.lang or ""), "fr", "en", original) if x]
    form = next((f for lang in prefer for f in forms if (f.get("LG") or "").upper() == lang),
                forms[0] if forms else None)
    if form is None:
        raise TerminalSourceError(f"TED notice {number} has no FORM_SECTION")
    iso = _find(data, "ISO_COUNTRY") if data is not None else None
    country = country_code(iso.get("VALUE") if iso is not None else None)
    obj = _find(form, "OBJECT_CONTRACT")
    value_node = None
    if obj is not None:  # (an lxml element without children is falsy: test `is None`, never `or`)
        value_node = _find(obj, "VAL_TOTAL")
        if value_node is None:
            value_node = _find(obj, "VAL_ESTIMATED_TOTAL")
    proc = _find(form, "PROCEDURE")
    date = text(_find(proc, "DATE_RECEIPT_TENDERS")) if proc is not None else None
    clock = text(_find(proc, "TIME_RECEIPT_TENDERS")) if proc is not None else None
    code = (form.get("FORM") or "").upper()
    related = [ojs_to_number(text(n)) for n in _findall(data, "REF_NOTICE", "NO_DOC_OJS")] if data is not None else []
    yield Item(
        id=item_id(source.name, number),
        source=source.name,
        kind=source.kind,
        title=plain_text(text(_find(obj, "TITLE")) if obj is not None else None, TITLE_CAP) or f"TED notice {number}",
        url=NOTICE_PAGE.format(number=number),
        summary=plain_text(text(_find(obj, "SHORT_DESCR")) if obj is not None else None, SUMMARY_CAP),
        lang=language_code(form.get("LG")),
        country=country or source.country,
        published_at=deadline(text(_find(root, "CODED_DATA_SECTION", "REF_OJS", "DATE_PUB"))),
        notice_id=number,
        notice_type=FORMS.get(code) or notice_type(text(_find(root, "CODED_DATA_SECTION", "CODIF_DATA",
                                                              "TD_DOCUMENT_TYPE"))),
        buyer=text(_find(form, "CONTRACTING_BODY", "ADDRESS_CONTRACTING_BODY", "OFFICIALNAME")),
        deadline_at=deadline(date, clock, country_zone(country)),
        cpv=cpv_codes(n.get("CODE") for n in form.xpath(f".//{_local('CPV_CODE')}")),
        value_amount=amount(text(value_node)) if value_node is not None else None,
        value_currency=value_node.get("CURRENCY") if value_node is not None else None,
        procedure=text(_find(root, "CODED_DATA_SECTION", "CODIF_DATA", "PR_PROC")),
        related=[f"ted:{number}", *(f"ted:{r}" for r in related if r)],
    )


CONNECTOR = Connector("ted-xml", NoOptions, parse)
