from django.http import HttpRequest, JsonResponse

from example_project.people.models import Person


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok", "people": Person.objects.count()})
