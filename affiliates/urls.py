from django.urls import path

from affiliates import views

app_name = "affiliates"

urlpatterns = [
    path("affiliates/", views.AffiliatesView.as_view(), name="index"),
]
