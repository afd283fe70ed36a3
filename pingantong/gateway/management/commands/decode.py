"""``pingantong decode --protocol watch|jt808 [--hex] [--tz +08:00] INPUT`` (public contract).

INPUT is a file path, ``-`` for stdin, or — when no such file exists and the value looks like a
frame (starts with ``[``/``(`` for text, or with ``--hex``) — the literal data itself, which is
handy for pasting one frame from a log. Prints one JSON object; exit 0 even for malformed input;
wrong usage exits non-zero with one line on stderr and no traceback.
"""

from __future__ import annotations

import binascii
import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pingantong.gateway.decode import TzFormatError, decode_stream, parse_tz
from pingantong.gateway.protocols import PROTOCOLS


class Command(BaseCommand):
    help = "Decode a captured watch or JT/T 808 byte stream and print the events and replies as JSON."
    requires_system_checks: list[str] = []  # a pure tool: it must work without a database

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--protocol", required=True, help=f"one of: {', '.join(PROTOCOLS)}")
        parser.add_argument("--hex", action="store_true", help="INPUT is hex text (whitespace ignored)")
        parser.add_argument("--tz", default="+08:00", help="device clock zone, Z or ±HH:MM (default +08:00)")
        parser.add_argument("input", metavar="INPUT", help="file path, '-' for stdin, or literal data")

    def handle(self, *args: Any, **options: Any) -> None:
        protocol = options["protocol"]
        if protocol not in PROTOCOLS:
            raise CommandError(f"unknown protocol {protocol!r} (expected one of: {', '.join(PROTOCOLS)})")
        try:
            parse_tz(options["tz"])
        except TzFormatError as exc:
            raise CommandError(str(exc)) from None
        raw = self._read(options["input"], as_hex=options["hex"])
        if options["hex"]:
            text = b"".join(raw.split())
            try:
                raw = binascii.unhexlify(text)
            except (binascii.Error, ValueError):
                raise CommandError("--hex input is not valid hex") from None
        result = decode_stream(protocol, raw, options["tz"])
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))

    def _read(self, source: str, *, as_hex: bool) -> bytes:
        if source == "-":
            return sys.stdin.buffer.read()
        path = Path(source)
        try:
            if path.is_file():
                return path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {source}: {exc.strerror}") from None
        if source[:1] in ("[", "(") or as_hex:
            return source.encode("utf-8")
        raise CommandError(f"cannot read {source}: no such file")
