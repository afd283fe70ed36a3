"""The gateway benchmark's load generator: what it offers is what the figures claim (issue 4)."""

from __future__ import annotations

import itertools

from pingantong.gateway.bench import start_delays


def test_calls_for_help_are_spread_evenly_over_their_period_across_generator_processes():
    # The benchmark's shape: 10,000 reporting terminals and 10 calling for help every 2 s, split
    # over two generator processes (each gets every other terminal).
    reporting, calling, procs, every = 10_000, 10, 2, 2.0
    sends = []
    for k in range(procs):
        flags = [False] * (reporting // procs) + [True] * (calling // procs)
        delays = start_delays(flags, 0.9, every, k / procs)
        sends += [d for d, sos in zip(delays, flags, strict=True) if sos]
        assert all(0 <= d < 0.9 for d, sos in zip(delays, flags, strict=True) if not sos)
    sends.sort()
    assert len(sends) == calling
    gaps = [b - a for a, b in itertools.pairwise(sends)]
    assert min(gaps) > 0.19 and max(gaps) < 0.21, sends  # one every 200 ms, not ten in a burst
    assert sends[-1] < every


def test_reporting_terminals_start_over_one_interval():
    delays = start_delays([False] * 1000, 1.0, 2.0, 0.0)
    assert min(delays) == 0.0 and max(delays) == 0.99
    assert len({round(d, 2) for d in delays}) == 100  # a hundred start times, not one


def test_the_database_servers_cpu_is_read_on_a_local_postgresql_and_not_claimed_on_sqlite(db):
    """The figure 'database server CPU per message' (decision 0132): the server's processes on this
    machine do work for a query; SQLite runs inside the gateway's processes, so no figure."""
    from django.db import connection

    from pingantong.gateway.bench import _database_server_cpu

    before = _database_server_cpu()
    if connection.vendor != "postgresql":
        assert before is None
        return
    assert before is not None and before > 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM generate_series(1, 3000000)")
    after = _database_server_cpu()
    assert after is not None and after > before
