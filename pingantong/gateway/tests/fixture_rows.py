"""Load the captured device messages (copied from shared/protocols, Traccar's test vectors)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass(frozen=True)
class Row:
    protocol: str
    number: int  # 0-based line number in the .jsonl
    data: dict[str, Any]

    @property
    def id(self) -> str:
        note = (self.data.get("note") or "").split(" ")[0]
        return f"{self.protocol}-{self.number:03d}-{note}"

    @property
    def is_downlink(self) -> bool:
        return self.data.get("direction") == "server_to_device"

    @property
    def is_frame_stage(self) -> bool:
        return (self.data.get("stage") or "").startswith("raw TCP")

    @property
    def input_bytes(self) -> bytes:
        text = self.data["input"]
        return bytes.fromhex(text) if self.data["encoding"] == "hex" else text.encode("latin-1")

    @property
    def expect(self) -> dict[str, Any]:
        return dict(self.data.get("traccar_expect") or {})

    @property
    def derived(self) -> dict[str, Any]:
        return dict(self.data.get("derived") or {})


def load(protocol: str) -> list[Row]:
    path = FIXTURES / f"{protocol}.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    return [Row(protocol, i, json.loads(line)) for i, line in enumerate(lines) if line.strip()]


def wire_frames(protocol: str) -> list[bytes]:
    """Every uplink row as it would appear on the wire (decoder rows re-framed/escaped)."""
    from pingantong.gateway.protocols.jt808.framing import escape as jt_escape
    from pingantong.gateway.protocols.watch.framing import escape as watch_escape

    out = []
    for row in load(protocol):
        if row.is_downlink:
            continue
        data = row.input_bytes
        if b"JXTK" in data:
            continue  # several chunks concatenated with raw binary: cannot be re-framed
        if row.is_frame_stage:
            out.append(data)
        elif protocol == "jt808" and data[:1] == b"\x7e":
            out.append(b"\x7e" + jt_escape(data[1:-1]) + b"\x7e")
        elif protocol == "watch" and b"TK," not in data:
            out.append(data)
        elif protocol == "watch":  # a TK voice frame: escape its binary payload again
            head, _, payload = data[:-1].partition(b"TK,")
            out.append(head + b"TK," + watch_escape(payload) + b"]")
        else:
            out.append(data)
    return out
