"""BOAMP (France): Opendatasoft Explore v2.1 records (JSON, with `donnees` as JSON in a string), or a
DILA open-data notice (XML, Boamp_v230: ANNONCE/GESTION/DONNEES)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from lxml import etree
from pydantic import Field

from veille.collect.connectors import Connector
from veille.collect.http import Fetcher, Response, Validators
from veille.collect.normalize import SUMMARY_CAP, TITLE_CAP, canonical_url, item_id, plain_text
from veille.collect.paging import PageRequest, PagingOptions, fetch_pages, load_json, shape_error
from veille.collect.tender import cpv_codes, deadline, notice_type, tender_deadline, tender_value
from veille.collect.xml import parse_xml
from veille.models import Item, Source

NOTICE_PAGE = "https://www.boamp.fr/pages/avis/?q=idweb:{idweb}"
PARIS = "Europe/Paris"
MAX_WINDOW = 10_000
VALUE_KEYS = ("VALEUR_TOTALE", "VALEUR_ESTIMEE", "VALEUR")  # Opendatasoft refuses offset + limit beyond this


class BoampOptions(PagingOptions):
    """`where` as written (ODSQL), or built from `keywords`, `departments`, `descriptors` and `days`."""

    where: str | None = None
    keywords: list[str] = Field(default_factory=list)
    departments: list[str] = Field(default_factory=list)
    descriptors: list[str] = Field(default_factory=list)
    days: int = Field(7, ge=1, le=3650)
    limit: int = Field(100, ge=1, le=100)


def _any(field: str, values: list[str], template: str = '{f} = "{v}"') -> str:
    return "(" + " OR ".join(template.format(f=field, v=v.replace('"', '\\"')) for v in values) + ")"


def build_where(options: BoampOptions, today: datetime | None = None) -> str:
    """Return the ODSQL filter: keywords in `objet` AND departments AND descriptors AND recent."""
    if options.where:
        return options.where
    since = ((today or datetime.now(UTC)) - timedelta(days=options.days)).date()
    parts = []
    if options.keywords:
        parts.append(_any("objet", options.keywords, 'search({f}, "{v}")'))
    if options.departments:
        parts.append(_any("code_departement", options.departments))
    if options.descriptors:
        parts.append(_any("descripteur_code", options.descriptors))
    parts.append(f"dateparution >= date'{since.isoformat()}'")
    return " AND ".join(parts)


async def fetch(source: Source, fetcher: Fetcher, validators: Validators) -> list[Response]:
    options = BoampOptions(**source.options)
    first = PageRequest(source.url, params={"where": build_where(options), "order_by": "dateparution desc",
                                            "limit": options.limit, "offset": 0})

    def next_page(response: Response, request: PageRequest, count: int) -> PageRequest | None:
        data = load_json(response.content, "Opendatasoft records")
        offset = int(request.params["offset"]) + options.limit
        total = min(int(data.get("total_count") or 0), MAX_WINDOW)
        if not data.get("results") or offset >= total or offset + options.limit > MAX_WINDOW:
            return None
        return request.with_params(offset=offset)

    return await fetch_pages(source, fetcher, first, next_page, options)


# --- reading a notice (the same GESTION/DONNEES tree in JSON and XML) ----------------------------------


def _xml_dict(node: etree._Element) -> Any:
    """Return an element as the JSON form BOAMP uses: children as keys, repeats as lists, empty as ''."""
    children = [c for c in node if isinstance(c.tag, str)]
    if not children:
        text = (node.text or "").strip()
        if node.attrib:
            return {**{f"@{k}": v for k, v in node.attrib.items()}, "#text": text}
        return text
    out: dict[str, Any] = {}
    for child in children:
        value = _xml_dict(child)
        if child.tag in out:
            out[child.tag] = out[child.tag] if isinstance(out[child.tag], list) else [out[child.tag]]
            out[child.tag].append(value)
        else:
            out[child.tag] = value
    return out


def _get(tree: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(tree, dict):
            return None
        tree = tree.get(key)
    return tree


def _first_key(tree: Any) -> str | None:
    return next(iter(tree), None) if isinstance(tree, dict) and tree else None


def _cpv_values(tree: Any, in_cpv: bool = False) -> Iterator[Any]:
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _cpv_values(value, in_cpv or "CPV" in key.upper() or "ItemClassificationCode" in key)
    elif isinstance(tree, list):
        for value in tree:
            yield from _cpv_values(value, in_cpv)
    elif in_cpv and tree is not None:
        yield tree


def _cpv(donnees: Any) -> list[str]:
    """CPV codes anywhere in the notice: OBJET.CPV.PRINCIPAL (Boamp_v230) or cbc:ItemClassificationCode (eForms)."""
    return cpv_codes(_cpv_values(donnees))


def _value(donnees: Any) -> tuple[float | None, str | None]:
    stack = [donnees]
    while stack:
        tree = stack.pop()
        if isinstance(tree, dict):
            for key, value in tree.items():
                if key.upper() in VALUE_KEYS or "EstimatedOverallContractAmount" in key:
                    if isinstance(value, dict):
                        given = value.get("@DEVISE") or value.get("@currencyID")
                        number, currency = tender_value(value.get("#text") or value.get("$") or value.get("MONTANT"),
                                                        str(given) if given else None)
                    else:
                        number, currency = tender_value(value)
                    if number is not None:
                        return number, currency or "EUR"
                stack.append(value)
        elif isinstance(tree, list):
            stack += tree
    return None, None


def _earlier_notices(gestion: Any) -> list[str]:
    earlier = _get(gestion, "MARCHE", "ANNONCE_ANTERIEUR")
    refs = earlier if isinstance(earlier, list) else [earlier] if earlier else []
    return [f"boamp:{_get(r, 'REFERENCE', 'IDWEB')}" for r in refs if _get(r, "REFERENCE", "IDWEB")]


def _title(idweb: Any, gestion: Any, donnees: Any, record: dict[str, Any]) -> Any:
    """Return the notice's title: the record's `objet`, the contract title, the indexed summary, else a label."""
    return record.get("objet") or _get(donnees, "OBJET", "TITRE_MARCHE") or \
        _get(gestion, "INDEXATION", "RESUME_OBJET") or f"BOAMP {idweb}"


def _limit(gestion: Any, donnees: Any, record: dict[str, Any]) -> Any:
    """Return the deadline as written: for answers, else for offers, else for applications."""
    return record.get("datelimitereponse") or _get(gestion, "INDEXATION", "DATE_LIMITE_REPONSE") or \
        _get(donnees, "CONDITION_DELAI", "RECEPT_OFFRES") or _get(donnees, "CONDITION_DELAI", "RECEPT_CANDIDAT")


def _related(idweb: Any, gestion: Any, record: dict[str, Any]) -> list[str]:
    """Return the identifiers of the notice, of its earlier and linked notices, and of its procedure."""
    related = [f"boamp:{idweb}", *_earlier_notices(gestion)]
    for key in ("annonce_lie", "annonces_anterieures"):
        linked = record.get(key)
        related += [f"boamp:{v}" for v in (linked if isinstance(linked, list) else [linked]) if v]
    if record.get("contractfolderid"):
        related.append(f"procedure:{record['contractfolderid']}")
    return related


def _summary(donnees: Any) -> str:
    """Return the full object of the contract as plain text ('' when it is not a string)."""
    full = _get(donnees, "OBJET", "OBJET_COMPLET")
    return plain_text(full if isinstance(full, str) else None, SUMMARY_CAP)


def _procedure_name(procedure: Any) -> str | None:
    """Return the procedure in lower case with spaces ('PROCEDURE_ADAPTEE' → 'procedure adaptee'); None for '/'."""
    return str(procedure).replace("_", " ").lower() if procedure and procedure != "/" else None


def notice_item(source: Source, gestion: Any, donnees: Any, record: dict[str, Any] | None = None) -> Item | None:
    """Build the item of one BOAMP notice from its GESTION/DONNEES trees (plus the ODS record's flat fields)."""
    record = record or {}
    idweb = record.get("idweb") or _get(gestion, "REFERENCE", "IDWEB")
    if not idweb:
        return None
    nature = record.get("nature") or _first_key(_get(gestion, "REFERENCE", "TYPE_AVIS", "NATURE"))
    title = _title(idweb, gestion, donnees, record)
    limit = _limit(gestion, donnees, record)
    value, currency = _value(donnees)
    procedure = record.get("procedure_libelle") or _first_key(_get(donnees, "PROCEDURE", "TYPE_PROCEDURE"))
    related = _related(idweb, gestion, record)
    return Item(
        id=item_id(source.name, str(idweb)),
        source=source.name,
        kind=source.kind,
        title=plain_text(str(title), TITLE_CAP),
        url=canonical_url(record.get("url_avis") or NOTICE_PAGE.format(idweb=idweb)),
        summary=_summary(donnees),
        lang="fr",
        country="FR",
        published_at=deadline(record.get("dateparution") or _get(gestion, "INDEXATION", "DATE_PUBLICATION"),
                              zone=PARIS),
        notice_id=str(idweb),
        notice_type=notice_type(nature),
        buyer=record.get("nomacheteur") or _get(donnees, "IDENTITE", "DENOMINATION"),
        **tender_deadline(limit if isinstance(limit, str) else None, zone=PARIS),
        cpv=_cpv(donnees),
        value_amount=value,
        value_currency=currency if value is not None else None,
        procedure=_procedure_name(procedure),
        related=related,
    )


def _decode(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return value


def parse(source: Source, content: bytes, url: str, content_type: str = "") -> Iterator[Item]:
    if content.lstrip()[:1] == b"<":
        root = parse_xml(content, "BOAMP")
        tree = _xml_dict(root)
        if root.tag != "ANNONCE" or not isinstance(tree, dict):
            raise shape_error("a BOAMP notice", "an ANNONCE root element")
        item = notice_item(source, tree.get("GESTION"), tree.get("DONNEES"))
        if item:
            yield item
        return
    data = load_json(content, "BOAMP (Opendatasoft)")
    records = data.get("results") if isinstance(data, dict) else None
    if not isinstance(records, list):
        raise shape_error("a BOAMP Opendatasoft response", "a 'results' list")
    for record in records:
        if isinstance(record, dict):
            item = notice_item(source, _decode(record.get("gestion")), _decode(record.get("donnees")), record)
            if item:
                yield item


CONNECTOR = Connector("boamp", BoampOptions, parse, fetch)
