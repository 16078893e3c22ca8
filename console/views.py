"""Saved views of the queue: a mediator names the queue's current filters, sort and search,
and finds them again in the filter sidebar (their own, and those shared by anyone).

Only the queue's own parameters are kept (:data:`QUEUE_PARAMETERS`); a page number or any
other parameter is dropped, so a saved view always opens on its first page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from console.models import SavedView

QUEUE_PARAMETERS = {
    "state__exact",
    "overdue",
    "assigned",
    "approval",
    "conduct",
    "flagged",
    "reason__exact",
    "shop",
    "q",
    "o",
}
NAME_LENGTH = SavedView._meta.get_field("name").max_length or 80


def queue_url() -> str:
    return reverse("admin:mediation_dispute_changelist")


def kept_query(query: str) -> str:
    """The queue parameters of ``query``, in a stable order."""
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=False) if k in QUEUE_PARAMETERS]
    return urlencode(sorted(pairs))


def visible_to(user: Any) -> QuerySet[SavedView]:
    return SavedView.objects.filter(Q(owner_id=user.pk) | Q(shared=True)).select_related("owner")


def sidebar(request: HttpRequest) -> dict[str, Any]:
    """What the queue's sidebar shows: the views, which one is open, what "save" would keep."""
    current = kept_query(request.META.get("QUERY_STRING", ""))
    views = [
        {
            "view": view,
            "url": f"{queue_url()}?{view.query}" if view.query else queue_url(),
            "selected": view.query == current,
            "mine": view.owner_id == request.user.pk,
        }
        for view in visible_to(request.user)
    ]
    return {"saved_views": views, "saved_view_query": current}


def save_view(request: HttpRequest) -> HttpResponse:
    """POST ``name``, ``query`` and ``shared``: the view is saved (or replaced, if the mediator
    has one of that name) and opened."""
    name = (request.POST.get("name") or "").strip()
    query = kept_query(request.POST.get("query") or "")
    back = f"{queue_url()}?{query}" if query else queue_url()
    if not name or len(name) > NAME_LENGTH:
        messages.error(request, f"A saved view needs a name of 1 to {NAME_LENGTH} characters.")
        return HttpResponseRedirect(back)
    shared = request.POST.get("shared") == "on"
    try:
        with transaction.atomic():
            view, created = SavedView.objects.update_or_create(
                owner_id=request.user.pk, name=name, defaults={"query": query, "shared": shared}
            )
    except IntegrityError:  # the same name saved twice at once: the other one won
        messages.error(request, f"A view named “{name}” was saved at the same moment; try again.")
        return HttpResponseRedirect(back)
    done = "Saved" if created else "Replaced"
    who = "every mediator" if shared else "you"
    messages.success(request, f"{done} the view “{view.name}”, shown to {who}.")
    return HttpResponseRedirect(back)


def delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: a mediator deletes one of their own views (never another's shared one)."""
    deleted, _ = SavedView.objects.filter(pk=pk, owner_id=request.user.pk).delete()
    if deleted:
        messages.success(request, "The saved view was deleted.")
    else:
        messages.error(request, "No such view of yours.")
    return HttpResponseRedirect(queue_url())
