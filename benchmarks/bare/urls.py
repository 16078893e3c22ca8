from django.urls import path

from benchmarks.bare import views

urlpatterns = [
    path("bare/disputes/<int:dispute_id>/", views.DetailView.as_view(), name="bare-dispute"),
    path("bare/disputes/<int:dispute_id>/offer/", views.OfferView.as_view(), name="bare-offer"),
    path(
        "bare/disputes/<int:dispute_id>/messages/",
        views.MessageView.as_view(),
        name="bare-messages",
    ),
]
