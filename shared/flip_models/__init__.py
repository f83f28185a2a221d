"""FLIP model service: the package every Lambda of the bundle shares (built as a layer).

Import the submodules directly (``flip_models.service``, ``flip_models.db``...); this module stays
empty so that a handler pays only for what it uses at cold start.
"""
