from django.urls import path

from attribution import public_views

urlpatterns = [
    path("p.js", public_views.pixel_script, name="pixel_script"),
    path("collect", public_views.collect, name="pixel_collect"),
]
