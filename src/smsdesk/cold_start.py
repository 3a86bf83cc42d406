"""A function's cold start without garbage-collection passes over what it makes.

What a cold start allocates (modules, classes, models, then on the first invocation the AWS
clients and their service data) lives as long as the process, yet the cyclic collector walks it
again and again while it is made, finding next to nothing to free. A handler imports this module
first, which pauses the collector, and has :func:`ends_with_first_invocation` as its outermost
decorator: when the first invocation returns, what the cold start made is frozen out of later
passes (``gc.freeze``) and collection resumes. The local stack's loader, many functions in one
process, resumes collection after each load, so there a handler freezes nothing. Figures and
trade-offs: docs/decisions.md, 6.
"""

import functools
import gc
from collections.abc import Callable

# No typing import (PEP 695 generics instead): nothing Python has not loaded yet, before the pause.


def ends_with_first_invocation[**P, R](handler: Callable[P, R]) -> Callable[P, R]:
    """The handler, ending the cold start's pause when its first invocation returns (or fails)."""

    @functools.wraps(handler)
    def invoke(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return handler(*args, **kwargs)
        finally:
            if not gc.isenabled():  # still the cold start's pause: this was the first invocation
                gc.freeze()
                gc.enable()

    return invoke


gc.disable()
