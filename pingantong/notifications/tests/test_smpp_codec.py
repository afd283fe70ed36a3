"""The sans-IO SMPP 3.4 codec: exact bytes, split and merged reads, receipts, bounds."""

from __future__ import annotations

import pytest

from pingantong.notifications.providers import smpp_codec as c


def test_enquire_link_encodes_to_the_16_byte_header():
    assert c.encode(c.Pdu(c.ENQUIRE_LINK, 0, 7)).hex() == "00000010000000150000000000000007"


def test_bind_transceiver_body_is_system_id_password_type_version_and_range():
    assert c.bind_body("pat", "pw") == b"pat\x00pw\x00\x00\x34\x00\x00\x00"
    assert c.parse_bind(c.bind_body("pat", "pw")) == ("pat", "pw")


def test_submit_sm_in_ucs2_requests_a_receipt_and_round_trips():
    body = c.submit_sm_body(source="PAT", destination="8613900000001", text="平安")
    assert body.endswith(bytes([1, 0, 8, 0, 4]) + "平安".encode("utf-16-be"))
    sm = c.parse_sm(body)
    assert (sm.source, sm.destination, sm.registered_delivery, sm.data_coding, sm.text) == (
        "PAT",
        "8613900000001",
        1,
        8,
        "平安",
    )


def test_long_text_uses_message_payload_tlv():
    text = "防" * 71  # 142 octets in UCS-2: over the 140 of short_message
    sm = c.parse_sm(c.submit_sm_body(source="PAT", destination="86139", text=text))
    assert c.TLV_MESSAGE_PAYLOAD in sm.tlvs and sm.text == text


def test_reader_handles_split_and_merged_reads():
    one = c.encode(c.Pdu(c.ENQUIRE_LINK, 0, 1))
    two = c.encode(c.Pdu(c.SUBMIT_SM | c.RESP, 0x58, 2, b"\x00"))
    reader = c.PduReader()
    assert reader.feed(one[:5]) == []
    pdus = reader.feed(one[5:] + two[:3])
    assert [p.sequence for p in pdus] == [1]
    [throttled] = reader.feed(two[3:])
    assert throttled.status_name == "ESME_RTHROTTLED" and throttled.body == b"\x00"


def test_reader_refuses_an_impossible_length():
    with pytest.raises(c.PduError):
        c.PduReader().feed(b"\x00\x00\x00\x05" + b"\x00" * 12)
    with pytest.raises(c.PduError):
        c.PduReader().feed((c.MAX_PDU + 1).to_bytes(4, "big") + b"\x00" * 12)


def test_delivery_receipt_text_is_parsed_with_its_spaced_keys():
    fields = c.parse_receipt_text(
        "id:7eb2 sub:001 dlvrd:001 submit date:2611281000 done date:2611281001 stat:UNDELIV err:013 text:平安"
    )
    assert fields["id"] == "7eb2" and fields["stat"] == "UNDELIV" and fields["err"] == "013"
    assert fields["done date"] == "2611281001"


def test_deliver_sm_receipt_carries_the_receipted_message_id_tlv():
    body = c.deliver_sm_body(
        source="86139", destination="PAT", text="id:m1 stat:DELIVRD err:000", receipted_id="m1"
    )
    sm = c.parse_sm(body)
    assert sm.esm_class == 0x04 and sm.tlvs[c.TLV_RECEIPTED_MESSAGE_ID] == b"m1\x00"
