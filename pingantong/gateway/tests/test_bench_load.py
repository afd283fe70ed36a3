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
