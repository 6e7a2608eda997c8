"""Hypothesis strategies: they draw valid objects, and a property test of a statement takes a few lines."""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bounds
from bounds.data import DataModel
from bounds.strategies import data_models, samples, theorem_parameters, two_layer_networks
from certify.model.network import two_layer

FAST = settings(derandomize=True, max_examples=25, deadline=None)


@FAST
@given(data_models(max_components=3))
def test_data_models_are_valid(model):
    assert isinstance(model, DataModel)
    assert 0 < model.sigma2 <= 1
    assert 1 <= model.K <= 3 and model.d >= 2
    assert float(model.c) > 0
    X, y = model.sample(7, seed=0)
    assert X.shape == (7, model.d) and np.all(np.abs(y) <= 1)
    if math.isfinite(model.radius):
        assert np.all(np.linalg.norm(X, axis=1) <= model.radius)


@FAST
@given(samples(data_models(d=3, measures=("sphere",), noisy=False), n=st.integers(1, 9)))
def test_samples_from_sphere_models(sample):
    X, y = sample
    assert X.shape[1] == 3 and 1 <= len(y) <= 9
    norms = np.linalg.norm(X, axis=1)
    assert np.allclose(norms, norms[0])                  # one radius per model
    assert set(np.unique(y)) <= {-1.0, 1.0}


@pytest.mark.parametrize("theorem_id", ["universal_law", "universal_law_sharp", "deep_networks",
                                        "bounded_support", "any_model",
                                        "finite_class"])
def test_theorem_parameters_satisfy_domains_and_hypotheses(theorem_id):
    th = bounds.get(theorem_id)

    @FAST
    @given(theorem_parameters(theorem_id))
    def prop(params):
        assert set(params) == set(th.parameter_names)
        th.validate(**params)                             # every value inside its domain
        assert all(th.hypotheses(**params))
        assert th.lower_bound(**params) == th.lower_bound(**params)   # evaluates without error

    prop()


def test_theorem_parameters_without_hypotheses_and_fixed():
    th = bounds.get("universal_law")
    seen_failing = []

    @settings(derandomize=True, max_examples=40, deadline=None)
    @given(theorem_parameters("universal_law", hypotheses=False, fixed={"c": 1, "K": 1}))
    def prop(params):
        assert params["c"] == 1 and params["K"] == 1
        th.validate(**params)
        seen_failing.append(not all(th.hypotheses(**params)))

    prop()
    assert any(seen_failing)                              # hypotheses really were not imposed


def test_property_test_of_a_statement_in_a_few_lines():
    """The pattern the module docstring advertises: the bound decreases in the parameter count p."""
    law = bounds.get("universal_law")

    @FAST
    @given(theorem_parameters("universal_law"))
    def decreasing_in_p(params):
        more = dict(params, p=params["p"] + 1)
        assert law.lower_bound(**more) <= law.lower_bound(**params)

    decreasing_in_p()


@FAST
@given(two_layer_networks(st.integers(1, 4), st.integers(1, 5), max_weight=3.0), st.integers(0, 2 ** 31))
def test_two_layer_networks_build_networks(weights, seed):
    W, a, b = weights
    k, d = W.shape
    assert a.shape == (k,) and b.shape == (k,)
    assert np.all(np.abs(W) <= 3) and np.all(np.abs(a) <= 3) and np.all(np.abs(b) <= 3)
    net = two_layer(W, a, b)
    x = np.random.default_rng(seed).standard_normal(d)
    assert net(x)[0] == pytest.approx(float(a @ np.maximum(W @ x + b, 0)), rel=1e-12, abs=1e-12)


@FAST
@given(two_layer_networks(2, 3, bias=False))
def test_two_layer_networks_without_bias(weights):
    assert np.all(weights.b == 0)
