"""Benchmarks for the intake face: `make bench` (``python -m bench.run``) writes bench/RESULTS.md.

Not tests: nothing here asserts. Each benchmark runs a real gunicorn process of the intake face
against a fresh, production-configured instance under bench/out/, talks only to 127.0.0.1, is
bounded in time and request count, and reports every figure as a ratio against a baseline
measured in the same run (the machine is shared and noisy), with the raw numbers beside it.
See bench/README.md.
"""
