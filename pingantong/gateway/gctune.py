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
