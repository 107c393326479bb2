from django.urls import path

from example_project.people import views
from example_project.people.api import views as api

urlpatterns = [
    path("health", views.health),
]
for _version in ("v1", "v2"):
    urlpatterns += [
        path(f"api/{_version}/people", api.collection, {"version": _version}),
        path(f"api/{_version}/people/<int:pk>", api.detail, {"version": _version}),
    ]
