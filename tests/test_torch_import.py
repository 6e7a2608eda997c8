"""PyTorch import: chain-shaped nn.Module subclasses traced with torch.fx, no-op layers, refusals.

Skipped without torch (an optional extra; CI does not install it)."""

import sys

import numpy as np
import pytest

from certify.errors import UnsupportedError
from certify.model.network import Network


def test_missing_torch_gives_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)   # import torch -> ImportError
    with pytest.raises(ImportError, match=r'pip install -e "\.\[torch\]".*whl/cpu'):
        Network.from_torch(object())


try:
    import torch
except ImportError:  # an optional extra; CI does not install it
    torch = None
pytestmark_torch = pytest.mark.skipif(torch is None, reason="torch not installed (optional extra: "
                                      'pip install -e ".[torch]")')

if torch is not None:
    nn = torch.nn
    F = torch.nn.functional

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(4, 8)
            self.act = nn.ReLU()
            self.drop = nn.Dropout(0.5)
            self.fc2 = nn.Linear(8, 6)
            self.fc3 = nn.Linear(6, 2)

        def forward(self, x):
            x = self.drop(self.act(self.fc1(x)))
            x = torch.tanh(self.fc2(x))
            return self.fc3(x)


    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(4, 5)
            self.fc2 = nn.Linear(5, 5)
            self.fc3 = nn.Linear(5, 1)

        def forward(self, x):
            x = x.view(x.size(0), -1)
            x = F.leaky_relu(self.fc1(x), 0.2)
            x = F.relu(self.fc2(x))
            return self.fc3(x)


    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(3, 3)
            self.fc2 = nn.Linear(3, 1)

        def forward(self, x):
            return self.fc2(torch.relu(self.fc1(x)) + x)


    class WithConv(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(1, 1, 2)
            self.fc = nn.Linear(3, 1)

        def forward(self, x):
            return self.fc(self.conv(x))


def _agrees(module, d, names):
    module.eval()
    net = Network.from_torch(module)
    assert [a.name for a in net.activations] == names
    X = np.random.default_rng(0).normal(size=(9, d)) * 2
    with torch.no_grad():
        ref = module.double()(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(net(X), ref, rtol=1e-10, atol=1e-12)
    return net


@pytestmark_torch
def test_module_subclass_with_chain_forward_is_traced():
    torch.manual_seed(0)
    _agrees(MLP(), 4, ["relu", "tanh"])
    net = _agrees(Functional(), 4, ["leaky_relu", "relu"])
    assert net.activations[0].param == 0.2


@pytestmark_torch
def test_custom_module_inside_sequential_and_no_op_layers():
    torch.manual_seed(1)
    module = nn.Sequential(nn.Flatten(), MLP(), nn.Identity(), nn.Dropout(0.1))
    _agrees(module, 4, ["relu", "tanh"])


@pytestmark_torch
def test_dropout_in_training_mode_is_refused():
    module = MLP().train()
    with pytest.raises(UnsupportedError, match=r"'drop' \(Dropout\).*model\.eval\(\)"):
        Network.from_torch(module)


@pytestmark_torch
@pytest.mark.parametrize("which, match", [
    ("residual", r"not a chain.*residual"),
    ("conv", r"layer 'conv' \(Conv1d\) is not supported; supported: Linear, ReLU"),
    ("elu", r"layer '1' \(ELU\) is not supported"),
])
def test_refusals_name_the_layer_and_what_is_supported(which, match):
    module = {"residual": Residual, "conv": WithConv,
              "elu": lambda: nn.Sequential(nn.Linear(2, 2), nn.ELU(), nn.Linear(2, 1))}[which]()
    with pytest.raises(UnsupportedError, match=match):
        Network.from_torch(module.eval())
