from django.urls import path

from api import case_file, preferences, stats, views

app_name = "api"

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("auth/logout/", views.LogoutView.as_view(), name="logout"),
    path("auth/logout-all/", views.LogoutAllView.as_view(), name="logout-all"),
    path("orders/", views.OrderListView.as_view(), name="orders"),
    path("disputes/", views.DisputeListView.as_view(), name="disputes"),
    path("disputes/<int:dispute_id>/", views.DisputeDetailView.as_view(), name="dispute"),
    *(
        path(
            f"disputes/<int:dispute_id>/offers/<int:offer_id>/{verb}/",
            views.OfferDecisionView.as_view(lifecycle_action=action),
            name=f"offer-{verb}",
        )
        for verb, action in views.OFFER_DECISIONS.items()
    ),
    path("disputes/<int:dispute_id>/messages/", views.MessageListView.as_view(), name="messages"),
    path(
        "disputes/<int:dispute_id>/messages/<int:message_id>/report/",
        views.MessageReportView.as_view(),
        name="message-report",
    ),
    path("disputes/<int:dispute_id>/timeline/", views.TimelineView.as_view(), name="timeline"),
    path("disputes/<int:dispute_id>/audit/", views.AuditView.as_view(), name="audit"),
    path("disputes/<int:dispute_id>/evidence/", views.EvidenceListView.as_view(), name="evidence"),
    path(
        "disputes/<int:dispute_id>/evidence/<int:evidence_id>/download/",
        views.EvidenceDownloadView.as_view(),
        name="evidence-download",
    ),
    path(
        "disputes/<int:dispute_id>/evidence/<int:evidence_id>/withdraw/",
        views.EvidenceWithdrawView.as_view(),
        name="evidence-withdraw",
    ),
    path(
        "disputes/<int:dispute_id>/case-file/", case_file.CaseFileView.as_view(), name="case-file"
    ),
    path("disputes/<int:dispute_id>/feedback/", views.FeedbackView.as_view(), name="feedback"),
    path("stats/", stats.StatsView.as_view(), name="stats"),
    path("shops/<slug:slug>/policies/", views.ShopPolicyListView.as_view(), name="shop-policies"),
    path("shops/<slug:slug>/api-keys/", views.ShopApiKeyListView.as_view(), name="shop-api-keys"),
    path(
        "shops/<slug:slug>/api-keys/<str:prefix>/revoke/",
        views.ShopApiKeyRevokeView.as_view(),
        name="shop-api-key-revoke",
    ),
    path(
        "me/notifications/",
        preferences.NotificationPreferenceView.as_view(),
        name="me-notifications",
    ),
] + [
    path(
        f"disputes/<int:dispute_id>/{slug}/",
        views.DisputeActionView.as_view(lifecycle_action=action),
        name=f"dispute-{slug}",
    )
    for slug, action in views.ACTIONS.items()
]
