"""Each API connector over a loopback server: the requests it sends, its paging, and the items it yields.

Payloads are written here in the real formats of each API (see ../shared/domain/apis.md); the real public
samples are parsed in test_corpus_apis.py.
"""

from __future__ import annotations

import email
import json
from datetime import UTC, datetime
from email import policy

import pytest

from veille.collect import collect
from veille.collect.connectors import canadabuys
from veille.demo.server import FixtureServer, Request
from veille.models import Source


def run(source: Source):
    [outcome] = collect([source], {})
    assert outcome.ok, outcome.error
    return outcome.items


def source(http: FixtureServer, type_: str, path: str, kind: str = "tender", **options) -> Source:
    return Source(name=type_, kind=kind, type=type_, url=http.url(path), allow_private_network=True,
                  options={"page_delay": 0, **options} if type_ not in ("canadabuys", "csv", "eforms", "ted-xml")
                  else options)


def reply(payload: object) -> tuple[int, bytes, str]:
    return 200, json.dumps(payload).encode(), "application/json"


# --- TED Search API v3 --------------------------------------------------------------------------------


def ted_notice(number: str, title: str, cpv: list[str], deadline: str) -> dict:
    return {"publication-number": number, "notice-title": {"fra": title, "eng": f"EN {title}"},
            "buyer-name": {"fra": ["Eau de Paris"]}, "buyer-country": ["FRA"], "classification-cpv": cpv + cpv,
            "publication-date": "2026-11-10+01:00", "deadline-receipt-tender-date-lot": [deadline],
            "deadline-receipt-tender-time-lot": ["12:00:00+01:00"], "notice-type": "cn-standard",
            "official-language": ["FRA"], "total-value": 1500000, "total-value-cur": ["EUR"],
            "links": {"html": {"FRA": f"https://ted.europa.eu/fr/notice/-/detail/{number}"}}}


def test_ted_iterates_with_tokens(http):
    def search(request: Request):
        body = json.loads(request.body)
        if "iterationNextToken" not in body:
            return reply({"notices": [ted_notice("700001-2026", "Usine d'ultrafiltration", ["42912300"],
                                                 "2026-12-01+01:00")],
                          "totalNoticeCount": 2, "iterationNextToken": "tok-2", "timedOut": False})
        return reply({"notices": [ted_notice("700002-2026", "Station d'épuration", ["45252127"], "2026-12-20+01:00")],
                      "totalNoticeCount": 2, "iterationNextToken": None, "timedOut": False})

    http.routes["/v3/notices/search"] = search
    items = run(source(http, "ted", "/v3/notices/search", cpv=["42912300", "4525212*"], countries=["FR"], days=7))
    requests = http.requests_to("/v3/notices/search")
    assert [r.method for r in requests] == ["POST", "POST"]  # a second page because the first gave a token…
    first, second = (json.loads(r.body) for r in requests)
    assert first["query"] == ("(classification-cpv IN (42912300 4525212*)) AND buyer-country IN (FRA) AND "
                              "publication-date >= today(-7) SORT BY publication-date DESC")
    assert first["paginationMode"] == "ITERATION" and "classification-cpv" in first["fields"]
    assert second["iterationNextToken"] == "tok-2"  # …and no third one: the second said null
    assert [i.notice_id for i in items] == ["700001-2026", "700002-2026"]
    item = items[0]
    assert item.title == "Usine d'ultrafiltration" and item.lang == "fr"  # French chosen over English
    assert item.cpv == ["42912300"] and item.country == "FR" and item.buyer == "Eau de Paris"
    assert item.deadline_at == datetime(2026, 12, 1, 11, tzinfo=UTC)
    assert (item.value_amount, item.value_currency) == (1500000.0, "EUR")


# --- BOAMP (Opendatasoft) -----------------------------------------------------------------------------


def boamp_record(idweb: str, objet: str) -> dict:
    donnees = {"IDENTITE": {"DENOMINATION": "Toulouse Métropole"},
               "OBJET": {"TITRE_MARCHE": objet, "CPV": {"PRINCIPAL": "45252127"}},
               "CONDITION_DELAI": {"RECEPT_OFFRES": "2026-12-04T12:00:00+01:00"}}
    return {"idweb": idweb, "objet": objet, "nomacheteur": "Toulouse Métropole", "dateparution": "2026-11-10",
            "datelimitereponse": "2026-12-04T11:00:00+00:00", "nature": "APPEL_OFFRE",
            "procedure_libelle": "Procédure ouverte", "url_avis": f"https://www.boamp.fr/pages/avis/?q=idweb:{idweb}",
            "code_departement": ["31"], "donnees": json.dumps(donnees), "gestion": json.dumps({})}


def test_boamp_pages_by_offset_and_stops_at_total(http):
    def records(request: Request):
        offset = int(http.query(request)["offset"][0])
        page = [boamp_record("26-1001", "Extension de la station d'épuration"),
                boamp_record("26-1002", "Réseau d'eau potable")] if offset == 0 else \
            [boamp_record("26-1003", "Usine de production d'eau potable")]
        return reply({"total_count": 3, "results": page})

    http.routes["/api/explore/v2.1/catalog/datasets/boamp/records"] = records
    items = run(source(http, "boamp", "/api/explore/v2.1/catalog/datasets/boamp/records", limit=2,
                       keywords=["station d'épuration", "eau potable"], departments=["31", "34"], days=7))
    requests = http.requests_to("/api/explore/v2.1/catalog/datasets/boamp/records")
    assert [http.query(r)["offset"] for r in requests] == [["0"], ["2"]]  # stops: 2 + 2 >= total 3
    query = http.query(requests[0])
    assert query["limit"] == ["2"] and query["order_by"] == ["dateparution desc"]
    where = query["where"][0]
    assert 'search(objet, "station d\'épuration") OR search(objet, "eau potable")' in where
    assert '(code_departement = "31" OR code_departement = "34")' in where and "dateparution >= date'" in where
    assert [i.notice_id for i in items] == ["26-1001", "26-1002", "26-1003"]
    assert items[0].cpv == ["45252127"] and items[0].deadline_at == datetime(2026, 12, 4, 11, tzinfo=UTC)
    assert items[0].notice_type == "contract-notice" and items[0].country == "FR"


# --- World Bank ---------------------------------------------------------------------------------------


def test_worldbank_pages_with_os_and_rows(http):
    def notices(request: Request):
        offset = int(http.query(request)["os"][0])
        batch = [{"id": f"OP{offset + i:08d}", "notice_type": "Invitation for Bids", "noticedate": "09-Nov-2026",
                  "project_ctry_name": "Morocco", "bid_description": f"Wastewater treatment plant lot {offset + i}",
                  "submission_deadline_date": "2026-12-10T00:00:00Z", "submission_deadline_time": "10:00",
                  "procurement_method_name": "Request for Bids", "notice_lang_name": "French"}
                 for i in range(2 if offset == 0 else 1)]
        return reply({"rows": 2, "os": str(offset), "total": "3", "procnotices": batch})

    http.routes["/api/v2/procnotices"] = notices
    items = run(source(http, "worldbank", "/api/v2/procnotices", rows=2, qterm="wastewater"))
    requests = http.requests_to("/api/v2/procnotices")
    assert [http.query(r)["os"] for r in requests] == [["0"], ["2"]]
    query = http.query(requests[0])
    assert query["qterm"] == ["wastewater"] and query["format"] == ["json"] and query["srt"] == ["noticedate"]
    assert len(items) == 3 and items[0].country == "MA" and items[0].lang == "fr"
    assert items[0].deadline_at == datetime(2026, 12, 10, 9, tzinfo=UTC)  # 10:00 in Casablanca (UTC+1)
    assert items[0].notice_type == "contract-notice"


# --- PNCP ---------------------------------------------------------------------------------------------


def test_pncp_one_query_per_modality_with_pages(http):
    def proposals(request: Request):
        query = http.query(request)
        modality, page = query["codigoModalidadeContratacao"][0], int(query["pagina"][0])
        record = {"numeroControlePNCP": f"00000000000191-1-{modality}{page:04d}/2026",
                  "objetoCompra": "Contratação de estação de tratamento de esgoto" if page == 1 else "Compra de pneus",
                  "orgaoEntidade": {"cnpj": "00000000000191", "razaoSocial": "SABESP"}, "anoCompra": 2026,
                  "sequencialCompra": page, "unidadeOrgao": {"ufSigla": "SP", "municipioNome": "São Paulo"},
                  "dataPublicacaoPncp": "2026-11-10T09:00:00", "dataEncerramentoProposta": "2026-12-01T10:00:00",
                  "valorTotalEstimado": 1250000.0, "modalidadeNome": "Pregão - Eletrônico", "situacaoCompraId": 1}
        remaining = 1 if page == 1 else 0
        return reply({"data": [record], "totalRegistros": 2, "totalPaginas": 2, "numeroPagina": page,
                      "paginasRestantes": remaining, "empty": False})

    http.routes["/api/consulta/v1/contratacoes/proposta"] = proposals
    items = run(source(http, "pncp", "/api/consulta/v1/contratacoes/proposta", modalities=[6, 8],
                       keywords=["tratamento de esgoto"], page_size=10, uf="SP"))
    requests = http.requests_to("/api/consulta/v1/contratacoes/proposta")
    asked = [(http.query(r)["codigoModalidadeContratacao"][0], http.query(r)["pagina"][0]) for r in requests]
    assert asked == [("6", "1"), ("6", "2"), ("8", "1"), ("8", "2")]
    assert http.query(requests[0])["tamanhoPagina"] == ["10"] and http.query(requests[0])["uf"] == ["SP"]
    assert len(items) == 2  # the tyre purchases are filtered out by the keywords
    assert items[0].deadline_at == datetime(2026, 12, 1, 13, tzinfo=UTC)  # 10:00 São Paulo time
    assert items[0].url == "https://pncp.gov.br/app/editais/00000000000191/2026/1"
    assert (items[0].value_amount, items[0].value_currency, items[0].country) == (1250000.0, "BRL", "BR")


def test_pncp_page_size_is_validated():
    from veille.collect.connectors.pncp import PncpOptions

    with pytest.raises(ValueError, match="less than or equal to 50"):
        PncpOptions(page_size=500)


# --- Federal Register ---------------------------------------------------------------------------------


def test_federal_register_follows_next_page_url(http):
    doc = {"document_number": "2026-20001", "title": "PFAS National Primary Drinking Water Regulation",
           "type": "Proposed Rule", "publication_date": "2026-11-10", "comments_close_on": "2027-01-09",
           "html_url": "https://www.federalregister.gov/documents/2026/11/10/2026-20001/pfas",
           "agencies": [{"name": "Environmental Protection Agency", "slug": "environmental-protection-agency"}],
           "abstract": "EPA proposes maximum contaminant levels."}

    def documents(request: Request):
        if "page=2" in request.path:
            return reply({"count": 2, "total_pages": 50, "results": [doc | {"document_number": "2026-20002"}]})
        return reply({"count": 2, "total_pages": 50, "next_page_url": http.url("/api/v1/documents.json?page=2"),
                      "results": [doc]})

    http.routes["/api/v1/documents.json"] = documents
    items = run(source(http, "federal-register", "/api/v1/documents.json", kind="regulation", term="drinking water",
                       agencies=["environmental-protection-agency"], types=["RULE", "PRORULE"]))
    requests = http.requests_to("/api/v1/documents.json")
    assert len(requests) == 2  # total_pages says 50, but only next_page_url counts
    query = http.query(requests[0])
    assert query["conditions[term]"] == ["drinking water"]
    assert query["conditions[agencies][]"] == ["environmental-protection-agency"]
    assert query["conditions[type][]"] == ["RULE", "PRORULE"] and query["order"] == ["newest"]
    assert [i.notice_id for i in items] == ["2026-20001", "2026-20002"]
    # comments close on a day: kept as that day, open until its end in Washington (EST, UTC-5)
    assert items[0].deadline_at == datetime(2027, 1, 10, 4, 59, 59, tzinfo=UTC) and items[0].deadline_date_only
    assert items[0].deadline_kind == "comments"
    assert items[0].country == "US"
    assert items[0].kind == "regulation" and items[0].buyer == "Environmental Protection Agency"


# --- EU Funding & Tenders (SEDIA) ---------------------------------------------------------------------


def test_eu_funding_sends_json_parts_and_pages(http):
    def result(n: int) -> dict:
        return {"reference": f"HORIZON-CL6-2027-ZEROPOLLUTION-0{n}", "url": "", "summary": "",
                "metadata": {"identifier": [f"HORIZON-CL6-2027-ZEROPOLLUTION-0{n}"],
                             "title": [f"Innovative membranes for water reuse {n}"],
                             "callIdentifier": ["HORIZON-CL6-2027-ZEROPOLLUTION"], "status": ["31094501"],
                             "startDate": ["2026-11-05T00:00:00.000+0100"],
                             "deadlineDate": ["2027-02-18T17:00:00.000+0100"],
                             "description": ["<p>Pilots of <b>ultrafiltration</b> for reuse.</p>"]}}

    def search(request: Request):
        page = int(http.query(request)["pageNumber"][0])
        return reply({"apiVersion": "2.154", "pageNumber": page, "pageSize": 2, "totalResults": 3,
                      "results": [result(1), result(2)] if page == 1 else [result(3)]})

    http.routes["/search-api/prod/rest/search"] = search
    items = run(source(http, "eu-funding", "/search-api/prod/rest/search", kind="funding", page_size=2,
                       identifier_prefixes=["HORIZON-CL6-"]))
    requests = http.requests_to("/search-api/prod/rest/search")
    assert [http.query(r)["pageNumber"] for r in requests] == [["1"], ["2"]]
    assert http.query(requests[0])["apiKey"] == ["SEDIA"] and requests[0].method == "POST"
    raw = f"Content-Type: {requests[0].headers['content-type']}\r\n\r\n".encode() + requests[0].body
    form = email.message_from_bytes(raw, policy=policy.default)
    parts = {p.get_param("name", header="content-disposition"): p for p in form.iter_parts()}
    assert set(parts) == {"query", "sort", "languages"}
    assert all(p.get_content_type() == "application/json" for p in parts.values())  # else the API ignores them
    assert json.loads(parts["query"].get_content())["bool"]["must"][0] == {"terms": {"type": ["1", "2", "8"]}}
    assert len(items) == 3 and items[0].kind == "funding"
    assert items[0].deadline_at == datetime(2027, 2, 18, 16, tzinfo=UTC)
    assert items[0].summary.startswith("HORIZON-CL6-2027-ZEROPOLLUTION · Pilots of ultrafiltration")


def test_eu_funding_budget_from_the_json_inside_a_string():
    """A topic's budget is the sum of its own action's yearly budgets in `budgetOverview` (JSON in a string),
    read even when that JSON is cut short; another topic's action is not counted."""
    from veille.collect.connectors.eu_funding import result_item

    overview = json.dumps({"budgetTopicActionMap": {"1": [
        {"action": "LIFE-2027-SAP-ENV-WATER - LIFE-PJG LIFE Project Grants", "budgetYearMap": {"2027": "9000000",
                                                                                               "2028": 3000000}},
        {"action": "LIFE-2027-SAP-ENV-AIR - LIFE-PJG", "budgetYearMap": {"2027": "5000000"}}]}})
    result = {"reference": "1TOPICSen", "metadata": {
        "identifier": ["LIFE-2027-SAP-ENV-WATER"], "status": ["31094503"], "budgetOverview": [overview[:-20]],
        "deadlineDate": ["2027-09-23T00:00:00.000+0000"], "typesOfAction": ["LIFE  Project Grants"]}}
    source = Source(name="eu", kind="funding", type="eu-funding", url="https://x.example.org/")
    item = result_item(source, result, [])
    assert (item.value_amount, item.value_currency) == (12000000.0, "EUR")
    assert item.notice_type == "other" and item.buyer == "European Commission – LIFE Programme"  # closed
    assert item.procedure == "LIFE Project Grants" and item.deadline_date_only
    result["metadata"]["identifier"] = ["LIFE-2027-SAP-ENV-NATURE"]
    assert result_item(source, result, []).value_amount is None


# --- CanadaBuys, eForms, TED R2.0.9 (one file each) ---------------------------------------------------


def test_canadabuys_csv_with_bom_and_browser_agent(http):
    items = run(source(http, "canadabuys", "/opendata/pub/openTenderNotice-ouvertAvisAppelOffres.csv",
                       keywords=["water treatment", "eaux usées", "wastewater"], unspsc=["4710"]))
    [request] = http.requests_to("/opendata/pub/openTenderNotice-ouvertAvisAppelOffres.csv")
    assert request.headers["user-agent"] == canadabuys.BROWSER_AGENT and "veille" in request.headers["user-agent"]
    assert [i.notice_id for i in items] == ["cb-101-12345", "cb-103-24680"]  # the furniture row is left out
    first = items[0]
    assert first.title == "Remplacement des membranes de l'usine de traitement d'eau" and first.lang == "fr"
    assert first.deadline_at == datetime(2026, 12, 3, 19, tzinfo=UTC)  # 14:00 Eastern
    assert first.buyer == "Services publics et Approvisionnement Canada" and first.country == "CA"
    assert items[1].notice_type == "award"


def test_eforms_and_ted_xml_fetch_and_parse(http):
    [notice] = run(source(http, "eforms", "/api/eforms-cn-wastewater.xml"))
    assert notice.notice_id == "712345-2026" and notice.notice_type == "contract-notice"
    assert notice.title.startswith("Traitement tertiaire par ultrafiltration")
    assert notice.deadline_at == datetime(2026, 12, 15, 11, tzinfo=UTC)
    assert notice.cpv == ["45252127", "42912300"] and (notice.value_amount, notice.value_currency) == (4200000.0, "EUR")
    assert notice.buyer == "Toulouse Métropole" and notice.country == "FR" and notice.procedure == "open"
    [legacy] = run(source(http, "ted-xml", "/api/ted-r209-cn-water.xml"))
    assert legacy.notice_id == "123456-2022" and legacy.notice_type == "contract-notice"
    assert legacy.deadline_at == datetime(2022, 9, 12, 10, tzinfo=UTC)  # 12:00 Paris summer time
    assert legacy.cpv == ["42912300", "38421100"] and legacy.related == ["ted:123456-2022", "ted:45678-2022"]


# --- generic json and csv -----------------------------------------------------------------------------


def test_generic_json_follows_next_and_maps_fields(http):
    def api(request: Request):
        if "cursor=2" in request.path:
            return reply({"data": {"calls": [{"ref": "AAP-2", "name": "Appel à projets REUT",
                                              "dates": {"close": "15/01/2027"}}]}, "links": {"next": None}})
        return reply({"data": {"calls": [{"ref": "AAP-1", "name": "Appel à projets eau potable",
                                          "dates": {"close": "01/12/2026"}, "where": "France"}]},
                      "links": {"next": http.url("/calls.json?cursor=2")}})

    http.routes["/calls.json"] = api
    items = run(source(http, "json", "/calls.json", kind="funding", items="data.calls", next="links.next",
                       date_format="%d/%m/%Y", timezone="Europe/Paris",
                       url_template="https://aap.example.org/{id}",
                       fields={"id": "ref", "title": "name", "deadline": "dates.close", "country": "where"}))
    assert len(http.requests_to("/calls.json")) == 2
    assert [i.notice_id for i in items] == ["AAP-1", "AAP-2"]
    # a date_format without a time of day: the deadline is that day, until its end in the source's zone
    assert items[0].deadline_at == datetime(2026, 12, 1, 22, 59, 59, tzinfo=UTC) and items[0].deadline_date_only
    assert items[0].country == "FR"
    assert items[0].url == "https://aap.example.org/AAP-1"


def test_generic_csv_reports_missing_columns(http, tmp_path):
    from veille.collect import parse_payload
    from veille.errors import TerminalSourceError

    csv_source = Source(name="c", kind="tender", type="csv", url="https://x.example.org/a.csv",
                        options={"delimiter": ";", "fields": {"title": "objet", "id": "ref", "deadline": "limite",
                                                              "cpv": "cpv"}})
    items = parse_payload(csv_source, b"ref;objet;limite;cpv\n1;Station de pompage;2026-12-01T12:00:00+01:00;"
                                      b"45232423-5 45232423\n")
    assert items[0].cpv == ["45232423"] and items[0].deadline_at == datetime(2026, 12, 1, 11, tzinfo=UTC)
    with pytest.raises(TerminalSourceError, match="columns limite"):
        parse_payload(csv_source, b"ref;objet;cpv\n1;x;y\n")


def test_ted_items_completed_from_their_eforms_notice(http):
    """With `enrich`, the eForms XML of a search result fills what the search did not return."""
    notice = ted_notice("712345-2026", "Traitement tertiaire", ["45252127"], "2026-12-15+01:00")
    del notice["total-value"], notice["total-value-cur"]
    notice["links"]["xml"] = {"MUL": http.url("/api/eforms-cn-wastewater.xml")}
    http.routes["/v3/notices/search"] = lambda r: reply({"notices": [notice], "iterationNextToken": None})
    [item] = run(source(http, "ted", "/v3/notices/search", cpv=["45252127"], enrich=5))
    assert len(http.requests_to("/api/eforms-cn-wastewater.xml")) == 1
    assert item.title == "Traitement tertiaire"  # the search result's own fields stay
    assert (item.value_amount, item.value_currency, item.procedure) == (4200000.0, "EUR", "open")
    assert "procedure:5d1e2f3a-2222-4b4b-8c8c-000000000002" in item.related
    [plain] = run(source(http, "ted", "/v3/notices/search", cpv=["45252127"]))
    assert plain.value_amount is None and len(http.requests_to("/api/eforms-cn-wastewater.xml")) == 1
