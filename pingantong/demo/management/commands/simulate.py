"""`pingantong simulate`: a simulated fleet of terminals over real sockets.

    pingantong simulate --count 50 --interval 10 --duration 120 --inject sos@3:20 --inject smoke@5:40

Watches speak the watch text protocol to PINGANTONG_WATCH_PORT, pendants JT/T 808 to
PINGANTONG_JT808_PORT, home sensors publish zigbee2mqtt-style JSON to the MQTT broker. With
`--from-db` the fleet is the devices registered in the database (the demo district's), at their
clients' homes. The same --seed gives the same fleet and routines.
"""

from __future__ import annotations

import asyncio
import json
import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from pingantong.demo.simulator.fleet import Fleet, make_fleet, parse_injection


class Command(BaseCommand):
    help = "Run simulated terminals (watch, JT/T 808, MQTT sensors) against the gateway."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=10, help="number of terminals (default 10)")
        parser.add_argument("--seed", type=int, default=1, help="the same seed gives the same fleet")
        parser.add_argument("--interval", type=float, default=30.0, help="seconds between reports")
        parser.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--watch-port", type=int, default=settings.PINGANTONG_WATCH_PORT or 5093)
        parser.add_argument("--jt808-port", type=int, default=settings.PINGANTONG_JT808_PORT or 5015)
        parser.add_argument(
            "--mqtt-url", default=settings.MQTT_URL or f"mqtt://127.0.0.1:{settings.PINGANTONG_MQTT_PORT}"
        )
        parser.add_argument(
            "--protocols", default="watch,jt808,mqtt", help="comma-separated mix of watch, jt808, mqtt"
        )
        parser.add_argument(
            "--inject",
            action="append",
            default=[],
            help="EVENT@DEVICE_INDEX:SECONDS, e.g. sos@0:10; events: sos fall removed smoke silence "
            "leave_area blind_batch low_battery",
        )
        parser.add_argument(
            "--from-db", action="store_true", help="simulate the devices registered in the database"
        )

    def handle(self, *args, **opts):
        if opts["count"] < 1 or opts["interval"] <= 0:
            raise CommandError("--count must be at least 1 and --interval positive")
        mix = [p.strip() for p in opts["protocols"].split(",") if p.strip()]
        if bad := [p for p in mix if p not in {"watch", "jt808", "mqtt"}]:
            raise CommandError(f"unknown protocol(s): {', '.join(bad)}")
        try:
            injections = [parse_injection(text) for text in opts["inject"]]
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if opts["from_db"]:
            from pingantong.demo.simulator.registry import devices_from_database

            devices = devices_from_database(limit=opts["count"])
            if not devices:
                raise CommandError("no devices registered in the database to simulate")
        else:
            devices = make_fleet(opts["count"], opts["seed"], mix=mix)
        fleet = Fleet(
            devices,
            host=opts["host"],
            watch_port=opts["watch_port"],
            jt808_port=opts["jt808_port"],
            mqtt_url=opts["mqtt_url"],
            interval_s=opts["interval"],
            seed=opts["seed"],
            injections=injections,
        )
        self.stdout.write(f"simulating {len(devices)} terminals (seed {opts['seed']}); Ctrl-C stops")
        stats = asyncio.run(self._run(fleet, opts["duration"]))
        self.stdout.write(json.dumps(stats.__dict__, ensure_ascii=False))

    async def _run(self, fleet: Fleet, duration):
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await fleet.run(stop, duration_s=duration)
