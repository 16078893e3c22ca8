"""Shop policy snapshots are immutable: a published version never changes (a new one is
published instead, through the API or the console), the raise entry records the text's
SHA-256, and the case file shows the exact text in force when the order was placed."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from mediation.models import AuditEntry, PolicyIsPublished, ShopPolicy
from tests.console.helpers import browser
from tests.factories import UserFactory
from tests.scenarios import as_user, dispute_in, make_cast

pytestmark = pytest.mark.django_db


def publish(user: Any, slug: str, **body: Any) -> Any:
    return as_user(user).post(f"/api/v1/shops/{slug}/policies/", body, format="json")


def test_a_published_version_cannot_be_changed() -> None:
    cast = make_cast()
    policy = cast.shop.policies.get()
    policy.text = "Rewritten after the fact."
    with pytest.raises(PolicyIsPublished):
        policy.save()
    with pytest.raises(PolicyIsPublished):
        ShopPolicy.objects.filter(pk=policy.pk).update(text="Sneaky")
    policy.refresh_from_db()
    assert policy.text != "Rewritten after the fact."


def test_the_owner_publishes_the_next_version_and_old_disputes_keep_theirs() -> None:
    sc = dispute_in("awaiting_seller")
    before = sc.dispute.policy_version
    assert before is not None
    r = publish(sc["owner"], sc.cast.shop.slug, text="  Returns within 60 days.  ")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["version"] == before.version + 1
    assert body["text"] == "Returns within 60 days."
    assert body["sha256"] == hashlib.sha256(b"Returns within 60 days.").hexdigest()
    listed = as_user(sc["agent"]).get(f"/api/v1/shops/{sc.cast.shop.slug}/policies/").json()
    assert [p["version"] for p in listed] == [before.version + 1, before.version]
    assert sc.refresh().policy_version == before  # the dispute keeps the text it was sold under
    # Agents read, owners publish; no backdating.
    r = publish(sc["agent"], sc.cast.shop.slug, text="Agent's policy")
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    past = (timezone.now() - timedelta(days=1)).isoformat()
    r = publish(sc["owner"], sc.cast.shop.slug, text="Backdated", effective_from=past)
    assert (r.status_code, r.json()["code"]) == (422, "policy_backdated")
    r = publish(sc["owner"], sc.cast.shop.slug, text="   ")
    assert (r.status_code, r.json()["code"]) == (400, "invalid")
    assert ShopPolicy.objects.filter(shop=sc.cast.shop).count() == 2


def test_the_raise_records_the_policy_text_hash_and_the_case_file_shows_the_text() -> None:
    sc = dispute_in("awaiting_seller")
    policy = sc.dispute.policy_version
    assert policy is not None
    raised = AuditEntry.objects.get(dispute_id=sc.id, seq=1)
    assert raised.payload["policy_version"] == policy.version
    assert raised.payload["policy_sha256"] == hashlib.sha256(policy.text.encode()).hexdigest()
    # A later version changes nothing of this dispute's record.
    publish(sc["owner"], sc.cast.shop.slug, text="A completely new policy.")
    r = as_user(sc["buyer"]).get(f"/api/v1/disputes/{sc.id}/case-file/")
    zf = zipfile.ZipFile(io.BytesIO(b"".join(r.streaming_content)))  # type: ignore[attr-defined]
    summary = zf.read("summary.html").decode()
    assert policy.text in summary and "A completely new policy." not in summary
    assert policy.sha256 in summary


def test_the_console_publishes_a_new_version_and_shows_the_old_ones_read_only() -> None:
    cast = make_cast()
    admin = UserFactory(is_staff=True, is_superuser=True)
    client = browser(admin)
    url = f"/admin/mediation/shop/{cast.shop.pk}/change/"
    page = client.get(url).content.decode()
    old = cast.shop.policies.get()
    assert old.text in page
    assert 'name="policies-0-text"' not in page, "published versions are not editable"
    # An hour ahead, as the console's clock shows it: date and time of one instant (taken
    # apart, an hour before midnight gave today's date with tomorrow's time: backdated).
    effective = timezone.localtime(timezone.now() + timedelta(hours=1))
    form = {
        "name": cast.shop.name,
        "slug": cast.shop.slug,
        "members-TOTAL_FORMS": "0",
        "members-INITIAL_FORMS": "0",
        "policies-TOTAL_FORMS": "2",
        "policies-INITIAL_FORMS": "1",
        "policies-0-id": str(old.pk),
        "policies-0-shop": str(cast.shop.pk),
        "policies-1-shop": str(cast.shop.pk),
        "policies-1-text": "Exchanges only, within 14 days.",
        "policies-1-effective_from_0": effective.strftime("%Y-%m-%d"),
        "policies-1-effective_from_1": effective.strftime("%H:%M:%S"),
    }
    r = client.post(url, form)
    assert r.status_code == 302, r.content.decode()[:2000]
    versions = list(cast.shop.policies.order_by("version").values_list("version", "text"))
    assert versions == [
        (old.version, old.text),
        (old.version + 1, "Exchanges only, within 14 days."),
    ]
