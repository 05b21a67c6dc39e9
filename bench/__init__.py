"""vm-system benchmark runner (SPEC section 10): ``python -m bench`` or ``make bench``.

Every figure is a median over repeats with warm-up, and every comparison is a ratio against
a baseline measured in the same run. See docs/performance.md.
"""
