"""Every real API payload of the shared corpus, parsed by its connector, with asserted field values."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.conftest import need_corpus
from veille.collect import parse_payload
from veille.models import Source


def parse(type_: str, path: str, kind: str = "tender", **options):
    corpus = need_corpus()
    source = Source(name=type_, kind=kind, type=type_, url="https://corpus.example.org/", options=options)
    return parse_payload(source, (corpus / path).read_bytes())


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_ted_api_v3():
    [notice] = parse("ted", "ted-api-v3/ted-v3-search-response-cn-standard-trimmed-1-of-822.json")
    assert notice.notice_id == "619320-2026" and notice.notice_type == "contract-notice"
    assert notice.title == "Pologne – Matériel informatique divers – ZK-DZP.262.37.2026 Dostawa sprzętu komputerowego"
    assert notice.buyer == "Politechnika Białostocka" and notice.country == "PL"
    # "2026-09-18+02:00": a day, open until 23:59:59 at that offset
    assert notice.deadline_at == utc(2026, 9, 18, 21, 59, 59) and notice.deadline_date_only
    assert notice.deadline_zone == "+02:00"
    assert notice.published_at == utc(2026, 9, 8, 22)
    assert notice.cpv == ["30236000", "30213000", "48820000", "30214000", "30213100", "30211100"]  # deduplicated
    assert notice.url == "https://ted.europa.eu/fr/notice/-/detail/619320-2026"
    # the other sample: alias fields (ND, PD as a timestamp), one notice repeated, a related notice
    [again] = parse("ted", "ted-api-v3/ted-v3-search-response-ND-PD-RN-fields-1.json")
    assert again.notice_id == "67623-2022" and again.published_at == utc(2022, 2, 6, 23)
    assert again.related == ["ted:67623-2022", "ted:349392-2021"] and again.buyer is None and again.cpv == []


EFORMS = {  # file: (notice id, type, country, buyer starts, deadline, first CPVs, value, currency)
    "eforms-published-subtype16-sdkv1.9-622691-2023.xml":
        ("622691-2023", "contract-notice", "DE", "KKH Kaufmännische", utc(2026, 12, 31, 22, 59), ["33600000"], None,
         None),
    "eforms-published-subtype16-sdkv1.6-158253-2023.xml":
        ("158253-2023", "contract-notice", "IT", "Centro Commune di Ricerca", utc(2023, 4, 26, 14),
         ["71333000", "45255400"], 1200000.0, "EUR"),
    "eforms-published-subtype17-sdkv1.6-550470-2023.xml":
        ("550470-2023", "contract-notice", "CH", "IWB Industrielle Werke", utc(2023, 10, 19, 8), ["50411100"], None,
         None),
    "eforms-published-subtype10-sdkv1.7-649921-2023.xml":
        # a prior information notice used as a call (pin-cfc-standard), open to expressions of interest
        ("649921-2023", "contract-notice", "NL", "politie", utc(2023, 12, 1, 17), ["85121100"], 80000000.0, "EUR"),
    "eforms-published-subtype24-sdkv1.7-660556-2023.xml":
        ("660556-2023", "contract-notice", "FI", "Väylävirasto", utc(2023, 11, 30, 11), ["71320000"], None, None),
    "eforms-sdk-can_24_maximal.xml":
        ("15377ca1-6cf7-4060-90f0-9290128957a3", "award", "LU", "Financial Adinistration", None, ["79710000"],
         9999999.99, "EUR"),
    "eforms-sdk-change-cn_24_open_dates.xml":
        ("71397268-6c47-4f2f-8ab0-f41a26138f81", "modification", "GB", "Renfrewshire Council", utc(2020, 6, 12, 11),
         ["71630000"], 500000.0, "EUR"),
    "eforms-sdk-cn_25.xml":
        # negotiated with a call: requests to participate are due first
        ("39d68def-a6aa-4e85-aa8d-97f0600ea41e", "contract-notice", "GB", "Scottish Water", utc(2020, 5, 27, 10),
         ["50000000"],
         1500000.0, "EUR"),
    "eforms-sdk-pin-only_81_FRA.xml":
        ("3f60af90-c612-40bd-9943-866fe3ae21b4", "prior-information", "FR", "Marine/DCSSF/DSSF Toulon", None,
         ["35520000"], None, None),
}


@pytest.mark.parametrize("name", sorted(EFORMS))
def test_eforms(name):
    number, kind, country, buyer, deadline, cpv, value, currency = EFORMS[name]
    [notice] = parse("eforms", f"ted-eforms/{name}")
    assert notice.notice_id == number and notice.notice_type == kind and notice.country == country
    assert notice.buyer.startswith(buyer) and notice.deadline_at == deadline
    assert notice.cpv[:len(cpv)] == cpv and (notice.value_amount, notice.value_currency) == (value, currency)
    assert notice.title and not notice.title.startswith("eForms notice")


def test_every_eforms_file_parses():
    corpus = need_corpus()
    files = sorted((corpus / "ted-eforms").glob("*.xml"))
    assert len(files) >= 20
    for path in files:
        [notice] = parse("eforms", f"ted-eforms/{path.name}")
        assert notice.title and notice.notice_type in ("prior-information", "contract-notice", "award",
                                                       "modification"), path.name
        assert notice.cpv and all(len(c) == 8 for c in notice.cpv), path.name


def test_eforms_multilingual_picks_french():
    [notice] = parse("eforms", "ted-eforms/eforms-sdk-cn_24_multilingual.xml")
    assert notice.lang == "fr" and notice.title.startswith("Fourniture de services informatiques")
    corpus = need_corpus()
    source = Source(name="e", kind="tender", type="eforms", url="https://x.example.org/", lang="en")
    [english] = parse_payload(source, (corpus / "ted-eforms/eforms-sdk-cn_24_multilingual.xml").read_bytes())
    assert english.lang == "en"


TED_XML = {
    "ted-r209-F02-UK-water-efficiency-20-382921-001-EXP.xml":
        ("373612-2020", "contract-notice", "GB", "Countess of Chester Hospital NHS Foundation Trust",
         utc(2020, 9, 3, 13), ["65100000", "38421100"], 20000000.0, "GBP",
         "Water Efficiency Goods and Services Dynamic Purchasing System Agreement"),
    "ted-r209-F02-HU-sewage-20-156049-001-EXP.xml":
        ("152048-2020", "contract-notice", "HU",
         "NFP Nemzeti Fejlesztési Programiroda Nonprofit Korlátolt Felelősségű Társaság", utc(2020, 5, 18, 11),
         ["45200000", "39350000", "45231300", "45232400"], None, None, None),
    "ted-r209-F03-SK-sewage-pipes-21-364180-001-EXP.xml":
        ("352732-2021", "award", "SK", "Obec Lemešany", None, ["45232440"], 6738400.0, "EUR",
         "ČOV a kanalizácia obce Lemešany"),
    "ted-r209-F06-FR-18-412273-001-EXP.xml":
        ("404080-2018", "award", "FR", "CAPL", None, ["45234116", "45233200", "44113320", "45232410"],
         5530658.98, "EUR", None),
}


@pytest.mark.parametrize("name", sorted(TED_XML))
def test_ted_xml_r209(name):
    number, kind, country, buyer, deadline, cpv, value, currency, title = TED_XML[name]
    [notice] = parse("ted-xml", f"ted-xml-r209/{name}")
    assert (notice.notice_id, notice.notice_type, notice.country, notice.buyer) == (number, kind, country, buyer)
    assert notice.deadline_at == deadline and notice.cpv[:len(cpv)] == cpv
    assert (notice.value_amount, notice.value_currency) == (value, currency)
    if title:
        assert notice.title == title


def test_ted_xml_links_award_to_its_contract_notice():
    [award] = parse("ted-xml", "ted-xml-r209/ted-r209-F03-SK-sewage-pipes-21-364180-001-EXP.xml")
    assert award.related == ["ted:352732-2021", "ted:616032-2020"]


def test_boamp_opendatasoft_record():
    [notice] = parse("boamp", "boamp/boamp-ods-v2.1-records-select-all-trimmed-1-of-5.json")
    assert notice.notice_id == "15-31501" and notice.notice_type == "contract-notice"
    assert notice.title.startswith("concession d'aménagement pour la réalisation de la ZAC de Château-Gaillard")
    assert notice.buyer == "Cté Cnes Moyenne Vilaine et Semnon" and notice.country == "FR"
    assert notice.deadline_at == utc(2015, 4, 20, 11)  # "2015-04-20T11:00:00+00:00" (12:00+01:00 in donnees)
    assert notice.cpv == ["45111291", "71000000", "70122100", "70122200"]  # from the JSON string `donnees`
    assert notice.url == "https://www.boamp.fr/pages/avis/?q=idweb:15-31501"


def test_boamp_dila_xml_notices():
    [call] = parse("boamp", "boamp/boamp-dila-xml-Boamp_v230-appel-offre-16-186394.xml")
    assert (call.notice_id, call.notice_type, call.buyer) == ("16-186394", "contract-notice", "Ville de Paris")
    assert call.deadline_at == utc(2017, 2, 7, 11) and call.cpv == ["50118110"] and call.procedure == "ouvert"
    [award] = parse("boamp", "boamp/boamp-dila-xml-Boamp_v230-attribution-test-attribution-2.xml")
    assert award.notice_type == "award" and (award.value_amount, award.value_currency) == (38820.0, "EUR")
    assert award.related == ["boamp:16-138580", "boamp:16-119846"]  # itself, then its earlier call for tenders


def test_worldbank_notices():
    notices = parse("worldbank", "worldbank-procnotices/wb-procnotices-list-only-page1.json")
    assert len(notices) == 5
    by_id = {n.notice_id: n for n in notices}
    award = by_id["OP00458210"]
    assert award.notice_type == "award" and award.country == "TR"  # "Turkiye"
    assert award.title == "SOFTWARE UPGRADE AND MAINTENANCE SERVICE PROCUREMENT"
    assert award.published_at == utc(2026, 7, 22) and award.deadline_at is None
    brazil = by_id["OP00458255"]
    assert brazil.country == "BR" and brazil.lang == "pt" and brazil.notice_type == "contract-notice"
    assert brazil.deadline_at == utc(2026, 8, 6, 19)  # 16:00 in Brazil
    assert brazil.buyer == "Secretariat for Environment and Water Resources of the State of Espírito Santo"
    assert by_id["OP00458234"].country == "RW"  # a regional project: the contact's country
    assert by_id["OP00458230"].country is None  # a region and no contact country


def test_pncp_open_proposals_and_items():
    purchases = parse("pncp", "pncp/pncp-consulta-v1-contratacoes-proposta-page1.json")
    assert len(purchases) == 3
    first = purchases[0]
    assert first.notice_id == "01572597000101-1-000158/2026" and first.buyer == "MUNICIPIO DE TRABIJU"
    assert first.deadline_at == utc(2026, 8, 14, 2, 59)  # "2026-08-13T23:59:00", São Paulo time
    assert (first.value_amount, first.value_currency, first.country) == (93241.5, "BRL", "BR")
    assert first.url == "https://pncp.gov.br/app/editais/01572597000101/2026/158"
    lines = parse("pncp", "pncp/pncp-api-compras-itens.json")
    assert lines[0].title == "ALFACE CRESPA/LISA/MIMOSA/AMERICANA" and lines[0].value_amount == 6212.5
    assert parse("pncp", "pncp/pncp-consulta-v1-contratacoes-proposta-page1.json", keywords=["esgoto"]) == []


def test_federal_register_search_and_detail():
    docs = parse("federal-register", "federal-register/fr-documents-search-term-clean-water-page1.json",
                 kind="regulation")
    assert docs and all(d.country == "US" and d.url.startswith("https://www.federalregister.gov/") for d in docs)
    [detail] = parse("federal-register", "federal-register/fr-document-detail-2024-31396.json", kind="regulation")
    assert detail.notice_id == "2024-31396" and detail.buyer == "Environmental Protection Agency"
    assert detail.title.startswith("Air Plan Revisions; California") and detail.procedure == "Rule"
    newest = parse("federal-register", "federal-register/fr-documents-search-newest-page1.json", kind="regulation")
    assert newest[0].notice_id == "2024-31440" and newest[0].published_at == utc(2024, 12, 31, 5)


def test_grants_gov_through_the_generic_json_connector():
    grants = parse("json", "other/grantsgov-search2-response-community.json", kind="funding", items="data.oppHits",
                   date_format="%m/%d/%Y", fields={"id": "number", "title": "title", "buyer": "agency",
                                                   "date": "openDate", "deadline": "closeDate"})
    assert grants[0].notice_id == "AFPRA-20-04" and grants[0].published_at == utc(2020, 3, 19)
    assert grants[0].title == "U.S. Embassy Praia Ambassador’s Special Self-Help (SSH) Program"  # entity decoded
    corpus = need_corpus()
    data = json.loads((corpus / "other/grantsgov-search2-response-community.json").read_text())
    assert len(grants) == len(data["data"]["oppHits"])


def test_canadabuys_open_data_csv():
    """The real CSV (every field quoted, CRLF records, quoted line breaks, `*item` lists) gives every row, each
    with its title, notice page, buyer, Eastern-time deadline, publication day and cleaned lists."""
    notices = parse("canadabuys", "canadabuys/newTenderNotice.nirek13-New.csv")
    assert len(notices) == 20 and len({n.notice_id for n in notices}) == 20
    for notice in notices:
        assert notice.title and notice.buyer and notice.procedure and notice.country == "CA"
        assert notice.url.startswith("https://canadabuys.canada.ca/fr/") and notice.lang == "fr"
        assert notice.deadline_at and not notice.deadline_date_only and notice.published_at == utc(2024, 12, 9, 5)
        assert "*" not in notice.summary  # `*item` lists are read as lists
    by_id = {n.notice_id: n for n in notices}
    storage = by_id["cb-303-96479125"]
    assert storage.title == "Stockage et manutention hors site du matériel informatique"
    assert storage.buyer == "La Commission de l’immigration et du statut de réfugié du Canada"
    assert storage.deadline_at == utc(2025, 1, 6, 19)  # "2025-01-06T14:00:00", Eastern time
    assert storage.summary.startswith("Région de la capitale nationale (RCN), Canada · Stockage et entreposage")
    assert storage.notice_type == "contract-notice" and storage.related == ["canadabuys:20241610-IRB"]
    acan = by_id["cb-690-63595508"]
    assert acan.notice_type == "award" and acan.updated_at == utc(2024, 12, 9, 5)  # amended the day it was listed
    selected = parse("canadabuys", "canadabuys/newTenderNotice.nirek13-New.csv", unspsc=["7215"])
    assert [n.notice_id for n in selected] == ["cb-911-57282544"]  # the last of its four `*item` UNSPSC codes


def test_eu_funding_search_responses():
    """Real SEDIA responses: array-of-strings metadata, status codes, cascade calls sharing a topic identifier,
    several cut-off dates, and JSON inside strings cut short."""
    topics = parse("eu-funding", "eu-funding/sedia_search.tacowars-fundhunt.json", kind="funding")
    assert [t.notice_id for t in topics] == ["HORIZON-CL5-2026-09-D4-03", "HORIZON-CL5-2026-09-D4-08",
                                             "HORIZON-JU-CBE-2026-IAFlag-02", "HORIZON-JU-CBE-2026-IA-05"]
    first = topics[0]
    assert first.title.startswith("Advanced data platforms to integrate whole life carbon")
    assert first.url.endswith("/topic-details/HORIZON-CL5-2026-09-D4-03")
    assert first.notice_type == "contract-notice"  # status 31094502: open for submission
    assert first.buyer == "European Commission – Horizon Europe"  # not the programme's code 43108390
    # 00:00 UTC: a day, open until its end in Brussels (CEST)
    assert first.deadline_at == utc(2026, 9, 15, 21, 59, 59) and first.deadline_date_only
    assert first.deadline_kind == "application"
    assert first.published_at == utc(2026, 5, 5) and first.procedure == "HORIZON Innovation Actions"
    assert first.summary == "HORIZON-CL5-2026-09 · BATTERIES and ENERGY"
    assert topics[2].summary == "HORIZON-JU-CBE-2026"  # the call's title repeats its identifier

    calls = parse("eu-funding", "eu-funding/sedia_cascade.tacowars-fundhunt.json", kind="funding")
    assert len({c.id for c in calls}) == 4  # two calls of one project: distinct items
    metu = calls[0]
    assert metu.notice_id == "11143COMPETITIVE_CALLen" and metu.title == "METU Internships Offer"
    assert metu.buyer == "Sustainable Healthcare with Digital Health Data Competence (SUSA)"
    assert (metu.value_amount, metu.value_currency) == (30500.0, "EUR")
    assert metu.related == ["eu-funding:DIGITAL-2023-SKILLS-05-SPECIALEDU"]
    assert metu.summary.startswith("DIGITAL-2023-SKILLS-05-SPECIALEDU · Specialised education programmes")
    assert "Within the framework of the SUSA project" in metu.summary  # the HTML description, as text
    cut_offs = ["2025-09-02T03:59", "2026-01-03T07:59", "2026-09-02T03:59", "2027-01-03T07:59", "2027-09-02T03:59",
                "2028-01-03T07:59", "2028-09-02T03:59"]
    dates = [datetime.fromisoformat(c).replace(tzinfo=UTC) for c in cut_offs]
    assert metu.deadline_at == dates[0]  # read as of the call's opening: the same on any day it is read
    from veille.collect.connectors.eu_funding import _deadline

    result = json.loads(need_corpus().joinpath("eu-funding/sedia_cascade.tacowars-fundhunt.json").read_bytes())
    first = result["results"][0]
    for now, expected in ((utc(2026, 2, 1), dates[2]), (utc(2027, 9, 2, 4), dates[5]), (utc(2030, 1, 1), dates[-1])):
        assert _deadline(first, now)["deadline_at"] == expected, now  # with a clock: the next cut-off, else the last

    portal = parse("eu-funding", "eu-funding/portal_search_page.AarhusAI.first2results.json", kind="funding")
    soil, arts = portal
    assert soil.notice_id == "HORIZON-MISS-2027-05-SOIL-01-two-stage" and soil.notice_type == "prior-information"
    assert soil.deadline_at == utc(2027, 4, 8, 21, 59, 59) and soil.lang == "en"  # the first of its two stages
    assert "Expected Outcome" in soil.summary  # from `descriptionByte`
    assert soil.value_amount is None  # its budgetOverview is cut before this topic's action: no guess
    assert arts.url == ("https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/"
                        "topic-details/HORIZON-CL2-2024-TRANSFORMATIONS-01-08")  # the page, not its JSON data
