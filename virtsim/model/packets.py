"""Packets: how many segments a network transaction is, on the wire and for the CPU.

A transaction moves ``B`` bytes one way (its ``bytes``, in the demand's
direction) and ``R`` bytes the other (its request, ``request_bytes``). Over a
NIC of MTU ``M``, TCP carries at most ``MSS = M − 52`` bytes per segment: the
IPv4 header (20 B), the TCP header (20 B) and the timestamp option Linux sends
by default (12 B). Each way then carries:

* data: ``⌈B / MSS⌉`` segments, at least one (a message is at least a header);
* ACKs: one per two segments received (delayed ACK, RFC 1122 §4.2.3.2, RFC 5681
  §4.2); the ACK of an odd last segment rides on the next message.

On the wire every data segment costs its headers (52 B) and Ethernet's framing
(header 14 B, FCS 4 B, preamble 8 B, inter-frame gap 12 B: 38 B), so a full
segment at MTU 1500 is 1538 B on the wire for 1448 B of payload: a 10 Gbit/s
link carries at most 10 × 1448 / 1538 = 9.41 Gbit/s of TCP payload. The NIC of
a host is one rate resource; it carries the data frames of both messages. Pure
ACKs travel in the idle direction of a full-duplex link and cost CPU only.

Offloads coalesce segments for the CPU, not on the wire: with TSO the stack
hands the NIC one buffer of up to 64 KiB (the largest whole number of segments
that fits), with GRO the receiving stack sees one buffer per 64 KiB received.
ACKs are counted from what the receiving stack sees (one per two buffers). The
peer is taken to have the same MTU and offloads as this host's NIC.

Everything here is integer arithmetic on counts: a transaction's packets are
numbers, never events.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["COALESCE_BYTES", "FRAMING_BYTES", "HEADER_BYTES", "MAX_MTU_BYTES", "MIN_MTU_BYTES", "Link",
           "TransactionPackets"]

HEADER_BYTES = 52
"""IPv4 (20) + TCP (20) + TCP timestamps option (12): MSS = MTU − 52."""
FRAMING_BYTES = 38
"""Ethernet header 14 + FCS 4 + preamble and start delimiter 8 + inter-frame gap 12, per frame on the wire."""
COALESCE_BYTES = 64 * 1024
"""The most TSO or GRO hands the stack as one buffer."""
MIN_MTU_BYTES = 68
"""The least MTU IPv4 allows (RFC 791)."""
MAX_MTU_BYTES = 9216
"""The largest jumbo frame common switches carry."""


@dataclass(frozen=True)
class TransactionPackets:
    """One transaction's packets, from the point of view of the simulated host's stack."""

    sent: int
    """Packets the host's stack sends (after TSO): data and ACKs."""
    received: int
    """Packets the host's stack receives (after GRO): data and ACKs."""
    wire_packets: int
    """Data frames on the wire, both messages (ACKs not counted: they use the idle direction)."""
    wire_bytes: float
    """Bytes the NIC serializes: payload plus headers and framing of every data frame."""


@dataclass(frozen=True)
class Link:
    """A NIC's MTU and offloads: what a transaction's bytes become as packets."""

    mtu_bytes: int = 1500
    tso: bool = True
    """TCP segmentation offload: the stack sends up to 64 KiB as one packet, the NIC cuts it up."""
    gro: bool = True
    """Generic receive offload: received segments reach the stack merged up to 64 KiB."""

    def __post_init__(self):
        if not MIN_MTU_BYTES <= self.mtu_bytes <= MAX_MTU_BYTES:
            raise ValueError(f"MTU must be from {MIN_MTU_BYTES} to {MAX_MTU_BYTES} bytes, got {self.mtu_bytes}")

    @property
    def mss_bytes(self) -> int:
        """TCP payload per segment."""
        return self.mtu_bytes - HEADER_BYTES

    @property
    def coalesced_bytes(self) -> int:
        """Payload of one offloaded buffer: the most whole segments within 64 KiB."""
        mss = self.mss_bytes
        return COALESCE_BYTES // mss * mss

    def segments(self, nbytes: float) -> int:
        """Data segments of a message of ``nbytes`` on the wire (at least one)."""
        return max(1, math.ceil(nbytes / self.mss_bytes))

    def buffers(self, nbytes: float, coalesce: bool) -> int:
        """Packets a stack handles for a message of ``nbytes``: segments, or 64 KiB buffers when offloaded."""
        return max(1, math.ceil(nbytes / (self.coalesced_bytes if coalesce else self.mss_bytes)))

    def wire_bytes(self, nbytes: float) -> float:
        """Bytes a message of ``nbytes`` takes on the wire, headers and framing included."""
        return nbytes + self.segments(nbytes) * (HEADER_BYTES + FRAMING_BYTES)

    def transaction(self, nbytes: float, request_bytes: float = 0.0, receive: bool = False) -> TransactionPackets:
        """The packets of a transaction moving ``nbytes`` one way and ``request_bytes`` the other.

        ``receive``: the ``nbytes`` flow towards this host (a download); else away from it.
        """
        out_bytes, in_bytes = (request_bytes, nbytes) if receive else (nbytes, request_bytes)
        out_data = self.buffers(out_bytes, self.tso)
        in_data = self.buffers(in_bytes, self.gro)
        # The peer ACKs what it received (its GRO, taken as ours); this host what it received.
        peer_acks = self.buffers(out_bytes, self.gro) // 2
        own_acks = in_data // 2
        return TransactionPackets(
            sent=out_data + own_acks, received=in_data + peer_acks,
            wire_packets=self.segments(nbytes) + self.segments(request_bytes),
            wire_bytes=self.wire_bytes(nbytes) + self.wire_bytes(request_bytes))
