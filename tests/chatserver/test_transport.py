"""The server's Socket.IO packets (chatserver.transport): ujson, with the text and the limits of
python-socketio's json."""

import json

import pytest
from engineio import json as engineio_json
from socketio import packet as sio_packet

from chatserver.transport import WireJson, WirePacket

PAYLOAD = [
    "messageArrived",
    {
        "id": "abc",
        "sequence": 12,
        "text": 'a/b \u00e9 \u2028 \U0001f600 "quoted" \\',
        "attachments": [{"contentUrl": "https://example.com/a/b.png"}],
        "info": {"ratio": 0.1, "flag": True, "none": None},
    },
]


def test_packets_are_the_text_python_socketio_would_send():
    ours = WirePacket(sio_packet.EVENT, namespace="/agent", data=PAYLOAD).encode()
    theirs = sio_packet.Packet(sio_packet.EVENT, namespace="/agent", data=PAYLOAD).encode()
    assert ours == theirs
    assert WireJson.dumps(PAYLOAD) == json.dumps(PAYLOAD, separators=(",", ":"))


def test_packets_read_back_as_python_socketio_reads_them():
    encoded = sio_packet.Packet(sio_packet.EVENT, namespace="/agent", data=PAYLOAD, id=7).encode()
    ours = WirePacket(encoded_packet=encoded)
    assert (ours.packet_type, ours.namespace, ours.id, ours.data) == (sio_packet.EVENT, "/agent", 7, PAYLOAD)


def test_a_number_of_more_than_100_digits_is_refused_as_engineio_refuses_it():
    huge = "[" + "9" * 101 + "]"
    with pytest.raises(ValueError):
        engineio_json.loads(huge)
    with pytest.raises(ValueError):
        WireJson.loads(huge)
    assert WireJson.loads("[" + "9" * 100 + "]") == [int("9" * 100)]


def test_a_run_of_digits_in_a_string_is_only_text():
    text = '["sendMessage",{"text":"' + "1" * 500 + '"}]'
    assert WireJson.loads(text) == ["sendMessage", {"text": "1" * 500}]
    assert WireJson.loads(text.encode()) == ["sendMessage", {"text": "1" * 500}]  # as Redis hands it over
