"""ONNX import: models built with onnx.helper (and torch.onnx.export when torch is installed),
outputs compared with onnxruntime on random inputs before certifying; bad graphs refused."""

from __future__ import annotations

import math

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="ONNX import tests need the optional 'onnx' package")
ort = pytest.importorskip("onnxruntime", reason="ONNX import tests need 'onnxruntime'")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from certify import Network, lipschitz  # noqa: E402
from certify.errors import DomainError, ShapeError, UnsupportedError  # noqa: E402

RNG = np.random.default_rng(11)


def _init(name, arr):
    return numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name)


def _model(nodes, inits, d, m, batch="N", opset=17):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, d])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, m])
    g = helper.make_graph(nodes, "g", [x], [y], initializer=inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _ort(model, X):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": X.astype(np.float32)})[0]


def _compare(model, net, d, rtol=1e-5):
    X = RNG.standard_normal((64, d)).astype(np.float32)
    want = _ort(model, X).astype(np.float64)
    got = net(X.astype(np.float64))
    assert np.allclose(got, want, rtol=rtol, atol=rtol * (1 + np.abs(want).max()))


def _mlp(act_nodes, d=3, h=4, m=2, gemm=True, extra=()):
    """x -> affine -> act(s) -> affine -> y, with one activation node list (input 'h1', output 'a1')."""
    W1, b1 = RNG.standard_normal((h, d)), RNG.standard_normal(h)
    W2, b2 = RNG.standard_normal((m, h)), RNG.standard_normal(m)
    inits = [_init("W1", W1), _init("b1", b1), _init("W2", W2), _init("b2", b2)] + list(extra)
    if gemm:
        first = [helper.make_node("Gemm", ["x", "W1", "b1"], ["h1"], name="fc1", transB=1)]
    else:
        inits[0] = _init("W1", W1.T)
        first = [helper.make_node("MatMul", ["x", "W1"], ["mm"], name="mm1"),
                 helper.make_node("Add", ["mm", "b1"], ["h1"], name="add1")]
    last = [helper.make_node("Gemm", ["a1", "W2", "b2"], ["y"], name="fc2", transB=1)]
    return _model(first + act_nodes + last, inits, d, m)


ACTS = {
    "relu": [helper.make_node("Relu", ["h1"], ["a1"], name="act")],
    "leaky_relu": [helper.make_node("LeakyRelu", ["h1"], ["a1"], name="act", alpha=0.2)],
    "tanh": [helper.make_node("Tanh", ["h1"], ["a1"], name="act")],
    "sigmoid": [helper.make_node("Sigmoid", ["h1"], ["a1"], name="act")],
    "softplus": [helper.make_node("Softplus", ["h1"], ["a1"], name="act")],
    "relu+noops": [helper.make_node("Identity", ["h1"], ["i1"], name="id"),
                   helper.make_node("Dropout", ["i1"], ["d1"], name="drop"),
                   helper.make_node("Relu", ["d1"], ["f1"], name="act"),
                   helper.make_node("Flatten", ["f1"], ["a1"], name="flat", axis=1)],
}


@pytest.mark.parametrize("gemm", [True, False])
@pytest.mark.parametrize("kind", list(ACTS))
def test_import_matches_onnxruntime_then_certify(kind, gemm):
    model = _mlp(ACTS[kind], gemm=gemm)
    net = Network.from_onnx(model)
    assert net.widths == (3, 4, 2)
    _compare(model, net, 3)
    if net.piecewise_linear:
        cert = lipschitz(net, 2, method="exact")
        assert cert.status == "converged"
    else:
        cert = lipschitz(net, 2, method="naive")
    assert 0 < cert.lower <= cert.upper


def _groupsort_nodes(n, G, largest=0):
    return ([helper.make_node("Reshape", ["h1", "s1"], ["r1"], name="gs_in"),
             helper.make_node("TopK", ["r1", "k"], ["v1", "i1"], name="gs_sort", axis=-1,
                              largest=largest, sorted=1),
             helper.make_node("Reshape", ["v1", "s2"], ["a1"], name="gs_out")],
            [numpy_helper.from_array(np.array([-1, n // G, G], dtype=np.int64), "s1"),
             numpy_helper.from_array(np.array([G], dtype=np.int64), "k"),
             numpy_helper.from_array(np.array([-1, n], dtype=np.int64), "s2")])


@pytest.mark.parametrize("G,largest", [(2, 0), (3, 0), (6, 0), (2, 1), (3, 1)])
def test_groupsort_pattern(G, largest):
    nodes, consts = _groupsort_nodes(6, G, largest)
    model = _mlp(nodes, d=3, h=6, m=2, extra=consts)
    net = Network.from_onnx(model)
    assert net.activations[0].spec == f"groupsort:{G}"
    _compare(model, net, 3)
    cert = lipschitz(net, math.inf, method="exact")
    assert cert.status == "converged"


def test_path_and_cli(tmp_path, capsys):
    from certify.__main__ import main
    model = _mlp(ACTS["relu"])
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    assert Network.from_onnx(str(path)) == Network.from_onnx(model)
    assert main(["lipschitz", str(path), "--norm", "inf", "--no-verify"]) == 0
    assert "Lipschitz constant enclosure" in capsys.readouterr().out


# ---------------------------------------------------------------- bad input

def test_unsupported_op_names_node():
    model = _mlp([helper.make_node("Elu", ["h1"], ["a1"], name="weird")])
    with pytest.raises(UnsupportedError, match=r"'weird' \(Elu\) is not supported"):
        Network.from_onnx(model)


def test_branches_refused():
    nodes = [helper.make_node("Relu", ["h1"], ["a0"], name="r"),
             helper.make_node("Add", ["a0", "h1"], ["a1"], name="residual")]
    with pytest.raises(UnsupportedError, match="branches"):
        Network.from_onnx(_mlp(nodes))


def test_dynamic_feature_dimension_refused():
    model = _mlp(ACTS["relu"])
    model.graph.input[0].type.tensor_type.shape.dim[1].dim_param = "D"
    with pytest.raises(UnsupportedError, match="dynamic dimension 1"):
        Network.from_onnx(model)


def test_nan_initializer_names_node():
    model = _mlp(ACTS["relu"])
    W = numpy_helper.to_array(model.graph.initializer[0]).copy()
    W[0, 0] = np.nan
    model.graph.initializer[0].CopyFrom(_init("W1", W))
    with pytest.raises(DomainError, match=r"'W1' \(used by node 'fc1' \(Gemm\)\).*non-finite"):
        Network.from_onnx(model)


def test_missing_external_data(tmp_path):
    from onnx.external_data_helper import convert_model_to_external_data
    model = _mlp(ACTS["relu"], d=3, h=4)
    convert_model_to_external_data(model, all_tensors_to_one_file=True, location="weights.bin",
                                   size_threshold=0)
    path = tmp_path / "ext.onnx"
    onnx.save(model, str(path))
    assert Network.from_onnx(str(path)).widths == (3, 4, 2)
    (tmp_path / "weights.bin").unlink()
    with pytest.raises(DomainError, match=r"weights.bin.*missing"):
        Network.from_onnx(str(path))


def test_activation_at_output_and_shape_mismatch():
    W1 = RNG.standard_normal((4, 3))
    nodes = [helper.make_node("Gemm", ["x", "W1"], ["h"], name="fc1", transB=1),
             helper.make_node("Relu", ["h"], ["y"], name="out_relu")]
    with pytest.raises(UnsupportedError, match="ends with an activation"):
        Network.from_onnx(_model(nodes, [_init("W1", W1)], 3, 4))
    with pytest.raises(ShapeError, match="fc1"):
        Network.from_onnx(_bad_width_model())


def _bad_width_model():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])
    g = helper.make_graph([helper.make_node("Gemm", ["x", "W1"], ["y"], name="fc1", transB=1)], "g", [x], [y],
                          initializer=[_init("W1", RNG.standard_normal((4, 5)))])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def test_groupsort_width_not_divisible():
    nodes, consts = _groupsort_nodes(6, 4)
    consts[0] = numpy_helper.from_array(np.array([-1, 2, 4], dtype=np.int64), "s1")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])
    inits = [_init("W1", RNG.standard_normal((6, 3))), _init("W2", RNG.standard_normal((2, 6)))] + consts
    g = helper.make_graph([helper.make_node("Gemm", ["x", "W1"], ["h1"], name="fc1", transB=1)] + nodes
                          + [helper.make_node("Gemm", ["a1", "W2"], ["y"], name="fc2", transB=1)],
                          "g", [x], [y], initializer=inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(UnsupportedError, match=r"'gs_in' \(Reshape\)"):
        Network.from_onnx(model)


# ---------------------------------------------------------------- PyTorch export

def _torch_groupsort(torch):
    class GroupSort(torch.nn.Module):
        """GroupSort as deel-torchlip and most code write it: reshape, sort, reshape back."""

        def __init__(self, G):
            super().__init__()
            self.G = G

        def forward(self, x):
            n = x.shape[-1]
            return x.reshape(-1, n // self.G, self.G).sort(dim=-1).values.reshape(-1, n)

    return GroupSort


def test_torch_export_matches_and_certifies(tmp_path):
    torch = pytest.importorskip("torch", reason="needs torch for torch.onnx.export")
    pytest.importorskip("onnxscript", reason="torch.onnx.export needs onnxscript")

    GroupSort = _torch_groupsort(torch)
    torch.manual_seed(0)
    for act in (torch.nn.ReLU(), torch.nn.LeakyReLU(0.1), torch.nn.Tanh(), GroupSort(2), GroupSort(3)):
        mod = torch.nn.Sequential(torch.nn.Linear(3, 6), act, torch.nn.Dropout(0.3),
                                  torch.nn.Linear(6, 2)).eval()
        path = tmp_path / "t.onnx"
        torch.onnx.export(mod, (torch.randn(5, 3),), str(path), input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, dynamo=False)
        model = onnx.load(str(path))
        net = Network.from_onnx(model)
        _compare(model, net, 3)
        if net.piecewise_linear:
            assert lipschitz(net, 2, method="exact").status == "converged"


@pytest.mark.slow
def test_torch_dynamo_export_groupsort(tmp_path):
    """The default (torch.export-based) exporter writes the shapes differently (slow: ~15 s)."""
    torch = pytest.importorskip("torch", reason="needs torch for torch.onnx.export")
    pytest.importorskip("onnxscript", reason="torch.onnx.export needs onnxscript")
    GroupSort = _torch_groupsort(torch)
    path = tmp_path / "t.onnx"
    mod = torch.nn.Sequential(torch.nn.Linear(3, 6), GroupSort(3), torch.nn.Linear(6, 2)).eval()
    torch.onnx.export(mod, (torch.randn(5, 3),), str(path), input_names=["x"], output_names=["y"],
                      dynamic_shapes=({0: torch.export.Dim("N")},), dynamo=True)
    model = onnx.load(str(path))
    net = Network.from_onnx(model)
    assert net.activations[0].spec == "groupsort:3"
    _compare(model, net, 3)
