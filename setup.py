"""Lists ember's packages: the folders `core/`, `backends/` and `plugins/` map onto `ember`."""
from setuptools import find_namespace_packages, setup

packages = ["ember", "ember.backends", "ember.plugins"]
packages += [f"ember.{name}" for name in find_namespace_packages("core", exclude=["*__pycache__*"])]

setup(packages=packages)
