"""Both packages (the service and the bots' client in clients/python) declare their license as setuptools wants it
now: an SPDX expression (PEP 639), built by a setuptools that reads one. The TOML table form is deprecated and
made every install print screens of warnings."""

from __future__ import annotations

import tomllib

import pytest
from packaging.licenses import canonicalize_license_expression
from packaging.requirements import Requirement

from tests.conftest import REPO

PROJECTS = [REPO / "pyproject.toml", REPO / "clients" / "python" / "pyproject.toml"]
LAST_SETUPTOOLS_WITHOUT_SPDX, FIRST_SETUPTOOLS_WITH_SPDX = "76.1.0", "77.0.0"


@pytest.mark.parametrize("pyproject", PROJECTS, ids=lambda path: str(path.relative_to(REPO)))
def test_the_license_is_an_spdx_expression_for_a_setuptools_that_reads_it(pyproject):
    config = tomllib.loads(pyproject.read_text())
    license_ = config["project"]["license"]
    assert isinstance(license_, str) and canonicalize_license_expression(license_) == license_
    assert not any(classifier.startswith("License ::") for classifier in config["project"].get("classifiers", []))
    (setuptools,) = [Requirement(spec) for spec in config["build-system"]["requires"]
                     if Requirement(spec).name == "setuptools"]
    assert LAST_SETUPTOOLS_WITHOUT_SPDX not in setuptools.specifier
    assert FIRST_SETUPTOOLS_WITH_SPDX in setuptools.specifier
