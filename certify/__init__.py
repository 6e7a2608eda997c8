"""Rigorous Lipschitz certification of small networks and the law-of-robustness proof-checking harness.

``certify.lipschitz`` returns an enclosure ``[lower, upper]`` of a network's Lipschitz constant;
``certify.check`` confronts a catalogue theorem (:mod:`bounds`) with a fitted network.
"""

from .network import Network
from .certificate import Certificate, Witness
from .lipschitz import lipschitz, METHODS
from .check import check, CheckResult

__all__ = ["lipschitz", "check", "CheckResult", "Network", "Certificate", "Witness", "METHODS"]
