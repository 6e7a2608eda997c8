"""The layer chain of a PyTorch module, for :meth:`certify.Network.from_torch`.

Any ``nn.Module`` whose ``forward`` is a chain (each step feeds only the next one) is accepted:
``nn.Sequential`` trees are read directly, other modules are traced with ``torch.fx``.  Steps are
modules (``self.fc1``), or the functional forms of the supported activations (``torch.relu``,
``F.relu``, ``F.leaky_relu``, ``torch.tanh``, ``torch.sigmoid``, ``F.softplus``, ``F.hardtanh``)
and flattening (``torch.flatten``, ``x.flatten(1)``, ``x.view(x.size(0), -1)``), which become the
equivalent modules.  GroupSort(G) is recognised as PyTorch users write it: a view of the layer as
``(batch, width/G, G)`` (``view``, ``reshape``, ``torch.reshape``, ``unflatten``), a sort of its
last axis (``.sort(dim=-1)`` or ``torch.sort``, values via ``[0]`` or ``.values``), and a flatten
back to ``(batch, width)``; it becomes a :class:`GroupSortStep` (a descending sort is marked, and
folded exactly into the next ``Linear``'s columns by the caller), and so is MaxMin of the two
halves, ``torch.cat([torch.max(a, b), torch.min(a, b)], dim=1)`` of ``a, b = x.chunk(2, dim=1)``
(a permutation of MaxMin on both sides).  ``nn.Dropout`` and ``nn.Identity`` are no-ops in eval
mode and are dropped; a Dropout in training mode is refused (call ``model.eval()`` first).
Anything else is refused with the layer's name and the list of what is supported.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

from certify.errors import UnsupportedError

__all__ = ["torch_chain", "GroupSortStep", "SUPPORTED_TEXT", "INSTALL_HINT"]

SUPPORTED_TEXT = ("supported: Linear, ReLU, LeakyReLU, Tanh, Sigmoid, Softplus(beta=1), "
                  "Hardtanh(-1, 1), Identity, Dropout (eval mode), Flatten (before the first Linear), "
                  "nested Sequential, GroupSort written as x.view(x.size(0), -1, G).sort(dim=-1)[0]"
                  ".view(x.size(0), -1) (or reshape/unflatten, torch.sort, .values, flatten(1)), "
                  "MaxMin as torch.cat([torch.max(a, b), torch.min(a, b)], dim=1) of "
                  "a, b = x.chunk(2, dim=1), "
                  "and modules whose forward chains these (traced with torch.fx)")


@dataclass(frozen=True)
class GroupSortStep:
    """A GroupSort(G) found in a traced forward; widths are checked when the layers are known.

    ``blocks`` / ``width`` are the explicit number of blocks and flattened width the forward
    wrote (``None`` where it wrote ``-1``); ``descending`` means every block is sorted descending.
    With ``halves`` set, the neuron pairs are ``(i, i + width/2)`` and the outputs are the maxima
    then the minima (or the reverse): a permutation of MaxMin on both sides, which the caller folds
    exactly into the rows of the previous ``Linear`` and the columns of the next.
    """
    G: int
    descending: bool = False
    blocks: int | None = None
    width: int | None = None
    halves: str | None = None   # "max_first" / "min_first": torch.cat([max(a, b), min(a, b)]) of
                                # a, b = x.chunk(2, dim=1) (G = 2, pairs (i, i + width/2))

INSTALL_HINT = ("Network.from_torch needs PyTorch, an optional extra: from a clone of lawrob, "
                "pip install -e \".[torch]\" (for the CPU-only torch wheel, first: pip install torch "
                "--index-url https://download.pytorch.org/whl/cpu)")


def _dropouts(nn):
    return tuple(getattr(nn, n) for n in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d",
                                          "AlphaDropout", "FeatureAlphaDropout") if hasattr(nn, n))


def torch_chain(module) -> list[tuple[str, object]]:
    """The steps of ``module`` in order, as ``(name, nn.Module)`` pairs, no-ops removed.

    Raises
    ------
    ImportError
        PyTorch is not installed (the message says how to install it).
    UnsupportedError
        A step that is not a layer, a forward that is not a chain, a Dropout in training mode.
    """
    try:
        import torch  # optional dependency
        from torch import nn
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    if not isinstance(module, nn.Module):
        raise UnsupportedError(f"from_torch expects a torch.nn.Module, got {type(module).__name__}")
    steps: list[tuple[str, object]] = []
    _collect(module, "", steps, torch, nn)
    out = []
    for name, mod in steps:
        if isinstance(mod, _dropouts(nn)):
            if mod.training:
                raise UnsupportedError(f"layer {name!r} ({type(mod).__name__}) is in training mode, "
                                       "where it is random: call model.eval() first")
            continue
        if isinstance(mod, nn.Identity):
            continue
        out.append((name, mod))
    return out


def _collect(module, prefix, steps, torch, nn):
    if isinstance(module, nn.Sequential):
        for name, child in module.named_children():
            _collect(child, f"{prefix}{name}.", steps, torch, nn)  # names as in named_modules()
        return
    if type(module).__module__.startswith("torch.nn"):  # a library layer: checked by the caller
        steps.append((prefix.rstrip(".") or type(module).__name__, module))
        return
    _trace(module, prefix, steps, torch, nn)


def _trace(module, prefix, steps, torch, nn):
    """A user-defined module: trace its forward with torch.fx and read the chain off the graph."""
    import torch.fx
    import torch.nn.functional as F

    what = type(module).__name__
    try:
        graph = torch.fx.symbolic_trace(module).graph
    except Exception as exc:  # fx raises many kinds (TraceError, TypeError, ...)
        raise UnsupportedError(f"module {what} could not be traced with torch.fx ({exc}); write its "
                               "forward as a plain chain of layers, or as nn.Sequential; "
                               + SUPPORTED_TEXT) from None
    functional = {
        torch.relu: nn.ReLU, F.relu: nn.ReLU, torch.tanh: nn.Tanh, F.tanh: nn.Tanh,
        torch.sigmoid: nn.Sigmoid, F.sigmoid: nn.Sigmoid, F.softplus: nn.Softplus,
        F.hardtanh: nn.Hardtanh, F.leaky_relu: nn.LeakyReLU, torch.flatten: nn.Flatten,
        F.dropout: nn.Dropout,
    }
    methods = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "flatten": nn.Flatten,
               "view": nn.Flatten, "reshape": nn.Flatten}
    prev = None
    skip = set()   # nodes matched as part of a GroupSort
    for node in graph.nodes:
        where = f"{what}.forward, step {node.name!r}"
        if node in skip:
            continue
        if node.op == "placeholder":
            if prev is not None:
                raise UnsupportedError(f"{where}: forward takes more than one input; only a chain "
                                       "with one input is supported")
            prev = node
            continue
        if node.op == "get_attr":
            raise UnsupportedError(f"{where}: uses the tensor {node.target!r} directly; only "
                                   "layers are supported (" + SUPPORTED_TEXT + ")")
        if node.op == "output":
            if node.args[0] is not prev:
                raise UnsupportedError(f"{what}.forward does not return the end of its chain "
                                       "(several outputs or a branch); only chains are supported")
            break
        if _is_size(node):
            # only for the shapes of reshapes, where _is_batch_flatten / _groupsort check it
            if any(not _is_size(u) and u.target not in ("view", "reshape", "unflatten", torch.reshape,
                                                        torch.unflatten) for u in node.users):
                raise UnsupportedError(f"{where}: a tensor's size is used other than as the batch "
                                       "dimension of a reshape; " + SUPPORTED_TEXT)
            continue
        # the step must consume the previous step's output only, and be its only consumer
        tensor_args = [a for a in (*node.args, *node.kwargs.values())
                       if isinstance(a, torch.fx.Node) and not _is_size(a)]
        consumers = [u for u in prev.users if not _is_size(u)]
        if len(tensor_args) != 1 or tensor_args[0] is not prev:
            reason = f"{node.op} {_target_name(node)} takes {len(tensor_args)} tensors"
        elif consumers != [node]:
            reason = f"the output of {prev.name!r} is used {len(consumers)} times"
        else:
            reason = None
        if reason:
            raise UnsupportedError(f"{where}: forward is not a chain ({reason}: a residual "
                                   "connection, a concatenation or a branch); " + SUPPORTED_TEXT)
        gs = _groupsort(node, where, torch) or _maxmin_halves(node, where, torch)
        if gs is not None:
            step, end, matched = gs
            steps.append((f"{prefix}{node.name}", step))
            skip.update(matched)
            prev = end
            continue
        if node.op == "call_module":
            sub = module.get_submodule(node.target)
            _collect(sub, f"{prefix}{node.target}.", steps, torch, nn)
        elif node.op == "call_function" and node.target in functional:
            steps.append((f"{prefix}{node.name}", _functional_module(node, functional, nn)))
        elif node.op == "call_method" and node.target in methods:
            if node.target in ("view", "reshape") and not _is_batch_flatten(node):
                raise UnsupportedError(f"{where}: {node.target} to a shape other than "
                                       "(batch, -1) (or (batch, -1, G) for GroupSort) is not "
                                       "supported; " + SUPPORTED_TEXT)
            steps.append((f"{prefix}{node.name}", methods[node.target]()))
        else:
            raise UnsupportedError(f"{where}: {node.op} {_target_name(node)} is not supported; "
                                   + SUPPORTED_TEXT)
        prev = node


def _is_shape(node) -> bool:
    """``x.size()`` or ``x.shape``: the whole shape of a tensor."""
    if not hasattr(node, "op"):
        return False
    return (node.op == "call_method" and node.target == "size" and len(node.args) == 1
            and not node.kwargs) or \
        (node.op == "call_function" and node.target is getattr and node.args[1:] == ("shape",))


def _is_size(node) -> bool:
    """A node computing (part of) a tensor's shape: ``x.size(...)``, ``x.shape``, ``x.shape[i]``."""
    if not hasattr(node, "op"):
        return False
    if _is_shape(node) or (node.op == "call_method" and node.target == "size"):
        return True
    return (node.op == "call_function" and node.target is operator.getitem
            and _is_shape(node.args[0]) and isinstance(node.args[1], int))


def _is_batch(a) -> bool:
    """``x.size(0)``, ``x.size(dim=0)``, ``x.shape[0]`` or ``x.size()[0]``: the batch size."""
    if not hasattr(a, "op"):
        return False
    if a.op == "call_method" and a.target == "size":
        return (list(a.args[1:]) or [a.kwargs.get("dim")]) == [0]
    return (a.op == "call_function" and a.target is operator.getitem and _is_shape(a.args[0])
            and a.args[1] == 0)


def _target_name(node) -> str:
    t = node.target
    return t if isinstance(t, str) else getattr(t, "__name__", repr(t))


def _is_batch_flatten(node) -> bool:
    """``x.view(x.size(0), -1)`` / ``x.reshape(N, -1)``: keeps the batch axis, flattens the rest."""
    shape = _shape_args(node)
    return len(shape) == 2 and shape[1] == -1


def _shape_args(node) -> tuple:
    """The target shape of ``x.view(...)`` / ``x.reshape(...)`` / ``torch.reshape(x, ...)``."""
    shape = node.args[1:] or (node.kwargs.get("shape"),)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return shape


def _only_user(node):
    users = [u for u in node.users if not _is_size(u)]
    return users[0] if len(users) == 1 else None


def _groupsort(start, where, torch):
    """Match ``view(batch, -1, G) -> sort(last axis) -> [0] / .values -> view(batch, -1)``.

    Returns ``(GroupSortStep, last node)``, ``None`` if ``start`` is not a 3-D view (then it is
    not a GroupSort attempt), or raises UnsupportedError naming the step that does not fit.
    """
    def refuse(node, why):
        raise UnsupportedError(f"{where.rsplit(' ', 1)[0]} {node.name!r}: {why} (GroupSort is "
                               "x.view(x.size(0), -1, G).sort(dim=-1)[0].view(x.size(0), -1): "
                               "values of an ascending or descending sort over the last axis of a "
                               "(batch, width/G, G) view); " + SUPPORTED_TEXT)

    reshapes = ("view", "reshape")
    if start.op == "call_method" and start.target in reshapes or             start.op == "call_function" and start.target is torch.reshape:
        shape = _shape_args(start)
        if len(shape) != 3:
            return None
        batch, blocks, G = shape
    elif (start.op, start.target) in (("call_method", "unflatten"), ("call_function", torch.unflatten)):
        pos = list(start.args[1:])
        dim = start.kwargs.get("dim", pos[0] if pos else None)
        sizes = start.kwargs.get("sizes", pos[1] if len(pos) > 1 else None)
        if dim not in (1, -1) or not isinstance(sizes, (tuple, list)) or len(sizes) != 2:
            refuse(start, f"unflatten({dim}, {sizes}) is not unflatten(1, (width/G, G))")
        batch, (blocks, G) = 0, sizes   # 0: unflatten keeps the batch axis
    else:
        return None
    if not (isinstance(G, int) and G >= 1 and isinstance(blocks, int) and (blocks == -1 or blocks >= 1)
            and (batch == 0 or _is_batch(batch) or (batch == -1 and blocks != -1))):
        refuse(start, f"shape {tuple(getattr(a, 'name', a) for a in (batch, blocks, G))} is not "
               "(x.size(0), -1 or width/G, G) with integers")
    sort = _only_user(start)
    if sort is None or not (sort.op == "call_method" and sort.target == "sort"
                            or sort.op == "call_function" and sort.target is torch.sort):
        refuse(start, "a (batch, width/G, G) view must be sorted")
    pos = list(sort.args[1:])
    dim = sort.kwargs.get("dim", pos[0] if pos else -1)
    descending = sort.kwargs.get("descending", pos[1] if len(pos) > 1 else False)
    if dim not in (-1, 2) or not isinstance(descending, bool) or len(pos) > 2 or \
            set(sort.kwargs) - {"dim", "descending", "stable"}:
        refuse(sort, f"sort(dim={dim}, descending={descending}) is not a sort over the last axis")
    values = _only_user(sort)
    if values is None or len(sort.users) != 1 or values.op != "call_function" or not (
            values.target is operator.getitem and values.args[1] == 0
            or values.target is getattr and values.args[1] == "values"):
        refuse(sort, "only the sorted values may be used ([0] or .values; the indices are not a GroupSort)")
    end = _only_user(values)
    width = None
    if end is not None and (end.op == "call_method" and end.target in reshapes
                            or end.op == "call_function" and end.target is torch.reshape):
        shape = _shape_args(end)
        ok = len(shape) == 2 and isinstance(shape[1], int) and (
            _is_batch(shape[0]) and (shape[1] == -1 or shape[1] >= 1) or shape[0] == -1 and shape[1] >= 1)
        if not ok:
            refuse(end, f"the sorted blocks must be reshaped back to (x.size(0), -1), got "
                   f"{tuple(getattr(a, 'name', a) for a in shape)}")
        width = None if shape[1] == -1 else shape[1]
    elif end is not None and (end.op == "call_method" and end.target == "flatten"
                              or end.op == "call_function" and end.target is torch.flatten):
        pos = list(end.args[1:])
        sd = end.kwargs.get("start_dim", pos[0] if pos else 0)
        ed = end.kwargs.get("end_dim", pos[1] if len(pos) > 1 else -1)
        if sd not in (1, -2) or ed not in (-1, 2):
            refuse(end, f"flatten(start_dim={sd}, end_dim={ed}) is not flatten(1)")
    else:
        refuse(values, "the sorted blocks must be flattened back to (batch, width)")
    step = GroupSortStep(G, descending, None if blocks == -1 else blocks, width)
    return step, end, {sort, values, end}


def _maxmin_halves(start, where, torch):
    """Match ``a, b = x.chunk(2, dim=1); torch.cat([torch.max(a, b), torch.min(a, b)], dim=1)``.

    Returns ``(GroupSortStep, cat node, matched nodes)``, ``None`` if ``start`` is not a chunk,
    or raises UnsupportedError naming the step that does not fit.
    """
    def refuse(node, why):
        raise UnsupportedError(f"{where.rsplit(' ', 1)[0]} {node.name!r}: {why} (MaxMin is "
                               "a, b = x.chunk(2, dim=1); torch.cat([torch.max(a, b), "
                               "torch.min(a, b)], dim=1)); " + SUPPORTED_TEXT)

    if not (start.op == "call_method" and start.target == "chunk"
            or start.op == "call_function" and start.target is torch.chunk):
        return None
    pos = list(start.args[1:])
    chunks = start.kwargs.get("chunks", pos[0] if pos else None)
    dim = start.kwargs.get("dim", pos[1] if len(pos) > 1 else 0)
    if chunks != 2 or dim not in (1, -1):
        refuse(start, f"chunk({chunks}, dim={dim}) is not chunk(2, dim=1)")
    halves = sorted(start.users, key=lambda u: u.args[1] if u.target is operator.getitem else -1)
    if len(halves) != 2 or any(u.op != "call_function" or u.target is not operator.getitem
                               or u.args[1] != i for i, u in enumerate(halves)):
        refuse(start, "the two halves must be used as a, b = x.chunk(2, dim=1)")
    ops = {"max": (torch.max, torch.maximum, "max", "maximum"),
           "min": (torch.min, torch.minimum, "min", "minimum")}
    found = {}
    for u in halves[0].users:
        kind = next((k for k, t in ops.items() if u.target in t), None)
        if kind is None or kind in found or u.kwargs or set(u.args) != set(halves) or len(u.args) != 2:
            refuse(u, "the halves may only be combined as max(a, b) and min(a, b)")
        found[kind] = u
    if len(found) != 2 or set(halves[1].users) != set(found.values()):
        refuse(halves[0], "the halves must feed exactly one max(a, b) and one min(a, b)")
    cat = _only_user(found["max"])
    if cat is None or _only_user(found["min"]) is not cat or len(found["max"].users) != 1 or \
            len(found["min"].users) != 1 or cat.op != "call_function" or \
            cat.target not in (torch.cat, torch.concat, torch.concatenate):
        refuse(found["max"], "max(a, b) and min(a, b) must be concatenated")
    pos = list(cat.args[1:])
    dim = cat.kwargs.get("dim", pos[0] if pos else 0)
    parts = list(cat.args[0]) if isinstance(cat.args[0], (list, tuple)) else None
    if dim not in (1, -1) or parts not in ([found["max"], found["min"]], [found["min"], found["max"]]) \
            or set(cat.kwargs) - {"dim"}:
        refuse(cat, "only cat([max(a, b), min(a, b)], dim=1) (or min first) is MaxMin")
    order = "max_first" if parts[0] is found["max"] else "min_first"
    return GroupSortStep(2, halves=order), cat, {*halves, *found.values(), cat}


def _functional_module(node, functional, nn):
    """The module equivalent to a functional call, with its constant arguments."""
    cls = functional[node.target]
    consts = list(node.args[1:])
    kw = dict(node.kwargs)
    if cls is nn.LeakyReLU:
        slope = kw.get("negative_slope", consts[0] if consts else 0.01)
        return nn.LeakyReLU(float(slope))
    if cls is nn.Softplus:
        return nn.Softplus(beta=kw.get("beta", consts[0] if consts else 1.0))
    if cls is nn.Hardtanh:
        lo = kw.get("min_val", consts[0] if consts else -1.0)
        hi = kw.get("max_val", consts[1] if len(consts) > 1 else 1.0)
        return nn.Hardtanh(lo, hi)
    if cls is nn.Flatten:
        start = kw.get("start_dim", consts[0] if consts else 0)
        return nn.Flatten(start_dim=start)
    if cls is nn.Dropout:
        d = nn.Dropout()
        d.train(bool(kw.get("training", consts[1] if len(consts) > 1 else True)))
        return d
    return cls()
