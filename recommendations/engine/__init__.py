"""Recommendation science: pure pandas/numpy/scipy, no Django."""
