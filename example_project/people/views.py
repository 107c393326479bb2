from django.http import HttpRequest, JsonResponse

from example_project.people.models import RELEASE


def health(request: HttpRequest) -> JsonResponse:
    """Readiness probe: answers without touching the database, names the release and the
    port this process serves gRPC on (``null`` when it serves none)."""
    from example_project.people.rpc.server import bound_port

    return JsonResponse({"status": "ok", "release": RELEASE.number, "grpc_port": bound_port()})
