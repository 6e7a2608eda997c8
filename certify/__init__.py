"""Rigorous Lipschitz certification of small networks and the law-of-robustness proof-checking harness.

``certify.lipschitz`` returns an enclosure ``[lower, upper]`` of a network's Lipschitz constant;
``certify.check`` confronts a catalogue theorem (:mod:`bounds`) with a fitted network.
"""

from certify.model.network import Network
from certify.methods.certificate import Certificate, Witness
from certify.methods.dispatch import lipschitz, METHODS
from certify.harness.check import check, CheckResult
from certify import datasets

__all__ = ["lipschitz", "check", "CheckResult", "Network", "Certificate", "Witness", "METHODS", "datasets"]
