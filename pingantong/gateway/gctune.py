"""Python's cyclic garbage collector in a gateway process (decision 0120).

A gateway holds tens of thousands of long-lived objects (a session, codec, framer and buffers per
connection, plus everything Django loaded), and at 10,000 messages/s the frames waiting for their
batch are alive long enough to be promoted by young collections. With Python's default thresholds
(700, 10, 10) that promoted a steady stream into the oldest generation and ran a full collection
over every object about once a second: a native profile of the benchmark showed the collector in a
third of the event loop's CPU (`gc_collect_main`), and in the writer thread as well.

The gateway therefore, once at start:
* freezes what was allocated before it served anything (`gc.freeze()`: Django, the apps, the
  registry caches), so full collections no longer walk it;
* collects the young generation every `threshold0` net allocations instead of 700, so that a
  frame's objects are usually freed by reference counting (they hold no cycles) before a
  collection sees them, and far fewer are promoted.
Garbage in reference cycles is still collected, only in larger, rarer steps. Environment
`PINGANTONG_GATEWAY_GC`: "t0,t1,t2" thresholds, or "default" to leave Python's.
"""

from __future__ import annotations

import gc
import logging
import os
import sys

log = logging.getLogger("pingantong.gateway")

GATEWAY_THRESHOLDS = (50_000, 20, 100)

_tuned = False


def tune_gc_for_gateway() -> tuple[int, int, int] | None:
    """Apply the gateway's collector settings (once per process); the thresholds now in force, or
    None when left at Python's defaults."""
    global _tuned
    setting = os.environ.get("PINGANTONG_GATEWAY_GC", "").strip().lower()
    if setting == "default":
        return None
    thresholds = GATEWAY_THRESHOLDS
    if setting:
        try:
            t0, t1, t2 = (int(part) for part in setting.split(","))
        except ValueError:
            raise ValueError(
                f'PINGANTONG_GATEWAY_GC must be "t0,t1,t2" or "default", not {setting!r}'
            ) from None
        thresholds = (t0, t1, t2)
    if not _tuned:
        gc.collect()
        gc.freeze()
        _tuned = True
    gc.set_threshold(*thresholds)
    return thresholds


DEFAULT_SWITCH_INTERVAL = 0.0005


def set_switch_interval() -> float:
    """The interpreter's switch interval of a gateway process and of its writer and rules processes
    (decision 0093; in the child processes since decision 0131): a thread waiting for the GIL
    after a database call or a pipe read waits until the running thread lets go of it, up to this
    interval (Python's default is 5 ms). `PINGANTONG_GATEWAY_SWITCH_INTERVAL` in seconds, 0 = leave
    Python's. Returns the interval in force."""
    interval = float(os.environ.get("PINGANTONG_GATEWAY_SWITCH_INTERVAL", str(DEFAULT_SWITCH_INTERVAL)) or 0)
    if interval > 0:
        sys.setswitchinterval(interval)
    return sys.getswitchinterval()
