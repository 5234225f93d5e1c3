"""The model's plain parts: what a host holds and what it costs, as data and arithmetic.

SimPy-free and pydantic-free, so config (to check an experiment before it runs),
components (while it runs) and analysis (after) share one definition:

* :mod:`.topology`: a host's VMs as a tree (nested VMs), addressed by path;
* :mod:`.memory`: per-VM and per-sandbox overhead, committed memory, reclaim order;
* :mod:`.occupancy`: which hosts are empty (and may be switched off);
* :mod:`.host_os`: the OS under a Type 2 hypervisor, as one layer (its load, memory, boot);
* :mod:`.power`: a host's power curve and the energy it adds up to;
* :mod:`.packets`: a network transaction's segments, ACKs and frames at a NIC's MTU and offloads.
"""
