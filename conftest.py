"""Doctests of the documentation (README.md, docs/*.md, docstrings) skip when external data is absent.

An example that needs the LipBaB networks calls ``certify.datasets.external("lipbab")``, which
raises :class:`certify.errors.DataNotFoundError` in a clone without them; the doctest is then
reported as skipped with that message instead of failing.
"""

import doctest

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    try:
        return (yield)
    except doctest.UnexpectedException as exc:
        from certify.errors import DataNotFoundError
        if isinstance(exc.exc_info[1], DataNotFoundError):
            pytest.skip(str(exc.exc_info[1]))
        raise
