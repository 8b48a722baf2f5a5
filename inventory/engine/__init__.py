"""Replenishment science: policies from forecast quantiles, rounding rules, the lost-sales simulation (pure)."""
