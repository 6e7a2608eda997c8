"""Import feed-forward networks from ONNX (optional dependency: ``pip install lawrob[onnx]``).

:func:`from_onnx` (also :meth:`certify.Network.from_onnx`) reads a graph that is a single chain

``input -> [Flatten] -> affine -> activation -> affine -> ... -> affine -> output``

where an affine layer is ``Gemm`` (``alpha = beta = 1``, ``transA = 0``) or ``MatMul`` optionally
followed by ``Add`` of a constant, with weights from initializers or ``Constant`` nodes, and an
activation is ``Relu``, ``LeakyRelu``, ``Tanh``, ``Sigmoid``, ``Softplus`` or GroupSort written as
PyTorch exports ``x.reshape(-1, n // G, G).sort(dim=-1).values.reshape(-1, n)``:
``Reshape -> TopK(k = G, last axis, sorted) -> Reshape`` with constant shapes (``largest = 1``, a
descending sort, is GroupSort followed by a reversal of every block, which is folded exactly into
the next layer's columns).  ``Identity``, ``Dropout`` (inference) and ``Flatten`` (``axis = 1``)
are no-ops.

Everything is validated before a :class:`~certify.model.network.Network` is built, so a refused
model never yields a partial network.  Errors name the node (op type and name):

* :class:`~certify.errors.UnsupportedError`: an operator outside the list, a branch (a tensor used
  twice, several graph inputs/outputs), a dynamic shape other than the leading batch dimension, a
  non-constant weight or shape, an activation at the output;
* :class:`~certify.errors.DomainError`: NaN or infinite initializers, external-data files that are
  missing;
* :class:`~certify.errors.ShapeError`: shapes that do not chain.

Weights are converted exactly to float64: the network certified is the mathematical network that
the stored (float32) weights define, evaluated in exact arithmetic, not ONNX Runtime's float32
evaluation of it.
"""

from __future__ import annotations

import math
import os

import numpy as np

from certify.errors import DomainError, ShapeError, UnsupportedError
from certify.model.groupsort import block_reversal

__all__ = ["from_onnx", "SUPPORTED_OPS"]

SUPPORTED_OPS = ("Gemm", "MatMul", "Add", "Relu", "LeakyRelu", "Tanh", "Sigmoid", "Softplus",
                 "Flatten", "Identity", "Dropout", "Reshape", "TopK", "Constant")
# integer shape computations that exporters emit around Reshape/TopK (evaluated, never on the data path)
_SHAPE_OPS = ("Shape", "Gather", "Concat", "Unsqueeze", "Squeeze", "Div", "Mul", "Cast", "Slice", "Reshape",
              "Constant")
_ACTIVATIONS = {"Relu": "relu", "Tanh": "tanh", "Sigmoid": "sigmoid", "Softplus": "softplus"}


def _onnx():
    try:
        import onnx
    except ImportError:
        raise UnsupportedError("ONNX import needs the 'onnx' package: pip install 'lawrob[onnx]'") from None
    return onnx


def _label(node) -> str:
    return f"node {node.name or '<unnamed>'!r} ({node.op_type})"


def _load(model):
    """A ModelProto with its external data loaded; typed errors for missing files."""
    onnx = _onnx()
    from onnx import external_data_helper as edh

    base = None
    if isinstance(model, (str, os.PathLike)):
        path = os.fspath(model)
        if not os.path.exists(path):
            raise DomainError(f"from_onnx: file {path!r} does not exist")
        try:
            proto = onnx.load(path, load_external_data=False)
        except Exception as exc:  # protobuf decode errors have no common base
            raise DomainError(f"from_onnx: {path!r} is not a readable ONNX model ({exc})") from exc
        base = os.path.dirname(os.path.abspath(path))
    elif isinstance(model, onnx.ModelProto):
        proto = model
    elif isinstance(model, (bytes, bytearray)):
        proto = onnx.load_from_string(bytes(model))
    else:
        raise UnsupportedError(f"from_onnx: expected a path, bytes or onnx.ModelProto, got {type(model).__name__}")
    consumers = _consumers(proto.graph)
    for t in proto.graph.initializer:
        if not edh.uses_external_data(t):
            continue
        info = {e.key: e.value for e in t.external_data}
        users = ", ".join(_label(n) for n in consumers.get(t.name, [])) or "no node"
        if base is None:
            raise DomainError(f"from_onnx: initializer {t.name!r} (used by {users}) keeps its data in the "
                              f"external file {info.get('location')!r}; pass the model's path so the "
                              "file can be found next to it")
        loc = os.path.join(base, info.get("location", ""))
        if not os.path.isfile(loc):
            raise DomainError(f"from_onnx: initializer {t.name!r} (used by {users}) needs the external data "
                              f"file {loc!r}, which is missing")
    if base is not None:
        try:
            edh.load_external_data_for_model(proto, base)
        except Exception as exc:
            raise DomainError(f"from_onnx: cannot read external data ({exc})") from exc
    return proto


def _consumers(graph) -> dict:
    out: dict = {}
    for node in graph.node:
        for name in node.input:
            if name:
                out.setdefault(name, []).append(node)
    return out


def _attrs(node) -> dict:
    from onnx import helper
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _constants(graph) -> dict:
    """Initializers and Constant-node outputs as numpy arrays (validated finite)."""
    from onnx import numpy_helper
    consts = {}
    consumers = _consumers(graph)
    for t in graph.initializer:
        consts[t.name] = numpy_helper.to_array(t)
    for node in graph.node:
        if node.op_type == "Constant":
            a = _attrs(node)
            if "value" not in a:
                raise UnsupportedError(f"{_label(node)}: only Constant nodes with a tensor 'value' are supported")
            consts[node.output[0]] = numpy_helper.to_array(a["value"])
    for name, arr in consts.items():
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            users = ", ".join(_label(n) for n in consumers.get(name, [])) or "no node"
            bad = np.argwhere(~np.isfinite(arr))[0]
            raise DomainError(f"from_onnx: initializer {name!r} (used by {users}) contains a non-finite "
                              f"value ({float(arr[tuple(bad)])!r} at index {tuple(int(i) for i in bad)})")
    return consts


def _static_dims(vi, what) -> list:
    """Dims of a graph input/output; the leading (batch) dim may be symbolic, the others not."""
    tt = vi.type.tensor_type
    if not tt.HasField("shape"):
        raise UnsupportedError(f"from_onnx: {what} {vi.name!r} has no static shape")
    dims = []
    for k, d in enumerate(tt.shape.dim):
        if d.HasField("dim_value") and d.dim_value > 0:
            dims.append(int(d.dim_value))
        elif k == 0 and len(tt.shape.dim) > 1:
            dims.append(None)  # batch
        else:
            raise UnsupportedError(f"from_onnx: {what} {vi.name!r} has a dynamic dimension {k} "
                                   f"({d.dim_param or '?'}); only the leading batch dimension may be dynamic")
    return dims


class _Builder:
    """Accumulates layers while walking the chain; nothing is built until the walk succeeds."""

    def __init__(self, d):
        self.width = d           # current feature width
        self.weights, self.biases, self.acts = [], [], []
        self.last = "input"      # "input", "affine" or "activation"
        self.pending_perm = None  # column permutation to fold into the next affine layer

    def affine(self, W, b, node):
        W = np.asarray(W)
        if W.ndim != 2 or W.shape[1] != self.width:
            raise ShapeError(f"{_label(node)}: weight of shape {W.shape} does not take the current width "
                             f"{self.width} (expected (out, {self.width}) after orientation)")
        if self.pending_perm is not None:
            W = W[:, self.pending_perm]   # exact: a column permutation
            self.pending_perm = None
        if self.last == "affine":
            self.acts.append("identity")
        self.weights.append(W)
        self.biases.append(None if b is None else np.asarray(b).reshape(-1))
        self.width = W.shape[0]
        self.last = "affine"

    def add_bias(self, c, node):
        if self.last != "affine" or self.biases[-1] is not None:
            raise UnsupportedError(f"{_label(node)}: Add is supported only as the bias of a MatMul "
                                   "(adding to an existing bias would round)")
        c = np.asarray(c)
        if c.size == 1:
            c = np.broadcast_to(c.reshape(-1), (self.width,))
        if c.reshape(-1).shape != (self.width,) or c.ndim > 2 or (c.ndim == 2 and c.shape[0] != 1):
            raise ShapeError(f"{_label(node)}: bias of shape {c.shape} does not match width {self.width}")
        self.biases[-1] = c.reshape(-1)

    def activation(self, spec, node):
        if self.last != "affine":
            what = "before the first affine layer" if self.last == "input" else "right after another activation"
            raise UnsupportedError(f"{_label(node)}: an activation {what} is not supported")
        self.acts.append(spec)
        self.last = "activation"


def _float_attr(v) -> float:
    return float(v)


def from_onnx(model):
    """Build a :class:`~certify.model.network.Network` from an ONNX model (path, bytes or ModelProto).

    See the module docstring for the supported graphs.

    Raises
    ------
    UnsupportedError, DomainError, ShapeError
        Naming the offending node (op type and name), initializer or input.
    """
    from certify.model.network import Network

    proto = _load(model)
    g = proto.graph
    consts = _constants(g)
    consumers = _consumers(g)
    inputs = [vi for vi in g.input if vi.name not in consts]
    if len(inputs) != 1:
        raise UnsupportedError(f"from_onnx: the graph must have exactly one data input, found "
                               f"{[vi.name for vi in inputs]}")
    if len(g.output) != 1:
        raise UnsupportedError(f"from_onnx: the graph must have exactly one output, found "
                               f"{[vi.name for vi in g.output]}")
    dims = _static_dims(inputs[0], "input")
    feat = dims[1:] if dims[0] is None or len(dims) > 1 else dims
    flat_d = int(np.prod(feat))
    b = _Builder(flat_d if len(feat) == 1 else None)
    flat = len(feat) == 1
    out_name = g.output[0].name
    for node in g.node:   # every non-Constant node must be on the chain: checked by counting below
        if node.op_type not in SUPPORTED_OPS + _SHAPE_OPS:
            raise UnsupportedError(f"from_onnx: {_label(node)} is not supported; supported operators: "
                                   + ", ".join(op for op in SUPPORTED_OPS if op != "Constant")
                                   + " (and the Reshape -> TopK -> Reshape GroupSort pattern)")
    data_nodes = [n for n in g.node if n.op_type != "Constant"]
    used = set()
    cur = inputs[0].name
    producer = {t: n for n in g.node for t in n.output if t}
    shapes = {cur: tuple(dims)}   # shapes of chain tensors (None: the batch dimension)

    def next_node(tensor):
        users = [n for n in consumers.get(tensor, []) if n.op_type not in ("Constant", "Shape")]
        is_out = tensor == out_name
        if len(users) + is_out > 1:
            raise UnsupportedError(f"from_onnx: tensor {tensor!r} feeds "
                                   + ", ".join([_label(n) for n in users] + (["the graph output"] if is_out else []))
                                   + "; graphs with branches are not supported")
        return users[0] if users else None

    def data_inputs(node):
        if node.op_type in ("Reshape", "TopK"):   # the second input is a (possibly computed) shape / k
            return [node.input[0]]
        return [t for t in node.input if t and t not in consts]

    def const(node, name, what):
        if name in consts:
            return consts[name]
        # a shape computed from static shapes (Shape -> Gather -> ...): evaluate it for two batch
        # sizes; it is a constant only if both agree
        try:
            vals = [_eval_shape(name, producer, consts, shapes, batch, used) for batch in (2, 3)]
        except _NotShape as exc:
            raise UnsupportedError(f"{_label(node)}: its {what} {name!r} is neither a constant nor a "
                                   f"static shape computation ({exc}); computed weights or shapes are "
                                   "not supported") from None
        if vals[0].shape != vals[1].shape or not np.array_equal(vals[0], vals[1]):
            raise UnsupportedError(f"{_label(node)}: its {what} {name!r} depends on the batch size")
        return vals[0]

    while True:
        node = next_node(cur)
        if node is None:
            break
        if id(node) in used:
            raise UnsupportedError(f"from_onnx: {_label(node)} is reached twice (a cycle or branch)")
        used.add(id(node))
        ins = data_inputs(node)
        if ins != [cur]:
            raise UnsupportedError(f"from_onnx: {_label(node)} has data inputs {ins}; only a chain in which "
                                   "every node takes the previous node's output is supported (branches, "
                                   "residual connections and computed weights are not)")
        op, a = node.op_type, _attrs(node)
        outs = [t for t in node.output if t]
        if flat and b.width is not None:
            shapes[cur] = (None, b.width)
        if op == "Dropout":
            if len(node.input) > 2 and node.input[2]:
                mode = const(node, node.input[2], "training_mode")
                if bool(np.asarray(mode).reshape(-1)[0]):
                    raise UnsupportedError(f"{_label(node)}: Dropout in training mode is random; export in eval mode")
            if len(outs) > 1 and consumers.get(outs[1]):
                raise UnsupportedError(f"{_label(node)}: the Dropout mask output is used")
        elif op == "Identity":
            pass
        elif op == "Flatten":
            if int(a.get("axis", 1)) != 1:
                raise UnsupportedError(f"{_label(node)}: only Flatten(axis=1) is supported")
            if not flat:
                if b.last != "input":
                    raise UnsupportedError(f"{_label(node)}: Flatten of a multi-dimensional tensor is only "
                                           "supported before the first affine layer")
                b.width, flat = flat_d, True
        elif op in ("Gemm", "MatMul"):
            if not flat:
                raise UnsupportedError(f"{_label(node)}: input of shape {dims} must be flattened first")
            if op == "Gemm":
                if a.get("transA", 0) or _float_attr(a.get("alpha", 1.0)) != 1.0 \
                        or _float_attr(a.get("beta", 1.0)) != 1.0:
                    raise UnsupportedError(f"{_label(node)}: only Gemm with alpha = beta = 1 and transA = 0 is "
                                           "supported (scaling would round the weights)")
                B = const(node, node.input[1], "weight")
                W = B if a.get("transB", 0) else np.asarray(B).T
                C = const(node, node.input[2], "bias") if len(node.input) > 2 and node.input[2] else None
                if C is not None:
                    C = np.asarray(C)
                    if C.size == 1 and W.shape[0] != 1:
                        C = np.broadcast_to(C.reshape(-1), (W.shape[0],))
                    if C.reshape(-1).shape != (W.shape[0],):
                        raise ShapeError(f"{_label(node)}: bias of shape {C.shape} does not match {W.shape[0]} outputs")
                b.affine(W, C, node)
            else:
                B = np.asarray(const(node, node.input[1], "weight"))
                if B.ndim != 2:
                    raise UnsupportedError(f"{_label(node)}: MatMul with a {B.ndim}-D weight is not supported")
                b.affine(B.T, None, node)
        elif op == "Add":
            other = [t for t in node.input if t != cur]
            if len(other) != 1:
                raise UnsupportedError(f"{_label(node)}: Add of the data with itself is not supported")
            b.add_bias(const(node, other[0], "addend"), node)
        elif op in _ACTIVATIONS:
            b.activation(_ACTIVATIONS[op], node)
        elif op == "LeakyRelu":
            b.activation(f"leaky_relu:{_float_attr(a.get('alpha', 0.01))!r}", node)
        elif op == "Reshape":
            shapes[cur] = (None, b.width)
            cur = _groupsort_pattern(node, b, const, next_node, data_inputs, used, flat, shapes)
            continue
        else:   # TopK without the Reshape before it
            raise UnsupportedError(f"from_onnx: {_label(node)} is supported only inside the GroupSort pattern "
                                   "Reshape -> TopK -> Reshape")
        if len(outs) != 1 and op != "Dropout":
            raise UnsupportedError(f"{_label(node)}: nodes with several outputs are not supported")
        cur = outs[0]
    if cur != out_name:
        raise UnsupportedError(f"from_onnx: the chain from the input ends at tensor {cur!r}, not at the graph "
                               f"output {out_name!r}")
    missed = [n for n in data_nodes if id(n) not in used]
    if missed:
        raise UnsupportedError(f"from_onnx: {_label(missed[0])} is not on the input-to-output chain; "
                               "graphs with branches or unused nodes are not supported")
    if not b.weights:
        raise UnsupportedError("from_onnx: the graph has no affine layer (Gemm or MatMul)")
    if b.last != "affine":
        raise UnsupportedError("from_onnx: the graph ends with an activation; the output layer must be affine")
    if b.pending_perm is not None:
        raise UnsupportedError("from_onnx: a descending GroupSort right before the output is not supported")
    return Network.from_arrays(b.weights, b.biases, b.acts)


class _NotShape(Exception):
    pass


def _eval_shape(name, producer, consts, shapes, batch, used):
    """Value of an integer tensor computed from static shapes, with the batch dimension ``batch``."""
    from onnx import helper

    if name in consts:
        return np.asarray(consts[name])
    if name in shapes:
        raise _NotShape(f"{name!r} is data, not a shape")
    node = producer.get(name)
    if node is None or node.op_type not in _SHAPE_OPS:
        raise _NotShape(f"{name!r} comes from " + ("nowhere" if node is None else _label(node)))
    a = _attrs(node)
    op = node.op_type
    if op == "Shape":
        src = node.input[0]
        if src not in shapes:
            raise _NotShape(f"{_label(node)} takes the shape of {src!r}, whose shape is not known")
        full = np.array([batch if v is None else v for v in shapes[src]], dtype=np.int64)
        out = full[a.get("start", 0):a.get("end", len(full))]
    else:
        ins = [_eval_shape(t, producer, consts, shapes, batch, used) if t else None for t in node.input]
        if op == "Gather":
            out = np.take(ins[0], ins[1], axis=a.get("axis", 0))
        elif op == "Concat":
            out = np.concatenate([np.atleast_1d(v) for v in ins], axis=a.get("axis", 0))
        elif op in ("Unsqueeze", "Squeeze"):
            axes = a.get("axes", None) if len(ins) < 2 or ins[1] is None else ins[1].tolist()
            out = ins[0]
            if op == "Unsqueeze":
                for ax in sorted(int(x) % (out.ndim + len(axes)) for x in axes):
                    out = np.expand_dims(out, ax)
            else:
                out = np.squeeze(out, axis=None if axes is None else tuple(int(x) for x in axes))
        elif op == "Div":
            if ins[0].dtype.kind not in "iu" or ins[1].dtype.kind not in "iu":
                raise _NotShape(f"{_label(node)} divides non-integers")
            out = np.trunc(ins[0] / ins[1]).astype(ins[0].dtype)
        elif op == "Mul":
            out = ins[0] * ins[1]
        elif op == "Cast":
            out = ins[0].astype(helper.tensor_dtype_to_np_dtype(a["to"]))
        elif op == "Reshape":
            shape = [int(v) for v in ins[1].reshape(-1)]
            shape = [ins[0].shape[i] if v == 0 and not a.get("allowzero", 0) else v for i, v in enumerate(shape)]
            out = ins[0].reshape(shape)
        elif op == "Slice":
            starts, ends = ins[1].tolist(), ins[2].tolist()
            axes = ins[3].tolist() if len(ins) > 3 and ins[3] is not None else list(range(len(starts)))
            steps = ins[4].tolist() if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
            sl = [slice(None)] * ins[0].ndim
            for st, en, ax, sp in zip(starts, ends, axes, steps):
                sl[ax] = slice(st, en, sp)
            out = ins[0][tuple(sl)]
        else:
            raise _NotShape(f"{_label(node)} is not a shape computation")
    out = np.asarray(out)
    if out.dtype.kind not in "iu":
        raise _NotShape(f"{_label(node)} gives a non-integer tensor")
    used.add(id(node))
    return out


def _groupsort_pattern(node, b, const, next_node, data_inputs, used, flat, shapes):
    """``Reshape(-1, n/G, G) -> TopK(k=G, axis=-1, sorted) -> Reshape(-1, n)`` as GroupSort(G).

    Returns the name of the pattern's output tensor.
    """
    n = b.width
    shape1 = np.asarray(const(node, node.input[1], "shape")).reshape(-1).tolist()
    if not flat or len(shape1) != 3 or shape1[0] not in (-1, 0, 1) or int(shape1[1]) * int(shape1[2]) != n \
            or min(shape1[1:]) < 1:
        raise UnsupportedError(f"from_onnx: {_label(node)}: Reshape is supported only as the start of the "
                               f"GroupSort pattern, reshaping the width {n} to (-1, n/G, G); got shape {shape1}")
    G = int(shape1[2])
    shapes[node.output[0]] = (None, n // G, G)
    topk = next_node(node.output[0])
    if topk is None or topk.op_type != "TopK":
        raise UnsupportedError(f"from_onnx: {_label(node)}: a Reshape must be followed by TopK (GroupSort pattern)")
    used.add(id(topk))
    if topk.input[0] != node.output[0]:
        raise UnsupportedError(f"from_onnx: {_label(topk)}: expected to sort the output of {_label(node)}")
    ta = {x.name: x for x in topk.attribute}
    from onnx import helper
    ta = {k: helper.get_attribute_value(v) for k, v in ta.items()}
    k = int(np.asarray(const(topk, topk.input[1], "k")).reshape(-1)[0])
    axis = int(ta.get("axis", -1))
    if k != G or axis not in (-1, 2) or not int(ta.get("sorted", 1)):
        raise UnsupportedError(f"from_onnx: {_label(topk)}: only a full sorted TopK over the last axis "
                               f"(k = {G}) is GroupSort; got k={k}, axis={axis}")
    outs = list(topk.output)
    if len(outs) > 1 and outs[1] and next_node(outs[1]) is not None:
        raise UnsupportedError(f"from_onnx: {_label(topk)}: the indices output is used (not a GroupSort)")
    reshape2 = next_node(outs[0])
    if reshape2 is None or reshape2.op_type != "Reshape":
        raise UnsupportedError(f"from_onnx: {_label(topk)}: TopK must be followed by a Reshape back to (-1, {n})")
    used.add(id(reshape2))
    if reshape2.input[0] != outs[0]:
        raise UnsupportedError(f"from_onnx: {_label(reshape2)}: expected to reshape the output of {_label(topk)}")
    shape2 = np.asarray(const(reshape2, reshape2.input[1], "shape")).reshape(-1).tolist()
    if len(shape2) != 2 or shape2[0] not in (-1, 0, 1) or int(shape2[1]) not in (n, -1):
        raise UnsupportedError(f"from_onnx: {_label(reshape2)}: expected a reshape back to (-1, {n}), got {shape2}")
    b.activation(f"groupsort:{G}", node)
    if int(ta.get("largest", 1)):
        # descending: ascending sort followed by reversing every block, folded into the next layer
        b.pending_perm = block_reversal(n, G)
    return reshape2.output[0]
