"""Immutable feed-forward networks: the object every certification method works on.

A :class:`Network` with ``L`` affine layers computes

.. math:: f(x) = W_L\\,\\sigma_{L-1}(\\cdots \\sigma_1(W_1 x + b_1) \\cdots) + b_L ,

with weights in the ``(out, in)`` convention (as in PyTorch's ``nn.Linear`` and in the LipBaB
``.npz`` files), an activation after every hidden layer and a *linear* output layer.  A single
layer (``L = 1``) is an affine map.

Conventions that matter for certification:

* every array is float64 and read-only, so a certificate computed for a network stays valid for it;
* :meth:`Network.jacobian` uses the activation's *right* derivative at kinks (ReLU'(0) = 1), which is
  one element of the Clarke generalized Jacobian; :meth:`Network.jacobian_interval` encloses the whole
  Clarke Jacobian over a box;
* layers are counted from 0 in Python (``weights[0]``) and from 1 in ``.npz`` files (``W1``); error
  messages name both.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from bounds.errors import ParameterError

from certify.model import activations as _activations
from certify.model import groupsort as _groupsort
from certify.errors import DomainError, ShapeError, UnsupportedError
from certify.arith.interval import Interval

__all__ = ["Network", "two_layer"]

_NPZ_LAYER_KEY = re.compile(r"^([Wb])([1-9][0-9]*)$")
_NPZ_ACTIVATIONS_KEY = "activations"


# ----------------------------------------------------------------------------------------------
# validation helpers
# ----------------------------------------------------------------------------------------------

def _layer_label(i: int, n_layers: int) -> str:
    return f"layer {i} (weights[{i}], W{i + 1} in .npz; {n_layers} layer(s) in total)"


def _to_float64(value, what: str) -> np.ndarray:
    """Convert ``value`` to a float64 array, refusing anything that would change its value.

    A certificate is about the float64 network we store; silently rounding an int64 weight above
    2**53 or a long double would certify a different network from the one the user holds.
    """
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise ShapeError(f"{what}: cannot be converted to an array ({exc})") from exc
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise DomainError(f"{what}: must be real numbers, got dtype {arr.dtype}")
    out = np.array(arr, dtype=np.float64, copy=True)
    if arr.dtype.kind in "iu" or (arr.dtype.kind == "f" and arr.dtype.itemsize > 8):
        with np.errstate(invalid="ignore", over="ignore"):
            exact = np.array_equal(out.astype(arr.dtype), arr)
        if not exact:
            raise DomainError(f"{what}: values of dtype {arr.dtype} are not exactly representable "
                              "in float64; convert them yourself if rounding is intended")
    return out


def _check_finite(arr: np.ndarray, what: str) -> None:
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise DomainError(f"{what}: contains a non-finite value ({float(arr[tuple(bad)])!r} at index "
                          f"{tuple(int(i) for i in bad)}); all entries must be finite")


def _load_npz(path) -> dict:
    """The arrays of an ``.npz`` archive, or a typed error saying what the file is instead."""
    allowed = "the path of an .npz archive (numpy.savez) holding W1, b1, ..., WL, bL"
    try:
        data = np.load(path, allow_pickle=False)
    except ValueError:  # numpy says "pickled data" for any file that is not an array
        raise ParameterError("path", str(path), allowed, "the file is not a NumPy .npz archive") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ParameterError("path", str(path), allowed,
                             "this is a single .npy array, not an .npz archive of named layers")
    with data:
        try:
            return {k: data[k] for k in data.files}
        except ValueError as exc:
            raise ParameterError("path", str(path), allowed, f"unreadable archive member ({exc})") from None


def _freeze(arr: np.ndarray) -> np.ndarray:
    arr.flags.writeable = False
    return arr


def _resolve_activations(activation, n_hidden: int) -> tuple:
    """One :class:`Activation` per hidden layer from a single spec or a list of specs."""
    if isinstance(activation, (list, tuple)):
        if len(activation) != n_hidden:
            raise ShapeError(f"activation: a list of {len(activation)} activation(s) was given but "
                             f"the network has {n_hidden} hidden layer(s); pass exactly one per "
                             "hidden layer, or a single activation for all of them")
        specs = list(activation)
    else:
        specs = [activation] * n_hidden
    acts = []
    for i, spec in enumerate(specs):
        try:
            acts.append(_activations.get(spec))
        except UnsupportedError as exc:
            raise UnsupportedError(f"activation of hidden layer {i} (after weights[{i}]): {exc}") from exc
        except ParameterError as exc:
            raise ParameterError(exc.parameter, exc.value, exc.allowed,
                                 f"activation of hidden layer {i} (after weights[{i}])") from exc
    return tuple(acts)


def _activation_spec(act) -> str:
    """A string that :func:`certify.model.activations.get` maps back to ``act`` (used by ``to_npz``)."""
    spec = getattr(act, "spec", None)
    if isinstance(spec, str):
        return spec
    if act.param is None:
        return act.name
    return f"{act.name}:{act.param!r}"


def _act_key(act) -> tuple:
    return (act.name, act.param)


# ----------------------------------------------------------------------------------------------
# the network
# ----------------------------------------------------------------------------------------------

class Network:
    """Immutable feed-forward network with dense layers and a linear output layer.

    Build it with :meth:`from_arrays`, :meth:`from_npz`, :meth:`from_torch` or :func:`two_layer`.

    Attributes
    ----------
    weights : tuple of numpy.ndarray
        ``weights[i]`` has shape ``(n_{i+1}, n_i)`` (the ``(out, in)`` convention), float64, read-only.
    biases : tuple of numpy.ndarray
        ``biases[i]`` has shape ``(n_{i+1},)``, float64, read-only.
    activations : tuple of Activation
        ``activations[i]`` is applied after layer ``i``; there are ``len(weights) - 1`` of them
        (the output layer is linear).
    """

    def __init__(self, weights, biases, activations):
        # Only the validated constructors should call this; they pass frozen float64 arrays.
        object.__setattr__(self, "weights", tuple(weights))
        object.__setattr__(self, "biases", tuple(biases))
        object.__setattr__(self, "activations", tuple(activations))
        object.__setattr__(self, "_hash", None)

    def __setattr__(self, name, value):
        raise AttributeError(f"Network is immutable; use with_weights() or scaled() to derive a new one "
                             f"(tried to set {name!r})")

    def __delattr__(self, name):
        raise AttributeError("Network is immutable")

    # -------------------------------------------------------------------------- constructors
    @classmethod
    def from_arrays(cls, weights, biases=None, activation="relu") -> "Network":
        """Build a network from weight matrices, biases and activation(s), validating everything.

        Parameters
        ----------
        weights : sequence of array_like
            ``weights[i]`` of shape ``(n_{i+1}, n_i)``; at least one matrix.
        biases : sequence of array_like or None, optional
            ``biases[i]`` of shape ``(n_{i+1},)``; ``None`` means all zeros.  Individual entries may
            also be ``None`` (zeros).
        activation : str, Activation, or sequence of them, optional
            One activation for every hidden layer, or a list with exactly one per hidden layer
            (``len(weights) - 1``).  Names as accepted by :func:`certify.model.activations.get`.

        Returns
        -------
        Network

        Raises
        ------
        ShapeError
            Non-2-D or empty weight matrices, shapes that do not chain, wrong bias lengths, an
            activation list of the wrong length.
        DomainError
            NaN or infinite entries, non-real dtypes, integers not exactly representable in float64.
        UnsupportedError
            An unknown activation.
        """
        if isinstance(weights, np.ndarray) and weights.dtype != object:
            # A 3-D stack of equal-shape matrices is a sequence; a single 2-D matrix is a common slip.
            if weights.ndim == 2:
                raise ShapeError("weights: expected a sequence of 2-D matrices, got a single 2-D array; "
                                 "wrap it in a list for a one-layer (affine) network")
        try:
            weights = list(weights)
        except TypeError as exc:
            raise ShapeError(f"weights: expected a sequence of 2-D matrices, got {type(weights).__name__}") from exc
        n_layers = len(weights)
        if n_layers == 0:
            raise ShapeError("weights: at least one layer is required, got an empty sequence")
        if biases is None:
            biases = [None] * n_layers
        else:
            try:
                biases = list(biases)
            except TypeError as exc:
                raise ShapeError(f"biases: expected a sequence of vectors or None, got "
                                 f"{type(biases).__name__}") from exc
            if len(biases) != n_layers:
                raise ShapeError(f"biases: {len(biases)} bias vector(s) for {n_layers} weight matrices; "
                                 "pass one per layer, or None for all zeros")

        ws, bs = [], []
        for i, (w, b) in enumerate(zip(weights, biases)):
            label = _layer_label(i, n_layers)
            w = _to_float64(w, f"weights[{i}] ({label})")
            if w.ndim != 2:
                raise ShapeError(f"weights[{i}] ({label}): must be a 2-D (out, in) matrix, got shape {w.shape}")
            if w.shape[0] == 0 or w.shape[1] == 0:
                raise ShapeError(f"weights[{i}] ({label}): has an empty dimension, shape {w.shape}")
            if i > 0 and w.shape[1] != ws[-1].shape[0]:
                raise ShapeError(f"weights[{i}] ({label}): has shape {w.shape}, so it takes {w.shape[1]} "
                                 f"input(s), but layer {i - 1} outputs {ws[-1].shape[0]} value(s) "
                                 f"(weights[{i - 1}] has shape {ws[-1].shape}); the (out, in) convention "
                                 "is used")
            _check_finite(w, f"weights[{i}] ({label})")
            if b is None:
                b = np.zeros(w.shape[0])
            else:
                b = _to_float64(b, f"biases[{i}] ({label})")
                if b.shape != (w.shape[0],):
                    raise ShapeError(f"biases[{i}] ({label}): has shape {b.shape}, expected "
                                     f"({w.shape[0]},) to match weights[{i}] of shape {w.shape}")
                _check_finite(b, f"biases[{i}] ({label})")
            ws.append(_freeze(w))
            bs.append(_freeze(b))
        acts = _resolve_activations(activation, n_layers - 1)
        for i, act in enumerate(acts):
            if not act.elementwise:
                _groupsort.check_width(ws[i].shape[0], act.group,
                                       f"activation of hidden layer {i} (after weights[{i}], "
                                       f"{_layer_label(i, n_layers)})")
        return cls(ws, bs, acts)

    @classmethod
    def from_npz(cls, path, activation=None) -> "Network":
        """Load a network saved as ``W1, b1, ..., WL, bL`` (the LipBaB format, also :meth:`to_npz`'s).

        Parameters
        ----------
        path : str or os.PathLike
            An ``.npz`` file; ``Wi`` of shape ``(out, in)``, ``bi`` of shape ``(out,)``.
        activation : str, Activation, sequence of them, or None, optional
            ``None`` (default): the activations stored under the key ``"activations"`` if the file has
            it (files written by :meth:`to_npz`), otherwise ReLU for every hidden layer (the LipBaB
            files).  Anything else overrides what the file stores.

        Returns
        -------
        Network

        Raises
        ------
        ShapeError
            Missing or unexpected keys, or shapes that do not chain (see :meth:`from_arrays`).
        """
        files = _load_npz(path)
        layers: dict[int, dict[str, np.ndarray]] = {}
        unexpected = []
        for key, arr in files.items():
            m = _NPZ_LAYER_KEY.match(key)
            if m:
                layers.setdefault(int(m.group(2)), {})[m.group(1)] = arr
            elif key != _NPZ_ACTIVATIONS_KEY:
                unexpected.append(key)
        if unexpected:
            raise ShapeError(f"{path}: unexpected key(s) {sorted(unexpected)}; expected W1, b1, ..., WL, bL "
                             f"and optionally {_NPZ_ACTIVATIONS_KEY!r}")
        if not layers:
            raise ShapeError(f"{path}: no W1/b1 keys found; expected W1, b1, ..., WL, bL")
        n_layers = max(layers)
        weights, biases = [], []
        for i in range(1, n_layers + 1):
            entry = layers.get(i, {})
            for kind in "Wb":
                if kind not in entry:
                    raise ShapeError(f"{path}: key {kind}{i} is missing (found layers up to {n_layers}); "
                                     f"expected W1, b1, ..., W{n_layers}, b{n_layers}")
            weights.append(entry["W"])
            biases.append(entry["b"])
        if activation is None:
            if _NPZ_ACTIVATIONS_KEY in files:
                stored = files[_NPZ_ACTIVATIONS_KEY]
                if stored.dtype.kind != "U" or stored.ndim != 1:
                    raise ShapeError(f"{path}: key {_NPZ_ACTIVATIONS_KEY!r} must be a 1-D array of strings, "
                                     f"got dtype {stored.dtype} and shape {stored.shape}")
                activation = [str(s) for s in stored]
            else:
                activation = "relu"
        return cls.from_arrays(weights, biases, activation)

    def to_npz(self, path) -> None:
        """Save in the ``W1, b1, ..., WL, bL`` format, plus the activation names under ``"activations"``.

        ``numpy.savez`` appends ``.npz`` to a path without that suffix.  The arrays are stored
        bit-exactly, so ``Network.from_npz(path) == self``.
        """
        arrays = {}
        for i, (w, b) in enumerate(zip(self.weights, self.biases), start=1):
            arrays[f"W{i}"] = w
            arrays[f"b{i}"] = b
        specs = [_activation_spec(a) for a in self.activations]
        arrays[_NPZ_ACTIVATIONS_KEY] = np.array(specs, dtype=str) if specs else np.array([], dtype="<U1")
        np.savez(path, **arrays)

    @classmethod
    def from_onnx(cls, model) -> "Network":
        """Import an ONNX model (path, bytes or ``onnx.ModelProto``); needs ``pip install 'lawrob[onnx]'``.

        A single chain of Gemm / MatMul + Add, Relu, LeakyRelu, Tanh, Sigmoid, Softplus, Flatten,
        Identity, Dropout and the GroupSort pattern of a PyTorch export; anything else is refused
        naming the node.  See :mod:`certify.model.onnx`.
        """
        from certify.model.onnx import from_onnx
        return from_onnx(model)

    @classmethod
    def from_torch(cls, module) -> "Network":
        """Convert a PyTorch module: an ``nn.Sequential``, or any ``nn.Module`` whose forward is a chain.

        Supported layers: ``Linear`` (with or without bias), ``ReLU``, ``LeakyReLU(negative_slope)``,
        ``Tanh``, ``Sigmoid``, ``Softplus(beta=1)``, ``Hardtanh(-1, 1)``, ``Identity`` and ``Dropout``
        in eval mode (no-ops), ``Flatten`` before the first ``Linear``, and nested ``Sequential``.
        GroupSort(G) written in a forward as ``x.view(x.size(0), -1, G).sort(dim=-1)[0]``
        ``.view(x.size(0), -1)`` (or ``reshape`` / ``unflatten``, ``torch.sort``, ``.values``,
        ``flatten(1)``) becomes ``"groupsort:G"``; a descending sort is GroupSort followed by a
        reversal of every block, folded exactly into the next ``Linear``'s columns.
        Other modules are traced with ``torch.fx`` (:mod:`certify.model.torch_import`): a forward
        that applies such layers (or ``torch.relu``, ``F.leaky_relu``, ``x.flatten(1)``, ...) one
        after the other is accepted.  Two ``Linear`` modules in a row get the identity activation
        between them.  The weights are converted exactly to float64
        (float32/float16/bfloat16 values are all float64 numbers), so the result is the mathematical
        network that the PyTorch weights define (a ``LeakyReLU`` slope is the Python float stored in
        the module, not its float32 rounding).

        Notes
        -----
        PyTorch's ``Softplus`` switches to the identity where ``beta * x > threshold`` (20 by default);
        the difference from the true softplus there is below ``exp(-20) ~ 2e-9``.  We certify the
        true softplus ``log(1 + exp(x))``, so results are about the mathematical function, not
        PyTorch's float32 evaluation of it.

        Raises
        ------
        UnsupportedError
            Any other layer (named, with what is supported; a sort over another axis, or of the
            indices, is not a GroupSort), a forward that is not a chain, a Dropout
            in training mode, an activation not preceded by a ``Linear``, or an activation after the
            last ``Linear`` (the output layer must be linear).
        ShapeError
            A GroupSort whose layer width is not divisible by ``G`` (or does not match the reshape).
        ImportError
            PyTorch is not installed (the message gives the install command).
        """
        from certify.model.torch_import import GroupSortStep, torch_chain
        chain = torch_chain(module)  # an ImportError saying how to install torch if it is missing
        import torch
        from torch import nn
        weights, biases, acts = [], [], []
        pending_act = None  # activation seen after the latest Linear
        pending_perm = None  # a GroupSort's output permutation (descending, MaxMin of halves): next Linear's columns
        for name, mod in chain:
            where = f"layer {name!r} ({type(mod).__name__})"
            if isinstance(mod, nn.Linear):
                if weights:
                    acts.append(pending_act if pending_act is not None else "identity")
                pending_act = None
                w = mod.weight.detach().to(device="cpu", dtype=torch.float64).numpy()
                if pending_perm is not None:
                    if w.shape[1] != len(pending_perm):
                        raise ShapeError(f"{where}: takes {w.shape[1]} inputs after a GroupSort of "
                                         f"width {len(pending_perm)}")
                    w, pending_perm = w[:, pending_perm], None   # exact: a column permutation
                weights.append(w)
                if mod.bias is None:
                    biases.append(None)
                else:
                    biases.append(mod.bias.detach().to(device="cpu", dtype=torch.float64).numpy())
                continue
            if isinstance(mod, nn.Identity):
                continue
            if isinstance(mod, nn.Flatten):
                if weights:
                    raise UnsupportedError(f"{where}: Flatten is only supported before the first Linear")
                continue
            perm = None
            if isinstance(mod, GroupSortStep) and weights and pending_act is None:
                spec, rows, perm = _torch_groupsort_spec(mod, weights[-1].shape[0], where)
                if rows is not None:   # exact: a row permutation of the layer before the GroupSort
                    weights[-1] = weights[-1][rows]
                    biases[-1] = None if biases[-1] is None else biases[-1][rows]
            elif isinstance(mod, GroupSortStep):
                spec = None   # refused below: no Linear before it, or two activations in a row
            else:
                spec = _torch_activation_spec(mod, nn, where)
            if not weights:
                raise UnsupportedError(f"{where}: an activation before the first Linear is not supported; "
                                       "the network must start with an affine layer")
            if pending_act is not None:
                raise UnsupportedError(f"{where}: two activations in a row are not supported")
            pending_act, pending_perm = spec, perm
        if not weights:
            raise UnsupportedError("from_torch: the module contains no nn.Linear layer")
        if pending_act is not None:
            raise UnsupportedError("from_torch: the last module is an activation; the output layer must be "
                                   "linear (drop the final activation, or certify a network without it)")
        return cls.from_arrays(weights, biases, acts)

    # -------------------------------------------------------------------------- architecture
    @property
    def input_dim(self) -> int:
        return int(self.weights[0].shape[1])

    @property
    def output_dim(self) -> int:
        return int(self.weights[-1].shape[0])

    @property
    def depth(self) -> int:
        """Number of affine layers."""
        return len(self.weights)

    @property
    def hidden_layers(self) -> int:
        return len(self.weights) - 1

    @property
    def widths(self) -> tuple[int, ...]:
        """Layer widths including input and output, e.g. ``(10, 15, 10, 3)``."""
        return (self.input_dim,) + tuple(int(w.shape[0]) for w in self.weights)

    @property
    def n_params(self) -> int:
        return int(sum(w.size + b.size for w, b in zip(self.weights, self.biases)))

    @property
    def piecewise_linear(self) -> bool:
        """Whether every activation is piecewise linear (so the network is piecewise affine)."""
        return all(a.piecewise_linear for a in self.activations)

    # -------------------------------------------------------------------------- evaluation
    def _check_input(self, x) -> np.ndarray:
        x = _to_float64(x, "x")
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_dim:
            raise ShapeError(f"x: expected shape ({self.input_dim},) or (N, {self.input_dim}), got {x.shape}")
        _check_finite(x, "x")
        return x

    def forward(self, x, return_preactivations: bool = False):
        """Evaluate the network.

        Parameters
        ----------
        x : array_like, shape (d,) or (N, d)
        return_preactivations : bool, optional
            Also return the list of pre-activations ``z_i = W_i a_{i-1} + b_i`` of every layer (the
            last one is the output).

        Returns
        -------
        numpy.ndarray of shape (m,) or (N, m), and the list of pre-activations if requested.
        """
        x = self._check_input(x)
        pre = []
        a = x
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = a @ w.T + b
            pre.append(z)
            if i < self.hidden_layers:
                a = self.activations[i](z)
        out = pre[-1]
        return (out, pre) if return_preactivations else out

    def __call__(self, x) -> np.ndarray:
        """``f(x)`` for ``x`` of shape ``(d,)`` (result ``(m,)``) or ``(N, d)`` (result ``(N, m)``)."""
        return self.forward(x)

    def preactivations(self, x) -> list[np.ndarray]:
        """Pre-activations of every layer at ``x`` (a list of ``depth`` arrays; the last is the output)."""
        return self.forward(x, return_preactivations=True)[1]

    def jacobian(self, x) -> np.ndarray:
        """Jacobian ``df/dx`` at ``x``: shape ``(m, d)`` for ``x`` of shape ``(d,)``, ``(N, m, d)`` for ``(N, d)``.

        At a kink of an activation the right derivative is used (ReLU'(0) = 1, ``|.|'(0) = 1``; a tie
        in a GroupSort block is broken by position); the result is then one element of the Clarke
        generalized Jacobian, not necessarily a derivative.
        """
        x = self._check_input(x)
        pre = self.forward(x, return_preactivations=True)[1]
        # Accumulate from the output side: J = W_L D_{L-1} W_{L-1} ... D_1 W_1.
        jac = np.broadcast_to(self.weights[-1], pre[0].shape[:-1] + self.weights[-1].shape)
        for i in range(self.hidden_layers - 1, -1, -1):
            act = self.activations[i]
            if act.elementwise:
                jac = jac * act.derivative(pre[i])[..., None, :]
            else:  # GroupSort: the sort permutation (ties broken by position)
                jac = _groupsort.permute_columns(jac, _groupsort.sort_permutation(pre[i], act.group))
            jac = jac @ self.weights[i]
        return np.array(jac)

    def activation_pattern(self, x) -> list[np.ndarray]:
        """Index of the linear piece each hidden neuron is in at ``x`` (piecewise-linear activations only).

        Piece ``k`` is the interval between breakpoints ``k - 1`` and ``k`` of the activation (piece 0
        lies left of every breakpoint).  A pre-activation exactly at a breakpoint belongs to the piece
        on its right, matching the right-derivative convention of :meth:`jacobian`, so that
        ``act.slopes[pattern] == act.derivative(z)``.

        Returns
        -------
        list of int arrays, one per hidden layer, each of shape ``(n_i,)`` or ``(N, n_i)``.

        Raises
        ------
        UnsupportedError
            If some activation is not piecewise linear.
        """
        for i, act in enumerate(self.activations):
            if not act.elementwise:
                raise UnsupportedError(f"activation_pattern: hidden layer {i} is {act.spec}, which has no "
                                       "scalar pieces (its pieces are the orderings of each block)")
            if not act.piecewise_linear:
                raise UnsupportedError(f"activation_pattern: activation {act.name!r} of hidden layer {i} "
                                       "is not piecewise linear")
        pre = self.preactivations(x)
        return [np.searchsorted(np.asarray(act.breakpoints, dtype=float), z, side="right").astype(np.int64)
                for act, z in zip(self.activations, pre)]

    # -------------------------------------------------------------------------- rigorous enclosures
    def _check_box(self, box) -> Interval:
        if not isinstance(box, Interval):
            raise ShapeError(f"box: expected a certify.arith.interval.Interval, got {type(box).__name__}; "
                             "build one with Interval(lo, hi)")
        if box.shape != (self.input_dim,):
            raise ShapeError(f"box: expected shape ({self.input_dim},), got {box.shape}")
        if not (np.all(np.isfinite(box.lo)) and np.all(np.isfinite(box.hi))):
            raise DomainError("box: endpoints must be finite")
        return box

    def interval_forward(self, box: Interval) -> list[Interval]:
        """Rigorous enclosures of every layer's pre-activations over an input box (interval bound propagation).

        Parameters
        ----------
        box : Interval of shape (d,)

        Returns
        -------
        list of Interval
            ``depth`` intervals; entry ``i`` contains ``W_i a_{i-1}(x) + b_i`` for every ``x`` in the box
            (the last one encloses the output).  Rigorous under IEEE binary64 round-to-nearest: the
            :class:`~certify.arith.interval.Interval` arithmetic rounds outward.
        """
        a = self._check_box(box)
        pre = []
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = w @ a + b
            pre.append(z)
            if i < self.hidden_layers:
                a = self.activations[i].interval(z)
        return pre

    def jacobian_interval(self, box: Interval, pre: list | None = None) -> Interval:
        """Rigorous enclosure, shape ``(m, d)``, of every Clarke generalized Jacobian of ``f`` over the box.

        Each elementwise activation contributes the interval of its (Clarke) derivative over the
        enclosure of its pre-activations (a GroupSort layer the permutations its blocks can take, see
        :func:`certify.model.groupsort.permute_columns_hull`) (from :meth:`interval_forward`, or ``pre`` when the caller has tighter
        rigorous enclosures of the hidden pre-activations over the same box); by the chain rule for
        Clarke Jacobians and the convexity of intervals, the interval product
        ``W_L D_{L-1} ... D_1 W_1`` contains them all.
        """
        if pre is None:
            pre = self.interval_forward(box)
        jac = Interval(self.weights[-1], self.weights[-1])
        for i in range(self.hidden_layers - 1, -1, -1):
            act = self.activations[i]
            if act.elementwise:
                jac = jac * act.derivative_interval(pre[i])[None, :]
            else:  # GroupSort: hull of the columns at the ranks each input can take
                jac = _groupsort.permute_columns_hull(jac, pre[i], act.group)
            jac = jac @ self.weights[i]
        return jac

    # -------------------------------------------------------------------------- derived networks
    def with_weights(self, weights=None, biases=None, activation=None) -> "Network":
        """A new network with some of the weights, biases or activations replaced (validated anew)."""
        return Network.from_arrays(self.weights if weights is None else weights,
                                   self.biases if biases is None else biases,
                                   list(self.activations) if activation is None else activation)

    def scaled(self, factor: float) -> "Network":
        """The network ``factor * f`` (output layer weights and bias multiplied by ``factor``).

        The new weights are the float64 products, rounded unless ``factor`` is a power of two; the
        result is a new network in its own right, not an enclosure of ``factor * f``.
        """
        factor = _to_float64(factor, "factor")
        if factor.ndim != 0 or not np.isfinite(factor):
            raise DomainError(f"factor: must be a finite real scalar, got {factor.tolist()!r}")
        ws = list(self.weights[:-1]) + [self.weights[-1] * factor]
        bs = list(self.biases[:-1]) + [self.biases[-1] * factor]
        return Network.from_arrays(ws, bs, list(self.activations))

    def as_two_layer(self):
        """Return ``(W, b, a)`` with ``f(x) = sum_l a_l psi(w_l . x + b_l)`` (the class F_k(psi) of BLN21).

        Raises
        ------
        ShapeError
            If the network does not have exactly two layers and one output.
        DomainError
            If the output bias is not zero (F_k(psi) has no output bias).
        """
        if self.depth != 2 or self.output_dim != 1:
            raise ShapeError(f"as_two_layer: the network has widths {self.widths}; the two-layer class "
                             "F_k(psi) needs widths (d, k, 1)")
        if not self.activations[0].elementwise:
            raise UnsupportedError(f"as_two_layer: {self.activations[0].spec} is not elementwise; the class "
                                   "F_k(psi) is a sum of neurons psi(w_l . x + b_l)")
        if self.biases[1][0] != 0.0:
            raise DomainError(f"as_two_layer: output bias is {float(self.biases[1][0])!r}; F_k(psi) has no output bias")
        return self.weights[0], self.biases[0], self.weights[1][0]

    # -------------------------------------------------------------------------- value semantics
    def _key(self):
        return (tuple(_act_key(a) for a in self.activations),
                tuple(w.shape for w in self.weights))

    def __eq__(self, other):
        if not isinstance(other, Network):
            return NotImplemented
        if self._key() != other._key():
            return False
        return all(np.array_equal(u, v) for u, v in zip(self.weights + self.biases,
                                                          other.weights + other.biases))

    def __hash__(self):
        if self._hash is None:
            digest = hashlib.sha256()
            for arr in self.weights + self.biases:
                # +0.0 and -0.0 compare equal, so hash them alike.
                digest.update(np.ascontiguousarray(arr + 0.0).tobytes())
            object.__setattr__(self, "_hash", hash((self._key(), digest.hexdigest())))
        return self._hash

    def __repr__(self):
        arch = " -> ".join(str(n) for n in self.widths)
        acts = ", ".join(_activation_spec(a) for a in self.activations)
        return f"Network({arch}, activations=[{acts}], n_params={self.n_params})"


def _torch_groupsort_spec(step, width: int, where: str):
    """``("groupsort:G", rows, columns)`` for a GroupSort of a layer of ``width`` neurons.

    ``rows`` (or None) reorders the previous layer's rows, ``columns`` (or None) the next layer's
    columns; both are exact permutations that make the toolkit's block layout compute the module.
    """
    _groupsort.check_width(width, step.G, where)
    for what, n in (("blocks", step.blocks), ("flattened width", step.width)):
        if n is not None and n != (width // step.G if what == "blocks" else width):
            raise ShapeError(f"{where}: the forward reshapes a layer of width {width} to {n} {what} "
                             f"(GroupSort with G={step.G} needs {width // step.G} blocks of {step.G})")
    if step.halves:
        # pairs (i, i + h) become the consecutive blocks (2i, 2i + 1) by reordering the previous
        # layer's rows; GroupSort puts min_i at 2i and max_i at 2i + 1, and the module's output k
        # is neuron out[k] of it, so the next layer takes the columns argsort(out)
        h = width // 2
        rows = np.arange(width).reshape(2, h).T.reshape(-1)
        lo, hi = 2 * np.arange(h), 2 * np.arange(h) + 1
        out = np.concatenate([hi, lo] if step.halves == "max_first" else [lo, hi])
        return "groupsort:2", rows, np.argsort(out)
    return (f"groupsort:{step.G}", None,
            _groupsort.block_reversal(width, step.G) if step.descending else None)


def _torch_activation_spec(mod, nn, where: str) -> str:
    """The activation spec of a PyTorch activation module, or UnsupportedError."""
    if isinstance(mod, nn.ReLU):
        return "relu"
    if isinstance(mod, nn.LeakyReLU):
        return f"leaky_relu:{float(mod.negative_slope)!r}"
    if isinstance(mod, nn.Tanh):
        return "tanh"
    if isinstance(mod, nn.Sigmoid):
        return "sigmoid"
    if isinstance(mod, nn.Softplus):
        if float(mod.beta) != 1.0:
            raise UnsupportedError(f"{where}: Softplus with beta={mod.beta} is not supported (only beta=1)")
        return "softplus"
    if isinstance(mod, nn.Hardtanh) and not isinstance(mod, nn.ReLU6):
        if (float(mod.min_val), float(mod.max_val)) != (-1.0, 1.0):
            raise UnsupportedError(f"{where}: Hardtanh({mod.min_val}, {mod.max_val}) is not supported "
                                   "(only Hardtanh(-1, 1))")
        return "hardtanh"
    from certify.model.torch_import import SUPPORTED_TEXT
    raise UnsupportedError(f"{where} is not supported; {SUPPORTED_TEXT}")


def two_layer(W, a, b=None, activation="relu") -> Network:
    """The two-layer network ``f(x) = sum_l a_l psi(w_l . x + b_l)`` of the class F_k(psi) [BLN21].

    Parameters
    ----------
    W : array_like, shape (k, d)
        Rows are the neuron weights ``w_l``.
    a : array_like, shape (k,)
        Output weights.
    b : array_like, shape (k,), optional
        Neuron biases (zeros if omitted).  There is no output bias.
    activation : str or Activation
        ``psi``.

    Returns
    -------
    Network
        With widths ``(d, k, 1)`` and zero output bias; :meth:`Network.as_two_layer` inverts it.
    """
    W_arr = _to_float64(W, "W")
    a_arr = _to_float64(a, "a")
    if W_arr.ndim != 2:
        raise ShapeError(f"W: must be a 2-D (k, d) matrix whose rows are the neuron weights, got shape {W_arr.shape}")
    if a_arr.shape != (W_arr.shape[0],):
        raise ShapeError(f"a: has shape {a_arr.shape}, expected ({W_arr.shape[0]},), one output weight per "
                         f"row of W (W has shape {W_arr.shape})")
    if isinstance(activation, (list, tuple)):
        raise ShapeError("activation: a two-layer network has one activation psi, not a list")
    return Network.from_arrays([W_arr, a_arr[None, :]], [b, np.zeros(1)], activation)
