"""The error `ember.compile(..., fullgraph=True)` raises at a graph break."""


class GraphBreak(RuntimeError):
    """`ember.compile(..., fullgraph=True)` met code that needs a tensor's value while recording."""
