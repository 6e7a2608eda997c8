"""What the two-layer bounds need to know about an activation ``psi``, given by name.

Shared by :mod:`bounds.two_layer_spectral`, :mod:`bounds.two_layer_projection` and
:mod:`bounds.polynomial` (``bounds`` never imports ``certify``, whose activations are objects).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ParameterError

__all__ = ["ActivationProperties", "activation_properties"]


@dataclass(frozen=True)
class ActivationProperties:
    """What the two-layer bounds need to know about an activation ``psi``.

    Attributes
    ----------
    name : str
    positively_homogeneous : bool
        ``psi(t z) = t psi(z)`` for ``t >= 0`` (implies ``psi(0) = 0``).
    lipschitz : float or None
        Lipschitz constant of ``psi`` on R (None: not globally Lipschitz).
    zero_at_zero : bool
    nonnegative : bool
        ``psi >= 0`` (sharpens the deterministic spectral bound).
    degree : int or None
        For ``poly:q`` (``psi(z) = z^q``): ``q``.
    """

    name: str
    positively_homogeneous: bool
    lipschitz: float | None
    zero_at_zero: bool
    nonnegative: bool
    degree: int | None = None


_FIXED = {
    "relu": ActivationProperties("relu", True, 1.0, True, True),
    "abs": ActivationProperties("abs", True, 1.0, True, True),
    "linear": ActivationProperties("linear", True, 1.0, True, False),
    "tanh": ActivationProperties("tanh", False, 1.0, True, False),
    "sigmoid": ActivationProperties("sigmoid", False, 0.25, False, True),
    "softplus": ActivationProperties("softplus", False, 1.0, False, True),
}
_ALLOWED = "relu, abs, linear, tanh, sigmoid, softplus, leaky_relu:<slope >= 0>, poly:<q >= 1>"


def activation_properties(name: str) -> ActivationProperties:
    """Properties of an activation given by name.

    ``"leaky_relu:0.1"`` is ``max(z, 0.1 z)`` (positively homogeneous, Lipschitz ``max(1, slope)``);
    ``"poly:q"`` is ``z^q``.

    >>> activation_properties("leaky_relu:0.1").lipschitz
    1.0
    >>> activation_properties("swish")
    Traceback (most recent call last):
    ...
    bounds.errors.ParameterError: parameter 'activation'='swish' is invalid: allowed relu, abs, linear, tanh, sigmoid, softplus, leaky_relu:<slope >= 0>, poly:<q >= 1>
    """
    if not isinstance(name, str):
        raise ParameterError("activation", name, _ALLOWED, "activations are given by name")
    key = name.strip().lower()
    if key in _FIXED:
        return _FIXED[key]
    m = re.fullmatch(r"leaky_relu:([0-9]*\.?[0-9]+(?:e-?[0-9]+)?)", key)
    if m:
        slope = float(m.group(1))
        return ActivationProperties(key, True, max(1.0, slope), True, slope == 0.0)
    m = re.fullmatch(r"poly:([0-9]+)", key)
    if m and int(m.group(1)) >= 1:
        q = int(m.group(1))
        return ActivationProperties(key, q == 1, 1.0 if q == 1 else None, True, q % 2 == 0, q)
    raise ParameterError("activation", name, _ALLOWED)
