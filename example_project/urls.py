from django.urls import path

from example_project.people import views

urlpatterns = [
    path("health", views.health),
]
