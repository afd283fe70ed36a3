"""The gateway benchmark's load generator: what it offers is what the figures claim (issue 4)."""

from __future__ import annotations

import itertools

import pytest

from pingantong.gateway.bench import plan_parts, quantile, sos_callers_mode, start_delays


def _first_presses(parts, interval=0.9):
    sends = []
    for numbers, callers, starts, _apart in parts:
        flags = [False] * len(numbers) + [True] * len(callers)
        delays = start_delays(flags, interval, starts)
        sends += [d for d, sos in zip(delays, flags, strict=True) if sos]
        assert all(0 <= d < interval for d, sos in zip(delays, flags, strict=True) if not sos)
    return sorted(sends)


@pytest.mark.parametrize("mode", ["apart", "generators", "split"])
def test_calls_for_help_are_spread_evenly_over_their_period_wherever_the_callers_run(mode):
    # The benchmark's shape: 10,000 reporting terminals over two generator processes, and 10
    # terminals calling for help every 2 s.
    parts = plan_parts(10_000, 10, 2, mode, 2.0)
    sends = _first_presses(parts)
    assert len(sends) == 10
    gaps = [b - a for a, b in itertools.pairwise(sends)]
    assert min(gaps) > 0.19 and max(gaps) < 0.21, sends  # one every 200 ms, not ten in a burst
    assert sends[-1] < 2.0
    reporting = sorted(n for numbers, *_ in parts for n in numbers)
    assert reporting == list(range(10_000))  # every reporting terminal once
    callers = sorted(n for _, callers, *_ in parts for n in callers)
    assert callers == list(range(10_000, 10_010))


def test_callers_apart_run_in_a_process_of_their_own_without_reporting_terminals():
    """Decision 0138: a watch is a device of its own, so by default the frame→ACK of a call for
    help is timed in a process that does not also serve 5,000 reporting terminals."""
    apart = plan_parts(10_000, 10, 2, "apart")
    assert len(apart) == 3
    assert [len(p[0]) for p in apart] == [5_000, 5_000, 0]
    assert [len(p[1]) for p in apart] == [0, 0, 10] and [p[3] for p in apart] == [False, False, True]
    among = plan_parts(10_000, 10, 2, "generators")
    assert len(among) == 2 and [len(p[1]) for p in among] == [5, 5]
    split = plan_parts(10_000, 10, 2, "split")
    assert [len(p[1]) for p in split] == [3, 2, 5] and split[2][3] is True
    assert plan_parts(50, 0, 2, "apart") == [
        (list(range(0, 50, 2)), [], [], False),
        (list(range(1, 50, 2)), [], [], False),
    ]


def test_the_callers_mode_is_read_from_the_environment_and_a_wrong_one_is_refused(monkeypatch):
    monkeypatch.delenv("PINGANTONG_BENCH_SOS_CALLERS", raising=False)
    assert sos_callers_mode() == "apart"
    monkeypatch.setenv("PINGANTONG_BENCH_SOS_CALLERS", " Split ")
    assert sos_callers_mode() == "split"
    with pytest.raises(
        ValueError, match="PINGANTONG_BENCH_SOS_CALLERS must be one of apart, generators, split"
    ):
        sos_callers_mode("elsewhere")


def test_reporting_terminals_start_over_one_interval():
    delays = start_delays([False] * 1000, 1.0, [])
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


def test_the_quantiles_are_read_from_the_sorted_samples_as_documented():
    """p50 and p99 of the SOS samples, for the main figures and the `split` mode's other half."""
    samples = [float(n) for n in range(1, 201)]  # 1.0 … 200.0
    assert quantile(samples, 0.5) == 101.0
    assert quantile(samples, 0.99) == 199.0  # index 198: two samples above it
    assert quantile([7.0], 0.99) == 7.0
    assert quantile([], 0.5) is None
