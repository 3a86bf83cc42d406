"""smsdesk's benchmarks: `make bench` (python -m benchmarks), never part of `make test`.

Every figure is measured side by side with its floor in the same run, interleaved, because
these machines are noisy: a ratio to a floor measured an hour earlier on a quieter machine
would mean nothing. The run prints one table (figure, floor, ratio, target) and writes the same
figures to bench-results.json at the repository root (git-ignored).

One module per benchmark, each with a ``TITLE`` and ``run(options) -> Outcome``
(:mod:`benchmarks.report`): the outcome's ``results`` are merged into the top level of the JSON
(the keys issue 5 names), its ``rows`` go into the table, its ``details`` and ``notes`` are
kept for whoever has to explain a figure. To add one, write the module and name it in
``benchmarks.__main__.BENCHMARKS``.

This package is not shipped to Lambda (the layer is ``src/``) and the tests do not import it.
"""
