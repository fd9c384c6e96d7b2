from django.urls import path

from affiliates import apis

urlpatterns = [
    path("affiliates/programs/", apis.ProgramListCreateApi.as_view(), name="affiliate_programs"),
    path("affiliates/programs/<str:program_id>/", apis.ProgramDetailApi.as_view(), name="affiliate_program"),
    path("affiliates/partners/", apis.PartnerListCreateApi.as_view(), name="affiliate_partners"),
    path("affiliates/partners/<str:partner_id>/", apis.PartnerDetailApi.as_view(), name="affiliate_partner"),
    path("affiliates/commissions/", apis.CommissionListApi.as_view(), name="affiliate_commissions"),
    path("affiliates/payouts/", apis.PayoutListCreateApi.as_view(), name="affiliate_payouts"),
    path("affiliates/payouts/<int:payout_id>/export.csv", apis.PayoutExportApi.as_view(), name="affiliate_payout_csv"),
]
