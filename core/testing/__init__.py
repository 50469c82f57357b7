"""Test support: the pytest plugin that runs ember's suite (and plugin authors' suites) on a chosen backend."""
