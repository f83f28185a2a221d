"""FLIP model service: the package every Lambda of the bundle shares (built as a layer).

Two doors over one core over one store; dependencies point one way (doors → core → store):

- ``api/``   the HTTP door: the resolver every API function builds, domain errors → HTTP, error bodies.
- ``fl/``    the FL door: messages from the FL servers (SQS batches applied once, or dead-lettered)
  and the scheduled sweep of runs whose FL server went silent.
- ``core/``  the model rules and the reads the API serves: status rules and transitions, commands,
  access rules, the model page, logs, metrics, the list.
- ``store/`` settings, engine and sessions, tables, migrations.
- ``enums``, ``errors``, ``observability``: the vocabulary, the domain errors and the one
  Logger/Tracer/Metrics that every layer uses.

Import the submodules directly (``flip_models.core.transitions``...); every ``__init__`` stays empty
of imports so that a handler pays only for what it uses at cold start.
"""
