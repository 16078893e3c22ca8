"""openapi.yaml is generated from the code and committed; this fails when they drift."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from django.core.management import call_command

from api.rest import operation_id
from api.views import ACTION_OPERATION_IDS, ACTIONS
from workflows.transitions import CHECKS

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / "clients"


def _generated(tmp_path: Path) -> str:
    out = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(out), "--validate", "--fail-on-warn")
    return out.read_text()


def test_committed_schema_matches_code(tmp_path: Path) -> None:
    committed = (ROOT / "openapi.yaml").read_text()
    assert _generated(tmp_path) == committed, (
        "openapi.yaml is stale: run `make openapi` and commit the result"
    )


def _client_generator() -> ModuleType:
    """clients/generate.py (a script, not a package of the service), loaded as a module."""
    spec = importlib.util.spec_from_file_location("generate_client", CLIENTS / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_client_matches_schema(tmp_path: Path) -> None:
    """clients/python is what openapi-python-client makes of the committed openapi.yaml (run
    offline, from this virtualenv), with the modules written by hand beside it."""
    generator = _client_generator()
    generator.generate(tmp_path / "python")
    generated = generator.files(tmp_path / "python")
    committed = generator.files(CLIENTS / "python")
    found = generator.differences(generated, committed)
    assert not found, (
        "clients/python is stale: run `make openapi` and commit the result\n"
        + ("".join(found)[:6000])
    )
    assert "mediation_client/api/disputes/list_disputes.py" in generated
    for name in generator.HAND_WRITTEN:
        assert name in committed and name not in generated
    # The check sees a change, a file gone and a file left over.
    changed = dict(committed, **{"mediation_client/client.py": b"# edited\n"})
    assert generator.differences(generated, changed)
    gone = {k: v for k, v in committed.items() if k != "mediation_client/types.py"}
    assert generator.differences(generated, gone)
    assert generator.differences(generated, {**committed, "mediation_client/api/old.py": b""})


def test_schema_covers_the_v1_contract() -> None:
    schema = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    paths = schema["paths"]
    for path, method in [
        ("/api/v1/auth/token/", "post"),
        ("/api/v1/orders/", "get"),
        ("/api/v1/orders/", "post"),
        ("/api/v1/disputes/", "get"),
        ("/api/v1/disputes/", "post"),
        ("/api/v1/disputes/{dispute_id}/", "get"),
        ("/api/v1/disputes/{dispute_id}/offers/{offer_id}/approve/", "post"),
        ("/api/v1/disputes/{dispute_id}/offers/{offer_id}/reject/", "post"),
        ("/api/v1/disputes/{dispute_id}/messages/", "get"),
        ("/api/v1/disputes/{dispute_id}/messages/", "post"),
        ("/api/v1/disputes/{dispute_id}/messages/{message_id}/report/", "post"),
        ("/api/v1/disputes/{dispute_id}/timeline/", "get"),
        ("/api/v1/disputes/{dispute_id}/audit/", "get"),
        ("/api/v1/disputes/{dispute_id}/feedback/", "post"),
    ]:
        assert method in paths.get(path, {}), f"{method.upper()} {path} missing from openapi.yaml"
    for action in ACTIONS:
        assert "post" in paths[f"/api/v1/disputes/{{dispute_id}}/{action}/"]
    allowed = schema["components"]["schemas"]["Dispute"]["properties"]["allowed_actions"]
    enum_name = allowed["items"]["$ref"].rsplit("/", 1)[-1]
    # allowed_actions names every guarded action, the owner's decisions on offers included.
    assert set(schema["components"]["schemas"][enum_name]["enum"]) == set(CHECKS)


def _operation_ids(schema: dict) -> dict[tuple[str, str], str]:
    return {
        (method, path): operation["operationId"]
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        if isinstance(operation, dict)
    }


def test_operation_ids_are_verb_and_noun_and_unique() -> None:
    """The generated client's function names: snake_case, unique, no ``v1`` or path
    parameters, one per operation."""
    ids = _operation_ids(yaml.safe_load((ROOT / "openapi.yaml").read_text()))
    assert len(set(ids.values())) == len(ids), "two operations share an operationId"
    for (method, path), op_id in ids.items():
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", op_id), (method, path, op_id)
        assert not op_id.startswith("v1") and "_id" not in op_id, (method, path, op_id)


def test_operation_ids_a_seller_calls() -> None:
    ids = _operation_ids(yaml.safe_load((ROOT / "openapi.yaml").read_text()))
    disputes, dispute = "/api/v1/disputes/", "/api/v1/disputes/{dispute_id}/"
    offers = "/api/v1/disputes/{dispute_id}/offers/{offer_id}"
    endpoint = "/api/v1/webhook-endpoints/{endpoint_id}/"
    assert ids[("post", "/api/v1/auth/token/")] == "create_token"
    assert ids[("get", disputes)] == "list_disputes"
    assert ids[("post", disputes)] == "create_dispute"
    assert ids[("get", dispute)] == "get_dispute"
    assert ids[("post", f"{dispute}offer/")] == "make_offer"
    assert ids[("post", f"{dispute}counter/")] == "counter_offer"
    assert ids[("post", f"{dispute}accept-offer/")] == "accept_offer"
    assert ids[("post", f"{dispute}escalate/")] == "escalate"
    assert ids[("post", f"{offers}/approve/")] == "approve_offer"
    assert ids[("post", f"{offers}/reject/")] == "reject_offer"
    assert ids[("get", f"{dispute}messages/")] == "list_messages"
    assert ids[("post", f"{dispute}messages/")] == "create_message"
    assert ids[("post", f"{dispute}messages/{{message_id}}/report/")] == "report_message"
    assert ids[("get", f"{dispute}audit/")] == "get_audit"
    assert ids[("post", "/api/v1/shops/{slug}/api-keys/{prefix}/revoke/")] == "revoke_api_key"
    assert ids[("post", "/api/v1/shops/{slug}/policies/")] == "create_policy"
    assert ids[("get", "/api/v1/stats/")] == "get_stats"
    assert ids[("patch", endpoint)] == "update_webhook_endpoint"
    assert ids[("delete", endpoint)] == "delete_webhook_endpoint"
    assert ids[("post", f"{endpoint}rotate-secret/")] == "rotate_webhook_secret"


def test_every_action_is_named_after_its_slug() -> None:
    """An action's operationId is its path segment in snake_case (``offer`` and ``counter``
    name what they make), so adding an action names its client function predictably."""
    ids = _operation_ids(yaml.safe_load((ROOT / "openapi.yaml").read_text()))
    for slug in ACTIONS:
        expected = ACTION_OPERATION_IDS.get(slug, slug.replace("-", "_"))
        assert ids[("post", f"/api/v1/disputes/{{dispute_id}}/{slug}/")] == expected


@pytest.mark.parametrize(
    ("method", "path", "list_view", "readable", "expected"),
    [
        ("GET", "/api/v1/orders/", True, True, "list_orders"),
        ("POST", "/api/v1/orders/", False, True, "create_order"),
        ("GET", "/api/v1/shops/{slug}/policies/", True, True, "list_policies"),
        ("POST", "/api/v1/shops/{slug}/policies/", False, True, "create_policy"),
        ("GET", "/api/v1/webhook-endpoints/{endpoint_id}/", False, True, "get_webhook_endpoint"),
        (
            "PUT",
            "/api/v1/webhook-endpoints/{endpoint_id}/",
            False,
            True,
            "replace_webhook_endpoint",
        ),
        ("GET", "/api/v1/disputes/{dispute_id}/case-file/", False, True, "get_case_file"),
        # A verb after an item, on a path that answers no GET: <verb>_<noun>.
        (
            "POST",
            "/api/v1/disputes/{dispute_id}/evidence/{evidence_id}/withdraw/",
            False,
            False,
            "withdraw_evidence",
        ),
        # A POST to a sub-collection that has a GET creates one of it.
        ("POST", "/api/v1/disputes/{dispute_id}/feedback/", False, True, "create_feedback"),
        ("POST", "/api/v1/auth/token/", False, False, "create_token"),
    ],
)
def test_operation_id_rule(
    method: str, path: str, list_view: bool, readable: bool, expected: str
) -> None:
    assert operation_id(method, path, list_view=list_view, readable=readable) == expected


def test_only_the_login_is_anonymous_and_says_so_with_no_requirement() -> None:
    """``security: []`` (not ``[{}]``): the generated client's ``create_token`` takes a plain
    ``Client``, as a seller has no token before logging in."""
    schema = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    anonymous = {
        (method, path)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        if isinstance(operation, dict) and not any(operation.get("security", [{}]))
    }
    assert anonymous == {("post", "/api/v1/auth/token/")}
    assert schema["paths"]["/api/v1/auth/token/"]["post"]["security"] == []


def test_every_default_is_a_value_its_field_accepts() -> None:
    """A generated client sends a field's default when the caller leaves it out: a default
    that its own minLength, pattern or enum refuses would make every such call a 400."""
    schema = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    wrong = []
    for name, component in schema["components"]["schemas"].items():
        for field, prop in (component.get("properties") or {}).items():
            if "default" not in prop or prop.get("readOnly"):
                continue
            value = prop["default"]
            if isinstance(value, str) and (
                len(value) < prop.get("minLength", 0)
                or ("pattern" in prop and not re.search(prop["pattern"], value))
            ):
                wrong.append(f"{name}.{field}")
            if "enum" in prop and value not in prop["enum"]:
                wrong.append(f"{name}.{field}")
    assert not wrong
