from django.http import HttpRequest, JsonResponse

from example_project.people.models import RELEASE


def health(request: HttpRequest) -> JsonResponse:
    """Readiness probe: answers without touching the database, and names the release."""
    return JsonResponse({"status": "ok", "release": RELEASE.number})
