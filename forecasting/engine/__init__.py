"""Demand forecasting engine: pure pandas/numpy/scikit-learn/statsmodels, no Django."""

from forecasting.engine.pipeline import ForecastConfig, ForecastResult, forecast, quantile_column

__all__ = ["ForecastConfig", "ForecastResult", "forecast", "quantile_column"]
