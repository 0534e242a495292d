"""jiceng's benchmarks: ``make bench`` or ``python -m bench [NAME ...]``.

Benchmarks live here rather than in ``tests/`` on purpose: a timed assertion in
the test suite fails at random on machines whose speed swings by up to 2× from
minute to minute. Each benchmark instead measures the code and a bare baseline
in the same run, interleaved (A B A B …), prints both, and records the figures,
the command and the machine in ``docs/performance.md``.
"""
