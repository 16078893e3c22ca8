from django.contrib.auth.views import LogoutView
from django.urls import path

from demo import pages

urlpatterns = [
    path("", pages.home, name="home"),
    path("disputes/login/", pages.LoginView.as_view(), name="dispute-login"),
    path("disputes/logout/", LogoutView.as_view(next_page="dispute-login"), name="dispute-logout"),
    path("disputes/<int:dispute_id>/", pages.dispute_page, name="dispute-page"),
]
