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


# ------------------------------------------------------------------------------ GroupSort
def _halves(x, max_first):
    """MaxMin as often written: pairs (i, i + n/2), maxima then minima (not the toolkit's layout)."""
    a, b = x.chunk(2, dim=1)
    if max_first:
        return torch.cat([torch.max(a, b), torch.min(a, b)], dim=1)
    return torch.cat((torch.minimum(a, b), torch.maximum(a, b)), -1)


if torch is not None:
    _GS_FORMS = {
        "view-sort-view": lambda x, G: x.view(x.shape[0], -1, G).sort(dim=-1)[0].view(x.shape[0], -1),
        "reshape-torch.sort-values": lambda x, G: torch.sort(x.reshape(x.size(0), -1, G), -1).values
        .reshape(x.size(0), -1),
        "unflatten-flatten": lambda x, G: torch.flatten(torch.unflatten(x, 1, (-1, G)).sort()[0], 1),
        "explicit-blocks": lambda x, G: x.reshape(-1, 12 // G, G).sort(dim=2).values.flatten(1),
        "descending": lambda x, G: x.view(x.size(0), -1, G).sort(dim=-1, descending=True)[0]
        .view(x.size(0), -1),
        "maxmin-halves": lambda x, G: _halves(x, max_first=True),
        "minmax-halves": lambda x, G: _halves(x, max_first=False),
        "wrong-axis": lambda x, G: x.view(x.size(0), -1, G).sort(dim=1)[0].view(x.size(0), -1),
        "indices": lambda x, G: x.view(x.size(0), -1, G).sort(dim=-1)[1].view(x.size(0), -1).double(),
    }

    class GroupSortNet(nn.Module):
        """d -> n -> GroupSort(G) -> 5 -> GroupSort(G2) -> 2, the sorts written as ``form``."""

        def __init__(self, d, n, G, form, n2=None, G2=None):
            super().__init__()
            n2, G2 = n2 or n, G2 or G
            self.fc1, self.fc2, self.fc3 = nn.Linear(d, n), nn.Linear(n, n2), nn.Linear(n2, 2)
            self.G, self.G2, self.form = G, G2, _GS_FORMS[form]

        def forward(self, x):
            x = self.form(self.fc1(x), self.G)
            x = self.form(self.fc2(x), self.G2)
            return self.fc3(x)


@pytestmark_torch
@pytest.mark.parametrize("form", ["view-sort-view", "reshape-torch.sort-values", "unflatten-flatten",
                                  "explicit-blocks", "descending"])
@pytest.mark.parametrize("n, G", [(12, 2), (12, 3), (12, 12)])
def test_groupsort_forms_match_torch(form, n, G):
    torch.manual_seed(n + G)
    G2 = 2 if G == n else G   # G = width in the first layer, MaxMin in the second
    module = GroupSortNet(3, n, G, form, n2=12, G2=G2)
    # the first GroupSort's width is n; GroupSortNet's "explicit-blocks" form hard-codes 12
    net = _agrees(module, 3, ["groupsort", "groupsort"])
    assert [a.group for a in net.activations] == [G, G2]


@pytestmark_torch
@pytest.mark.parametrize("form", ["maxmin-halves", "minmax-halves"])
@pytest.mark.parametrize("n", [2, 8])
def test_maxmin_of_halves_is_folded_into_the_neighbouring_layers(form, n):
    torch.manual_seed(n)
    module = GroupSortNet(3, n, 2, form, n2=6)
    net = _agrees(module, 3, ["groupsort", "groupsort"])
    assert [a.group for a in net.activations] == [2, 2]
    # a permutation of rows and columns: the same numbers, in other places
    np.testing.assert_array_equal(np.sort(net.weights[1], axis=None),
                                  np.sort(module.fc2.weight.detach().double().numpy(), axis=None))


@pytestmark_torch
def test_groupsort_seen_from_sequential_of_custom_modules():
    class MaxMin(nn.Module):
        def forward(self, x):
            return x.view(x.size(0), -1, 2).sort(dim=-1).values.view(x.size(0), -1)
    torch.manual_seed(3)
    module = nn.Sequential(nn.Linear(4, 6), MaxMin(), nn.Linear(6, 6), nn.ReLU(), nn.Linear(6, 1))
    _agrees(module, 4, ["groupsort", "relu"])


@pytestmark_torch
@pytest.mark.parametrize("form, match", [
    ("wrong-axis", r"step 'sort'.*sort\(dim=1, descending=False\) is not a sort over the last axis"),
    ("indices", r"step 'sort'.*only the sorted values"),
])
def test_groupsort_variants_that_are_not_groupsort_are_refused(form, match):
    with pytest.raises(UnsupportedError, match=match):
        Network.from_torch(GroupSortNet(3, 12, 2, form).eval())


@pytestmark_torch
def test_groupsort_width_not_divisible_by_G_names_the_layer():
    from certify.errors import ShapeError
    with pytest.raises(ShapeError, match=r"layer 'view' \(GroupSortStep\).*G=5 needs a width divisible by 5, "
                                         r"got width 12"):
        Network.from_torch(GroupSortNet(3, 12, 5, "view-sort-view").eval())
    with pytest.raises(ShapeError, match=r"reshapes a layer of width 10 to 6 blocks"):
        Network.from_torch(GroupSortNet(3, 10, 2, "explicit-blocks").eval())
    with pytest.raises(ShapeError, match=r"layer 'chunk' \(GroupSortStep\).*G=2 needs a width divisible"):
        Network.from_torch(GroupSortNet(3, 7, 2, "maxmin-halves", n2=4).eval())
