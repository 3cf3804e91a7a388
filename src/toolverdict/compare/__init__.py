"""Comparison pages: two tools side by side, the pricing read, head-to-head verdicts."""
