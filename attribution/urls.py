from django.urls import path

from attribution import views

app_name = "dashboard"

urlpatterns = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("orders/", views.OrdersView.as_view(), name="orders"),
]
