"""Workloads: where jobs come from (sources), what one job asks of a stack (requests), and the
context a user-written workload drives (``ctx.request``, ``ctx.cpu``, …)."""
