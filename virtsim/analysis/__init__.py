"""Turning raw simulation records into tables and statistics."""

from .stats import confidence_interval, response_time_stats

__all__ = ["confidence_interval", "response_time_stats"]
