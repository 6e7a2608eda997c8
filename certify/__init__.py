"""Rigorous Lipschitz certification of small networks and the law-of-robustness proof-checking harness.

``certify.lipschitz`` returns an enclosure ``[lower, upper]`` of a network's Lipschitz constant;
``certify.check`` confronts a catalogue theorem (:mod:`bounds`) with a fitted network.

Layers
------
The package is built in layers; a module imports only from its own layer or lower ones (and from
:mod:`bounds`, which never imports ``certify``).  ``tests/test_layers.py`` enforces the rule.

====  ==================  ===================================================================
 0    base                ``certify.errors`` (typed errors), ``certify.inputs`` (norm, domain)
 1    ``certify.arith``   verified arithmetic: outward-rounded intervals, Arb-ball witnesses,
                          exact rational regions of piecewise-linear networks
 2    ``certify.model``   the network model, its activations and importers
 3    ``certify.methods`` one module per certification method, the ``Certificate`` result and
                          the ``lipschitz()`` dispatch
 4    ``certify.harness`` research harness: fitters, ``check``, statistics, experiments,
                          proof-step checks
 5    ``certify.report``  the report; ``python -m certify`` (``certify.__main__``) on top
====  ==================  ===================================================================

Tables (Markdown / LaTeX / CSV) are rendered by :mod:`bounds.tables`, so that the ``bounds`` CLI
and the report share one renderer.
"""

import sys

from certify.model.network import Network
from certify.methods.certificate import Certificate, Witness
from certify.methods.dispatch import lipschitz, METHODS
from certify.harness.check import check, CheckResult
from certify.harness import campaign
from certify import datasets
from certify import _moved

_moved.install(sys.modules[__name__])

__all__ = ["lipschitz", "check", "CheckResult", "Network", "Certificate", "Witness", "METHODS",
           "datasets", "campaign"]
