"""A function's cold start without garbage-collection passes over what it loads.

A cold start allocates some 60,000 objects that live as long as its process (modules, classes,
botocore's and pynamodb's models, then on the first invocation the AWS clients and their service
data), and CPython's cyclic collector, run by allocation counts, walks them again and again while
they are made (its older generation twice in the webhook's cold start, 10-20 ms a pass here),
finding next to nothing to free (about 300 objects). Each handler imports this module first,
which pauses the collector, and is decorated with :func:`ends_with_first_invocation`: when its
first invocation returns, what the cold start made is frozen out of every later collection
(``gc.freeze``: later passes walk only what invocations allocate) and collection resumes. What a
frozen object costs is that it is never freed, and the process keeps it anyway.

The local stack and the tests load many functions into one long-lived process: their loader
unfreezes and resumes collection after each load, so a handler finds the collector running and
freezes nothing. Figures: docs/decisions.md, 6.
"""

import functools
import gc
from collections.abc import Callable

# Only modules Python has loaded before any handler (no typing): nothing to allocate before the pause.
Handler = Callable[[object, object], object]


def ends_with_first_invocation(handler: Handler) -> Handler:
    """The handler, ending the cold start's pause when its first invocation returns (or fails)."""

    @functools.wraps(handler)
    def invoke(event: object, context: object) -> object:
        try:
            return handler(event, context)
        finally:
            if not gc.isenabled():  # still the cold start's pause: this was the first invocation
                gc.freeze()
                gc.enable()

    return invoke


gc.disable()
