from django.urls import path

from site_conf import views

urlpatterns = [
    path("health", views.health),
    path("migrate", views.migrate_command),
    path("executor", views.migrate_with_executor),
]
