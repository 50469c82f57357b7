"""ember's conformance kit: the backend-dependent suite, shipped with ember.

Run it on any installed backend with ``pytest --pyargs ember.testing --backend NAME``.
"""
