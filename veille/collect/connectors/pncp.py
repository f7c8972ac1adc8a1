"""Brazil's PNCP consultation API: contratações by modality, `pagina`/`tamanhoPagina` (10–50), São Paulo time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field

from veille.collect.connectors import Connector
from veille.collect.http import Fetcher, Response, Validators
from veille.collect.normalize import SUMMARY_CAP, TITLE_CAP, canonical_url, item_id, plain_text
from veille.collect.paging import PageRequest, PagingOptions, fetch_pages, load_json, shape_error
from veille.collect.tender import deadline, notice_type, tender_deadline
from veille.models import Item, Source
from veille.text import compile_phrases, fold

BRAZIL = "America/Sao_Paulo"
NOTICE_PAGE = "https://pncp.gov.br/app/editais/{cnpj}/{year}/{seq}"


class PncpOptions(PagingOptions):
    """`modalities`: codigoModalidadeContratacao values (mandatory in the API, one query each);
    `keywords`: kept when one appears in `objetoCompra` (the API has no text search)."""

    modalities: list[int] = Field(default_factory=lambda: [6, 8])
    keywords: list[str] = Field(default_factory=list)
    uf: str | None = None
    days: int = Field(30, ge=1, le=365)
    page_size: int = Field(50, ge=10, le=50)


def _requests(source: Source, options: PncpOptions, today: datetime) -> list[PageRequest]:
    """One first request per modality; `/proposta` lists purchases open until a date, `/publicacao` a window."""
    local = today.astimezone(ZoneInfo(BRAZIL)).date()
    out = []
    for modality in options.modalities:
        params: dict[str, Any] = {"codigoModalidadeContratacao": modality, "pagina": 1,
                                  "tamanhoPagina": options.page_size}
        if source.url.rstrip("/").endswith("publicacao"):
            params |= {"dataInicial": (local - timedelta(days=options.days)).strftime("%Y%m%d"),
                       "dataFinal": local.strftime("%Y%m%d")}
        else:
            params["dataFinal"] = (local + timedelta(days=options.days)).strftime("%Y%m%d")
        if options.uf:
            params["uf"] = options.uf
        out.append(PageRequest(source.url, params=params))
    return out


async def fetch(source: Source, fetcher: Fetcher, validators: Validators) -> list[Response]:
    options = PncpOptions(**source.options)

    def next_page(response: Response, request: PageRequest, count: int) -> PageRequest | None:
        if response.status == 204 or not response.content.strip():
            return None
        data = load_json(response.content, "PNCP")
        if not isinstance(data, dict) or not data.get("paginasRestantes"):
            return None
        return request.with_params(pagina=int(request.params["pagina"]) + 1)

    responses = []
    for first in _requests(source, options, datetime.now(UTC)):
        responses += await fetch_pages(source, fetcher, first, next_page, options)
    return [r for r in responses if r.status != 204 and r.content.strip()]


def _notice_url(record: dict[str, Any], org: Any) -> str | None:
    """Return the purchase's page on pncp.gov.br (buyer CNPJ, year, sequence), or None when one is missing."""
    cnpj, year, seq = org.get("cnpj"), record.get("anoCompra"), record.get("sequencialCompra")
    return NOTICE_PAGE.format(cnpj=cnpj, year=year, seq=seq) if cnpj and year and seq else None


def _place(unit: Any) -> str:
    """Return the buying unit's town and state, joined ('' when neither is given)."""
    return ", ".join(x for x in (unit.get("municipioNome"), unit.get("ufSigla")) if x)


def _kind(record: dict[str, Any]) -> str | None:
    """Return the notice type: a contract notice while the purchase is open (situação 1), else from its status."""
    if record.get("situacaoCompraId") != 1:
        return notice_type(record.get("situacaoCompraNome"))
    return "contract-notice"


def _estimate(record: dict[str, Any]) -> Any:
    """Return the estimated total value when it is a number, else None."""
    value = record.get("valorTotalEstimado")
    return value if isinstance(value, int | float) else None


def purchase_item(source: Source, record: dict[str, Any]) -> Item | None:
    """Build the item of one purchase (contratação); None without a PNCP control number."""
    control = record.get("numeroControlePNCP")
    if not control:
        return None
    org = record.get("orgaoEntidade") or {}
    unit = record.get("unidadeOrgao") or {}
    url = _notice_url(record, org)
    place = _place(unit)
    details = plain_text(record.get("informacaoComplementar"))
    return Item(
        id=item_id(source.name, str(control)),
        source=source.name,
        kind=source.kind,
        title=plain_text(record.get("objetoCompra") or f"PNCP {control}", TITLE_CAP),
        url=canonical_url(url),
        summary=plain_text(" · ".join(x for x in (place, details) if x), SUMMARY_CAP),
        lang="pt",
        country="BR",
        published_at=deadline(record.get("dataPublicacaoPncp"), zone=BRAZIL),
        notice_id=str(control),
        notice_type=_kind(record),
        buyer=org.get("razaoSocial") or unit.get("nomeUnidade"),
        **tender_deadline(record.get("dataEncerramentoProposta"), zone=BRAZIL),
        value_amount=_estimate(record),
        value_currency="BRL" if _estimate(record) is not None else None,
        procedure=record.get("modalidadeNome"),
        related=[f"pncp:{control}"],
    )


def line_item(source: Source, line: dict[str, Any], index: int) -> Item:
    """An item of a purchase (the /itens endpoint): its description, quantity and estimated total."""
    number = line.get("numeroItem", index)
    quantity = " ".join(str(x) for x in (line.get("quantidade"), line.get("unidadeMedida")) if x)
    return Item(
        id=item_id(source.name, f"item-{number}-{line.get('descricao')}"),
        source=source.name,
        kind=source.kind,
        title=plain_text(line.get("descricao") or f"item {number}", TITLE_CAP),
        summary=plain_text(" · ".join(x for x in (line.get("materialOuServicoNome"), quantity) if x)),
        lang="pt",
        country="BR",
        published_at=deadline(line.get("dataInclusao"), zone=BRAZIL),
        notice_id=str(number),
        notice_type="other",
        value_amount=line.get("valorTotal") if isinstance(line.get("valorTotal"), int | float) else None,
        value_currency="BRL" if isinstance(line.get("valorTotal"), int | float) else None,
        procedure=line.get("criterioJulgamentoNome"),
    )


def parse(source: Source, content: bytes, url: str, content_type: str = "") -> Iterator[Item]:
    data = load_json(content, "PNCP")
    options = PncpOptions(**source.options)
    wanted = compile_phrases(tuple(options.keywords)) if options.keywords else None
    if isinstance(data, list):  # /orgaos/{cnpj}/compras/{ano}/{seq}/itens
        for index, line in enumerate(data, 1):
            if isinstance(line, dict) and "descricao" in line:
                yield line_item(source, line, index)
        return
    records = data.get("data") if isinstance(data, dict) else None
    if not isinstance(records, list):
        raise shape_error("a PNCP response", "a 'data' list (or a list of purchase items)")
    for record in records:
        if not isinstance(record, dict):
            continue
        if wanted is not None:
            text = f"{record.get('objetoCompra') or ''} {record.get('informacaoComplementar') or ''}"
            if not wanted.search(fold(text).text):
                continue
        item = purchase_item(source, record)
        if item:
            yield item


CONNECTOR = Connector("pncp", PncpOptions, parse, fetch)
