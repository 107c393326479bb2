"""gunicorn settings of the example service: HTTP (gunicorn) and gRPC in one process.

Each worker starts the gRPC server after it boots when ``GRPC_PORT`` is set
(:mod:`example_project.people.rpc.server`), and stops it gracefully on exit. The master
never imports gRPC (it forks the workers), and no migration ever runs here.
"""

from typing import Any


def post_worker_init(worker: Any) -> None:
    from example_project.people.rpc import server

    port = server.start_from_environment()
    if port is not None:
        worker.log.info("serving gRPC people.v1 and people.v2 on 127.0.0.1:%s", port)


def worker_exit(server: Any, worker: Any) -> None:
    from example_project.people.rpc import server as rpc_server

    rpc_server.stop()
