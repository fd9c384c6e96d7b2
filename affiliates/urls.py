from django.urls import path

from affiliates import views

app_name = "affiliates"

urlpatterns = [
    path("affiliates/", views.AffiliatesView.as_view(), name="index"),
    path("affiliates/programs/new/", views.ProgramCreateView.as_view(), name="program_create"),
    path("affiliates/programs/<int:program_id>/", views.ProgramView.as_view(), name="program"),
    path("affiliates/programs/<int:program_id>/edit/", views.ProgramEditView.as_view(), name="program_edit"),
    path("affiliates/partners/<int:partner_id>/status/", views.PartnerStatusView.as_view(), name="partner_status"),
    path("affiliates/partners/<int:partner_id>/codes/", views.DiscountCodeAddView.as_view(), name="discount_code_add"),
    path("affiliates/commissions/", views.CommissionsView.as_view(), name="commissions"),
    path(
        "affiliates/commissions/<int:commission_id>/review/",
        views.CommissionReviewView.as_view(),
        name="commission_review",
    ),
    path("affiliates/payouts/", views.PayoutsView.as_view(), name="payouts"),
    path("affiliates/payouts/run/", views.PayoutsRunView.as_view(), name="payouts_run"),
    path("affiliates/payouts/export.csv", views.PayoutsExportView.as_view(), name="payouts_export"),
    path("affiliates/payouts/settings/", views.PayoutSettingsView.as_view(), name="payout_settings"),
    path("affiliates/payouts/<int:payout_id>/paid/", views.PayoutPaidView.as_view(), name="payout_paid"),
    path(
        "affiliates/payouts/batches/<int:batch_id>/retry/",
        views.PayoutBatchRetryView.as_view(),
        name="payout_batch_retry",
    ),
    path(
        "affiliates/payouts/<int:payout_id>/statement.csv", views.PayoutStatementView.as_view(), name="payout_statement"
    ),
]
