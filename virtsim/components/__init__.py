"""The model's components: hosts, VMs and containers as consumers of shared resources."""

from .platform import Consumer, Platform

__all__ = ["Consumer", "Platform"]
