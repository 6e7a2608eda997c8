"""Rigorous Lipschitz certification of small networks and the law-of-robustness proof-checking harness."""

from .network import Network
from .certificate import Certificate, Witness
from .lipschitz import lipschitz, METHODS

__all__ = ["lipschitz", "Network", "Certificate", "Witness", "METHODS"]
