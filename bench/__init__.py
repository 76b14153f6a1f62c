"""Benchmarks that measure the service against this machine's own limits, in one run.

``python -m bench`` (``make bench``) measures the limits (pgbench TPC-B and SELECT-only, COPY of
1M assessment-shaped rows), drives the full pay flow and the notifications through the service
under gunicorn with the sandbox gateways, runs the yearly bulk declaration for 1M residents, and
prints one table of figures with their ratios to the limits (also written as JSON under
``bench/results/``). ``python -m bench --smoke`` does the same with tiny counts, for the tests.
"""
