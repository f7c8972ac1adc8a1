"""Tender fields to the last one on real notices of the shared corpus (eForms, TED R2.0.9): result values and
their kind, ranges and lots summed, participation deadlines, notice types, refusals, day-only deadlines, links
across formats, topics through CPV in languages the word rules do not cover.

Some cases take a real notice and change one element with lxml (a total removed, a time removed, a form
renamed), so that the rule, not the sample, is what is checked."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import need_corpus
from veille.collect import parse_payload
from veille.config import load_topics
from veille.errors import TerminalSourceError
from veille.models import Item, Source
from veille.tag import Tagger

EXT = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
EFORMS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "efac": "http://data.europa.eu/p27/eforms-ubl-extension-aggregate-components/1",
    "efbc": "http://data.europa.eu/p27/eforms-ubl-extension-basic-components/1",
}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def notice(type_: str, path: str, change: Callable[[etree._Element], None] | None = None) -> Item:
    """The item of one corpus notice, after `change` edits its XML tree."""
    content = (need_corpus() / path).read_bytes()
    if change is not None:
        root = etree.fromstring(content)
        change(root)
        content = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    source = Source(name=type_, kind="tender", type=type_, url="https://corpus.example.org/")
    [item] = parse_payload(source, content)
    return item


def drop(root: etree._Element, xpath: str, namespaces: dict[str, str] | None = None) -> None:
    found = root.xpath(xpath, namespaces=namespaces or EFORMS)
    assert found, f"nothing to drop at {xpath}"
    for node in found:
        node.getparent().remove(node)


def local(tag: str) -> str:
    return f"*[local-name()='{tag}']"


# -- eForms: the notice result's value, and which kind it is --------------------------------------------------

def test_an_award_notice_gives_its_total_as_awarded():
    can = notice("eforms", "ted-eforms/eforms-sdk-can_24_FRA_comments.xml")
    assert (can.value_amount, can.value_currency, can.value_kind) == (390697.84, "EUR", "awarded")
    assert notice("eforms", "ted-eforms/eforms-sdk-can_81_FRA.xml").value_amount == 375950.0
    veat = notice("eforms", "ted-eforms/eforms-sdk-veat_24.xml")
    assert (veat.notice_type, veat.value_amount, veat.value_kind) == ("award", 350000.0, "awarded")


def test_without_a_total_the_retained_tenders_of_the_lots_are_summed():
    can = notice("eforms", "ted-eforms/eforms-sdk-can_24_FRA_comments.xml",
                 lambda root: drop(root, "//efac:NoticeResult/cbc:TotalAmount"))
    assert (can.value_amount, can.value_kind) == (95414 + 26500, "awarded")  # TEN-0001 + TEN-0002


def test_without_tender_values_the_range_of_tenders_received_is_kept():
    def change(root):
        drop(root, "//efac:NoticeResult/cbc:TotalAmount")
        drop(root, "//efac:NoticeResult/efac:LotTender/cac:LegalMonetaryTotal")
    can = notice("eforms", "ted-eforms/eforms-sdk-can_24_FRA_comments.xml", change)
    assert can.value_amount is None and can.value_kind == "received" and can.value_currency == "EUR"
    assert can.value_min == pytest.approx(59299.64 + 14802.46) and can.value_max == 95414 + 26500


def test_a_call_gives_its_estimate():
    call = notice("eforms", "ted-eforms/eforms-sdk-cn_24_open.xml")
    assert (call.value_amount, call.value_kind) == (500000.0, "estimated")
    assert notice("eforms", "ted-eforms/eforms-sdk-cn_24_minimal.xml").value_kind is None  # none given


# -- eForms: deadlines for requests to participate -------------------------------------------------------------

@pytest.mark.parametrize(("path", "at"), [
    ("ted-eforms/eforms-sdk-cn_81.xml", utc(2020, 5, 7, 22, 55)),
    ("ted-eforms/eforms-sdk-cn_25.xml", utc(2020, 5, 27, 10)),
    ("ted-eforms/eforms-published-subtype23-sdkv1.3-634805-2022.xml", utc(2020, 6, 5, 11)),
    ("ted-eforms/eforms-published-subtype18-sdkv1.5-731596-2023.xml", utc(2024, 1, 3, 9)),
])
def test_a_two_stage_procedure_has_its_participation_deadline(path, at):
    item = notice("eforms", path)
    assert (item.deadline_at, item.deadline_kind) == (at, "participation")


def test_both_deadlines_are_kept_and_the_first_is_the_one_to_meet():
    def add_tender_period(root):
        for process in root.xpath("cac:ProcurementProjectLot/cac:TenderingProcess", namespaces=EFORMS):
            period = etree.SubElement(process, f"{{{EFORMS['cac']}}}TenderSubmissionDeadlinePeriod")
            etree.SubElement(period, f"{{{EFORMS['cbc']}}}EndDate").text = "2020-06-30+02:00"
            etree.SubElement(period, f"{{{EFORMS['cbc']}}}EndTime").text = "12:00:00+02:00"
    item = notice("eforms", "ted-eforms/eforms-sdk-cn_81.xml", add_tender_period)
    assert [(d.kind, d.at) for d in item.deadlines] == [("participation", utc(2020, 5, 7, 22, 55)),
                                                       ("tender", utc(2020, 6, 30, 10))]
    assert (item.deadline_at, item.deadline_kind) == (utc(2020, 5, 7, 22, 55), "participation")
    assert item.to_json()["deadlines"][1] == {"kind": "tender", "at": "2020-06-30T10:00:00+00:00",
                                              "date_only": False, "zone": None}


def test_a_pin_used_as_a_call_is_a_call_with_its_interest_deadline():
    item = notice("eforms", "ted-eforms/eforms-published-subtype10-sdkv1.7-649921-2023.xml")
    assert item.notice_type == "contract-notice"  # pin-cfc-standard
    assert (item.deadline_at, item.deadline_kind) == (utc(2023, 12, 1, 17), "interest")
    assert notice("eforms", "ted-eforms/eforms-sdk-pin-only_24.xml").notice_type == "prior-information"


# -- eForms: notice types by code and list; invalid notices refused ---------------------------------------------

def _retype(list_name: str, code: str) -> Callable[[etree._Element], None]:
    def change(root):
        [node] = root.xpath("cbc:NoticeTypeCode", namespaces=EFORMS)
        node.set("listName", list_name)
        node.text = code
    return change


@pytest.mark.parametrize(("list_name", "code", "kind"), [
    ("cont-modif", "can-modif", "modification"),  # a contract modified during its term, not an award
    ("result", "can-social", "award"),
    ("competition", "pin-cfc-social", "contract-notice"),
    ("competition", "qu-sy", "contract-notice"),
    ("planning", "pin-rtl", "prior-information"),
    ("dir-awa-pre", "veat", "award"),
])
def test_notice_types_come_from_the_code_and_its_list(list_name, code, kind):
    item = notice("eforms", "ted-eforms/eforms-sdk-can_24_FRA_comments.xml", _retype(list_name, code))
    assert item.notice_type == kind


def test_a_modification_notice_carries_its_result_value():
    item = notice("eforms", "ted-eforms/eforms-sdk-can_24_FRA_comments.xml", _retype("cont-modif", "can-modif"))
    assert (item.notice_type, item.value_amount, item.value_kind) == ("modification", 390697.84, "awarded")


@pytest.mark.parametrize(("change", "message"), [
    (lambda root: drop(root, "cac:ProcurementProject | cac:ProcurementProjectLot"), "no procurement project"),
    (lambda root: drop(root, "cbc:ID | .//efac:Publication"), "no notice identifier"),
])
def test_an_invalid_notice_is_refused_with_a_message(change, message):
    with pytest.raises(TerminalSourceError, match=message):
        notice("eforms", "ted-eforms/eforms-sdk-cn_24_minimal.xml", change)


def test_a_document_that_is_no_notice_is_refused():
    source = Source(name="eforms", kind="tender", type="eforms", url="https://corpus.example.org/")
    with pytest.raises(TerminalSourceError, match="root element is Invoice"):
        parse_payload(source, b"<Invoice xmlns='urn:x'><ID>1</ID></Invoice>")


# -- TED R2.0.9 --------------------------------------------------------------------------------------------------

def _as_form(form: str, notice_type: str | None) -> Callable[[etree._Element], None]:
    """Rename the F02 form to `form`, with a NOTICE TYPE element when given."""
    def change(root):
        [f02] = root.xpath(f"//{local('FORM_SECTION')}/{local('F02_2014')}")
        f02.tag = f02.tag.replace("F02_2014", f"{form}_2014")
        f02.set("FORM", form)
        if notice_type:
            element = etree.Element(f02.tag.replace(f"{form}_2014", "NOTICE"), TYPE=notice_type)
            f02.insert(1, element)
    return change


@pytest.mark.parametrize(("notice_type", "kind"), [
    ("AWARD_CONTRACT", "award"), ("CONTRACT", "contract-notice"), ("PRI", "prior-information"),
])
def test_form_f21_is_read_by_its_notice_type(notice_type, kind):
    item = notice("ted-xml", "ted-xml-r209/ted-r209-F02-HU-sewage-20-156049-001-EXP.xml",
                  _as_form("F21", notice_type))
    assert item.notice_type == kind


def test_form_f21_without_notice_type_follows_its_document_type():
    def change(root):
        _as_form("F21", None)(root)
        [document] = root.xpath(f"//{local('TD_DOCUMENT_TYPE')}")
        document.set("CODE", "7")
        document.text = "Contract award notice"
    item = notice("ted-xml", "ted-xml-r209/ted-r209-F02-HU-sewage-20-156049-001-EXP.xml", change)
    assert item.notice_type == "award"


def test_a_pin_form_used_as_a_call_is_a_call():
    item = notice("ted-xml", "ted-xml-r209/ted-r209-F02-HU-sewage-20-156049-001-EXP.xml",
                  _as_form("F01", "PRI_CALL_COMPETITION"))
    assert item.notice_type == "contract-notice"


def test_a_value_given_as_a_range_is_kept():
    def change(root):
        [total] = root.xpath(f"//{local('OBJECT_CONTRACT')}/{local('VAL_TOTAL')}")
        total.tag = total.tag.replace("VAL_TOTAL", "VAL_RANGE_TOTAL")
        total.text = None
        total.set("CURRENCY", "EUR")
        etree.SubElement(total, total.tag.replace("VAL_RANGE_TOTAL", "LOW")).text = "6680000.00"
        etree.SubElement(total, total.tag.replace("VAL_RANGE_TOTAL", "HIGH")).text = "7100000.00"
    item = notice("ted-xml", "ted-xml-r209/ted-r209-F03-SK-sewage-pipes-21-364180-001-EXP.xml", change)
    assert (item.value_amount, item.value_min, item.value_max) == (None, 6680000.0, 7100000.0)
    assert (item.value_currency, item.value_kind) == ("EUR", "received")  # lowest and highest offers (II.1.7)


def test_values_given_only_per_lot_are_summed():
    """F06 with its total removed: the three awarded lots (lots 4 and 5 were not awarded) add up to it."""
    whole = notice("ted-xml", "ted-xml-r209/ted-r209-F06-FR-18-412273-001-EXP.xml")
    lots = notice("ted-xml", "ted-xml-r209/ted-r209-F06-FR-18-412273-001-EXP.xml",
                  lambda root: drop(root, f"//{local('OBJECT_CONTRACT')}/{local('VAL_TOTAL')}"))
    assert whole.value_amount == 5530658.98 and whole.value_kind == "awarded"
    assert lots.value_amount == pytest.approx(4625137.40 + 535873.21 + 369648.37) == pytest.approx(5530658.98)


def test_a_day_without_a_time_ends_in_the_buyers_zone():
    """The UK notice without its TIME_RECEIPT_TENDERS: 3 Sept 2020 until 23:59:59 in London (BST), not 00:00."""
    item = notice("ted-xml", "ted-xml-r209/ted-r209-F02-UK-water-efficiency-20-382921-001-EXP.xml",
                  lambda root: drop(root, f"//{local('TIME_RECEIPT_TENDERS')}"))
    assert (item.deadline_at, item.deadline_date_only, item.deadline_zone) == (
        utc(2020, 9, 3, 22, 59, 59), True, "Europe/London")
    assert item.deadline_kind == "participation"  # a restricted procedure: IV.2.2 is for requests to participate
    hungary = notice("ted-xml", "ted-xml-r209/ted-r209-F02-HU-sewage-20-156049-001-EXP.xml",
                     lambda root: drop(root, f"//{local('TIME_RECEIPT_TENDERS')}"))
    assert hungary.deadline_at == utc(2020, 5, 18, 21, 59, 59) and hungary.deadline_kind == "tender"  # CEST


def test_one_tenders_notices_meet_whatever_format_they_come_in():
    """A zero-padded R2.0.9 DOC_ID, an eForms publication number and the TED API's give one identifier."""
    def pad(root):
        root.set("DOC_ID", "091489-2019")
    r209 = notice("ted-xml", "ted-xml-r209/ted-r209-F02-HU-sewage-20-156049-001-EXP.xml", pad)

    def number(root):
        [publication] = root.xpath(".//efac:Publication/efbc:NoticePublicationID", namespaces=EFORMS)
        publication.text = "00091489-2019"
    eforms = notice("eforms", "ted-eforms/eforms-published-subtype16-sdkv1.9-622691-2023.xml", number)
    body = json.dumps({"notices": [{"publication-number": "91489-2019", "notice-type": "cn-standard",
                                    "notice-title": {"eng": "Sewage works"}}], "iterationNextToken": None})
    [api] = parse_payload(Source(name="ted", kind="tender", type="ted", url="https://corpus.example.org/"),
                          body.encode())
    assert r209.notice_id == eforms.notice_id == api.notice_id == "91489-2019"
    assert "ted:91489-2019" in r209.related and "ted:91489-2019" in eforms.related
    assert "ted:91489-2019" in api.related


# -- topics through CPV in languages the word rules do not cover --------------------------------------------------

@pytest.fixture(scope="module")
def tagger() -> Tagger:
    topics, problems = load_topics(Path("no-config-folder"))
    assert not problems
    return Tagger.build(topics, [])


@pytest.mark.parametrize(("path", "lang", "topic"), [
    ("ted-xml-r209/ted-r209-F02-HU-sewage-20-156049-001-EXP.xml", "hu", "wastewater"),
    ("ted-xml-r209/ted-r209-F03-SK-sewage-pipes-21-364180-001-EXP.xml", "sk", "wastewater"),
])
def test_real_notices_in_uncovered_languages_get_topics_through_cpv(tagger, path, lang, topic):
    item = tagger.tag(notice("ted-xml", path))
    assert item.lang == lang and topic in item.topics
    assert any(e.startswith("CPV ") for e in item.topics[topic].evidence)


@pytest.mark.parametrize(("lang", "title", "cpv", "topic"), [
    ("pl", "Rozbudowa oczyszczalni ścieków w Gminie", ["45252127"], "wastewater"),
    ("cs", "Intenzifikace čistírny odpadních vod", ["45252127"], "wastewater"),
    ("it", "Fornitura di contatori idrici", ["38421100"], "networks"),
    ("de", "Lieferung von Wasserzählern", ["38421100"], "networks"),
    ("nl", "Levering van watermeters", ["38421100"], "networks"),
    ("fi", "Vesijohtoverkoston saneeraus", ["45231300"], "networks"),
    ("hu", "Ivóvízhálózat rekonstrukciója", ["65100000"], "drinking_water"),
    ("sk", "Rekonštrukcia vodovodu", ["45231300"], "networks"),
])
def test_any_language_gets_its_topics_through_cpv_and_its_core_words(tagger, lang, title, cpv, topic):
    item = tagger.tag(Item(id="x", source="ted", kind="tender", title=title, lang=lang, cpv=cpv))
    assert topic in item.topics and any(e.startswith("CPV ") for e in item.topics[topic].evidence)
    # the language's core vocabulary (wastewater, drinking water, networks, meters…) reads the words alone
    assert lang in tagger.taxonomy.languages
    assert topic in tagger.tag(Item(id="y", source="ted", kind="tender", title=title, lang=lang)).topics


def test_the_ted_api_reads_notice_types_and_values_as_eforms_does():
    notices = [{"publication-number": "1-2026", "notice-type": "can-modif", "notice-title": {"eng": "A"},
                "total-value": 1200000, "total-value-cur": "EUR"},
               {"publication-number": "2-2026", "notice-type": ["pin-cfc-standard"], "notice-title": {"eng": "B"},
                "estimated-value-proc": "45000", "estimated-value-cur-proc": ["EUR"]}]
    body = json.dumps({"notices": notices, "iterationNextToken": None}).encode()
    modified, call = parse_payload(Source(name="ted", kind="tender", type="ted", url="https://corpus.example.org/"),
                                   body)
    assert (modified.notice_type, modified.value_amount, modified.value_kind) == ("modification", 1200000.0,
                                                                                  "awarded")
    assert (call.notice_type, call.value_amount, call.value_kind) == ("contract-notice", 45000.0, "estimated")


def test_a_contract_modification_links_the_notice_it_modifies():
    """eForms subtypes 38–40 name the modified notice (efbc:ChangedNoticeIdentifier): the two meet as one tender."""
    def modify(root):
        _retype("cont-modif", "can-modif")(root)
        [extension] = root.xpath("ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent/*",
                                 namespaces={**EFORMS, "ext": EXT})
        modification = etree.SubElement(extension, f"{{{EFORMS['efac']}}}ContractModification")
        etree.SubElement(modification, f"{{{EFORMS['efbc']}}}ChangedNoticeIdentifier").text = "342558-2018"
    item = notice("eforms", "ted-eforms/eforms-sdk-can_24_FRA_comments.xml", modify)
    assert item.notice_type == "modification" and "ted:342558-2018" in item.related


def test_without_lot_results_the_settled_contracts_tenders_are_summed():
    """A contract modification lists its contract and the contract's tender, with no lot result."""
    def change(root):
        drop(root, "//efac:NoticeResult/cbc:TotalAmount")
        drop(root, "//efac:NoticeResult/efac:LotResult")
        _retype("cont-modif", "can-modif")(root)
    item = notice("eforms", "ted-eforms/eforms-sdk-can_24_FRA_comments.xml", change)
    assert (item.notice_type, item.value_amount, item.value_kind) == ("modification", 95414 + 26500, "awarded")


def test_a_pre_market_consultation_is_prior_information_with_its_answers_deadline():
    """E1 (listName consultation, pmc): the answers' period is the deadline to meet."""
    def consultation(root):
        _retype("consultation", "pmc")(root)
        [period] = root.xpath("//efac:InterestExpressionReceptionPeriod", namespaces=EFORMS)
        period.tag = f"{{{EFORMS['efac']}}}AnswerReceptionPeriod"
    item = notice("eforms", "ted-eforms/eforms-published-subtype10-sdkv1.7-649921-2023.xml", consultation)
    assert (item.notice_type, item.deadline_kind, item.deadline_at) == ("prior-information", "consultation",
                                                                        utc(2023, 12, 1, 17))


def test_a_framework_gives_its_maximum_not_its_winners_summed():
    """can_24_maximal: BT-161 written 0 (a framework's usual), two winners on one lot and a tender for a group:
    the framework's maximum (BT-118), never 0 € nor the tenders added up."""
    zero = notice("eforms", "ted-eforms/eforms-sdk-can_24_maximal.xml",
                  lambda root: root.xpath("//efac:NoticeResult/cbc:TotalAmount", namespaces=EFORMS)[0].set(
                      "currencyID", "EUR") or setattr(root.xpath("//efac:NoticeResult/cbc:TotalAmount",
                                                                 namespaces=EFORMS)[0], "text", "0"))
    assert (zero.value_amount, zero.value_kind) == (9999999.99, "maximum")

    def no_maximum(root):
        drop(root, "//efac:NoticeResult/cbc:TotalAmount")
        drop(root, "//efac:NoticeResult/efbc:OverallMaximumFrameworkContractsAmount")
        drop(root, "//efac:FrameworkAgreementValues")
    tenders = notice("eforms", "ted-eforms/eforms-sdk-can_24_maximal.xml", no_maximum)
    assert tenders.value_kind == "awarded" and tenders.value_amount == 9999999.99  # one lot, its highest winner


def test_a_result_without_a_winner_is_no_awarded_value():
    def nobody(root):
        for code in root.xpath("//efac:LotResult/cbc:TenderResultCode", namespaces=EFORMS):
            code.text = "clos-nw"
        drop(root, "//efac:NoticeResult/cbc:TotalAmount")
        drop(root, "//efac:NoticeResult/efac:SettledContract | //efac:LotResult/efac:SettledContract")
        drop(root, "//efac:NoticeResult/efac:LotResult/cbc:LowerTenderAmount"
                   " | //efac:NoticeResult/efac:LotResult/cbc:HigherTenderAmount")
    item = notice("eforms", "ted-eforms/eforms-sdk-can_24_FRA_comments.xml", nobody)
    assert item.value_amount is None and item.value_kind is None


def test_groups_of_lots_are_not_counted_twice_in_an_estimate():
    """cn_24_maximal without the procedure's BT-27: its two lots (not the group GLO-0001 holding them)."""
    item = notice("eforms", "ted-eforms/eforms-sdk-cn_24_maximal.xml",
                  lambda root: drop(root, "cac:ProcurementProject/cac:RequestedTenderTotal"))
    assert (item.value_amount, item.value_kind) == (pytest.approx(2 * 9999999.99), "estimated")


def test_a_lot_with_several_winners_counts_once_in_r209():
    """F06 without its total, lot 1 awarded twice (a framework with two winners): lot 1 counts once (its highest
    value), lots 2 and 3 are added."""
    import copy

    def second_winner(root):
        drop(root, f"//{local('OBJECT_CONTRACT')}/{local('VAL_TOTAL')}")
        [first] = root.xpath(f"//{local('AWARD_CONTRACT')}[@ITEM='1']")
        twin = copy.deepcopy(first)
        twin.set("ITEM", "6")
        [value] = twin.xpath(f".//{local('VALUES')}/{local('VAL_TOTAL')}")
        value.text = "4000000.00"
        first.addnext(twin)
    item = notice("ted-xml", "ted-xml-r209/ted-r209-F06-FR-18-412273-001-EXP.xml", second_winner)
    assert item.value_amount == pytest.approx(4625137.40 + 535873.21 + 369648.37)


def test_a_partial_sum_of_lots_is_no_value_in_r209():
    """F06 without its total and without lot 2's value: no sum of the other lots taken for the whole."""
    def partial(root):
        drop(root, f"//{local('OBJECT_CONTRACT')}/{local('VAL_TOTAL')}")
        drop(root, f"//{local('AWARD_CONTRACT')}[@ITEM='2']//{local('VALUES')}")
    item = notice("ted-xml", "ted-xml-r209/ted-r209-F06-FR-18-412273-001-EXP.xml", partial)
    assert item.value_kind != "awarded" or item.value_amount != pytest.approx(4625137.40 + 369648.37)


def test_a_pin_call_in_r209_is_due_for_expressions_of_interest():
    item = notice("ted-xml", "ted-xml-r209/ted-r209-F02-HU-sewage-20-156049-001-EXP.xml",
                  _as_form("F01", "PRI_CALL_COMPETITION"))
    assert item.deadline_kind == "interest"
