"""Detection with the cyclic garbage collector paused.

Building a trace's view and running the detectors allocate many objects that live as long as
the trace; each full collection they trigger walks the whole trace again (25% of the time of
detecting on a 100,000-step trace, 8% of building its view alone). Paused while they run,
collected afterwards as usual.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the collector for the block, unless it is paused already (nested uses)."""
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()
