"""Doctests of the documentation (README.md, docs/*.md, docstrings) skip when external data is absent.

An example that needs the LipBaB networks calls ``certify.datasets.external("lipbab")``, which
raises :class:`certify.errors.DataNotFoundError` in a clone without them; the doctest is then
reported as skipped with that message instead of failing.  Likewise an example whose
``import torch`` fails (an optional extra).
"""

import doctest

import pytest

#: Optional dependencies: a doc example importing one skips when it is absent.
OPTIONAL = {"torch": 'pip install -e ".[torch]"'}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    try:
        return (yield)
    except doctest.UnexpectedException as exc:
        from certify.errors import DataNotFoundError
        err = exc.exc_info[1]
        if isinstance(err, DataNotFoundError):
            pytest.skip(str(err))
        if isinstance(err, ModuleNotFoundError) and err.name in OPTIONAL:
            pytest.skip(f"{err.name} not installed (an optional extra: {OPTIONAL[err.name]})")
        raise
