from django.urls import path

from attribution import apis

urlpatterns = [
    path("reports/channels/", apis.ReportChannelsApi.as_view(), name="report_channels"),
    path("reports/revenue-daily/", apis.ReportRevenueDailyApi.as_view(), name="report_revenue_daily"),
    # Moved here from integrations.api_urls: the rows gain `credits`, which integrations cannot compute.
    path("orders/", apis.OrderListWithCreditsApi.as_view(), name="orders"),
    path("orders/export/", apis.OrderExportApi.as_view(), name="orders_export"),
    path("identify/", apis.IdentifyApi.as_view(), name="identify"),
]
