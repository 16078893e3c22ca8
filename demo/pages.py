"""The service's own pages for a browser, on a laptop with no storefront in front of it.

- ``/``: what runs here, with links to the API docs, the console and the health probes
  (the root of the service answered 404 before);
- ``/disputes/<id>/``: the link of the parties' emails while ``STOREFRONT_DISPUTE_URL`` is
  not set (a marketplace's storefront shows its own page of the dispute): the buyer or the
  shop's member logs in with their password and reads the dispute as the API shows it to
  them (its state and deadline, offers, rulings, the thread and the steps), read-only; the
  answers go through the API. A mediator is sent to the case in the console; anyone else
  gets a 404, as from the API.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from mediation.models import Dispute, Outcome, Remedy, State
from mediation.money import format_money
from mediation.selectors import dispute_detail_queryset, messages_for
from reports.timeline import timeline
from workflows.visibility import viewer_of, visible_offers, visible_rulings


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "demo/home.html", {"dispute_pages": settings.DISPUTE_PAGES})


class LoginView(auth_views.LoginView):
    template_name = "demo/login.html"
    redirect_authenticated_user = True
    # Without a ?next= (the email links give one): the service's home page.
    next_page = "/"


def _label(choices: Any, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def _amount(amount: int | None, currency: str) -> str:
    return "" if amount is None else format_money(amount, currency)


def dispute_page(request: HttpRequest, dispute_id: int) -> HttpResponse:
    if not settings.DISPUTE_PAGES:
        raise Http404("The storefront shows the disputes (STOREFRONT_DISPUTE_URL).")
    if not request.user.is_authenticated:
        return HttpResponseRedirect(f"{reverse('dispute-login')}?next={request.path}")
    dispute: Dispute | None = (
        dispute_detail_queryset(request.user, by_id=True).filter(pk=dispute_id).first()
    )
    if dispute is None:
        raise Http404("No such dispute, or not one of yours.")
    viewer = viewer_of(dispute, request.user)
    if viewer.staff:
        return HttpResponseRedirect(reverse("admin:mediation_dispute_change", args=[dispute.pk]))
    currency = dispute.order.currency
    sees_thread = viewer.party is not None
    context = {
        "dispute": dispute,
        "viewer": viewer,
        "state": _label(State, dispute.state),
        "closed": dispute.state == State.CLOSED,
        "outcome": _label(Outcome, dispute.outcome) if dispute.outcome else "",
        "requested": _label(Remedy, dispute.requested_outcome),
        "requested_amount": _amount(dispute.requested_amount, currency),
        "total": _amount(dispute.order.total, currency),
        "offers": [
            {
                "kind": _label(Remedy, offer.kind),
                "amount": _amount(offer.amount, currency),
                "status": offer.status.replace("_", " "),
                "note": offer.note if sees_thread else "",
            }
            for offer in visible_offers(dispute, to_buyer=viewer.party == "buyer")
        ],
        "rulings": [
            {"kind": _label(Remedy, ruling.kind), "amount": _amount(ruling.amount, currency)}
            for ruling in visible_rulings(dispute, staff=False)
        ],
        "thread": list(messages_for(dispute, include_internal=False).order_by("pk"))
        if sees_thread
        else [],
        "steps": timeline(dispute, include_internal=False, party=viewer.party),
        "api_url": f"/api/v1/disputes/{dispute.pk}/",
    }
    return render(request, "demo/dispute.html", context)
