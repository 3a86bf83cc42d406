"""A function's cold start without garbage-collection passes over what it loads.

Loading a function allocates some 60,000 objects that live as long as its process (modules,
classes, botocore's and pynamodb's models), and CPython's cyclic collector, run by allocation
counts, walks them again and again while they load (its older generation twice in the webhook's
cold start, 10-20 ms a pass here), finding next to nothing to free (about 300 objects). Each
handler imports this module first, which pauses the collector, and calls :func:`loaded` as its
last line: what was loaded is frozen out of every later collection (``gc.freeze``: the
per-invocation collections then walk only what invocations allocate) and collection resumes.
What a frozen object costs is that it is never freed, and the process keeps it anyway.

The local stack and the tests load many functions into one long-lived process: their loader
unfreezes after each load (``gc.unfreeze``), so that nothing of a test stays frozen.
Figures: docs/decisions.md, 16.
"""

import gc


def loaded() -> None:
    """The cold start is over: freeze what it loaded, resume collecting."""
    gc.freeze()
    gc.enable()


gc.disable()
