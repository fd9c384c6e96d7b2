from django.urls import path

from attribution import channel_views

app_name = "channels"

urlpatterns = [
    path("", channel_views.ChannelRulesView.as_view(), name="rules"),
    path("<int:pk>/delete/", channel_views.ChannelRuleDeleteView.as_view(), name="rule_delete"),
    path("reapply/", channel_views.ChannelRulesReapplyView.as_view(), name="reapply"),
]
