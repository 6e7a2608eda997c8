"""The layer chain of a PyTorch module, for :meth:`certify.Network.from_torch`.

Any ``nn.Module`` whose ``forward`` is a chain (each step feeds only the next one) is accepted:
``nn.Sequential`` trees are read directly, other modules are traced with ``torch.fx``.  Steps are
modules (``self.fc1``), or the functional forms of the supported activations (``torch.relu``,
``F.relu``, ``F.leaky_relu``, ``torch.tanh``, ``torch.sigmoid``, ``F.softplus``, ``F.hardtanh``)
and flattening (``torch.flatten``, ``x.flatten(1)``, ``x.view(x.size(0), -1)``), which become the
equivalent modules.  ``nn.Dropout`` and ``nn.Identity`` are no-ops in eval mode and are dropped;
a Dropout in training mode is refused (call ``model.eval()`` first).  Anything else is refused with
the layer's name and the list of what is supported.
"""

from __future__ import annotations

from certify.errors import UnsupportedError

__all__ = ["torch_chain", "SUPPORTED_TEXT", "INSTALL_HINT"]

SUPPORTED_TEXT = ("supported: Linear, ReLU, LeakyReLU, Tanh, Sigmoid, Softplus(beta=1), "
                  "Hardtanh(-1, 1), Identity, Dropout (eval mode), Flatten (before the first Linear), "
                  "nested Sequential, and modules whose forward chains these (traced with torch.fx)")

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
    for node in graph.nodes:
        where = f"{what}.forward, step {node.name!r}"
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
        if node.op == "call_method" and node.target == "size":
            if node.args[0] is not prev:
                raise UnsupportedError(f"{where}: size() of an earlier step; only chains are "
                                       "supported")
            continue  # the batch size of x.view(x.size(0), -1): checked with the view
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
        if node.op == "call_module":
            sub = module.get_submodule(node.target)
            _collect(sub, f"{prefix}{node.target}.", steps, torch, nn)
        elif node.op == "call_function" and node.target in functional:
            steps.append((f"{prefix}{node.name}", _functional_module(node, functional, nn)))
        elif node.op == "call_method" and node.target in methods:
            if node.target in ("view", "reshape") and not _is_batch_flatten(node):
                raise UnsupportedError(f"{where}: {node.target} to a shape other than "
                                       "(batch, -1) is not supported; " + SUPPORTED_TEXT)
            steps.append((f"{prefix}{node.name}", methods[node.target]()))
        else:
            raise UnsupportedError(f"{where}: {node.op} {_target_name(node)} is not supported; "
                                   + SUPPORTED_TEXT)
        prev = node


def _is_size(node) -> bool:
    return node.op == "call_method" and node.target == "size"


def _target_name(node) -> str:
    t = node.target
    return t if isinstance(t, str) else getattr(t, "__name__", repr(t))


def _is_batch_flatten(node) -> bool:
    """``x.view(x.size(0), -1)`` / ``x.reshape(N, -1)``: keeps the batch axis, flattens the rest."""
    shape = node.args[1:]
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return len(shape) == 2 and shape[1] == -1


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
