"""The people service's gRPC API: ``people.v1`` (``last_name``) and ``people.v2`` (``surname``).

The ``.proto`` files under ``people/v1`` and ``people/v2`` are the source of the public types;
the Python messages beside them are generated (:mod:`.codegen`). :mod:`.mapping` is the wire
side of the anti-corruption layer (generated messages ↔ the domain), :mod:`.service` the
servicers, :mod:`.server` runs them inside the web process that serves the HTTP API.
Everything here needs the optional ``grpc`` extra; the app itself never imports it.
"""
