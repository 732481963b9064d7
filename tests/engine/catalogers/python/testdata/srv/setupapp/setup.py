#!/usr/bin/env python
# A setuptools project pinning its requirements (shapes from syft's setup.py fixtures).
import os

from setuptools import find_packages, setup

VERSION = "1.4.0"
here = os.path.abspath(os.path.dirname(__file__))

# "oldlib==0.1" was dropped in 1.3: a pin in a comment installs nothing
base = [
    "requests==2.31.0",
    'pathlib3==2.2.0;python_version<"3.6"',
    " mypy2 == v0.770",
    "django>=4.2",
]

setup(
    name="setupapp",
    version=VERSION,
    packages=find_packages(exclude=["tests"]),
    install_requires=base
    + """
requests==2.31.0
flask==3.0.0
""".split(),
    extras_require={"yaml": ["PyYAML[libyaml]==6.0.1"], "docs": [f"setupapp-docs=={VERSION}"]},
    tests_require=["pytest"],
)
