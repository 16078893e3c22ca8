"""openapi.yaml is generated from the code and committed; this fails when they drift."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.core.management import call_command

from api.views import ACTIONS
from workflows.transitions import CHECKS

ROOT = Path(__file__).resolve().parents[2]


def _generated(tmp_path: Path) -> str:
    out = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(out), "--validate", "--fail-on-warn")
    return out.read_text()


def test_committed_schema_matches_code(tmp_path: Path) -> None:
    committed = (ROOT / "openapi.yaml").read_text()
    assert _generated(tmp_path) == committed, (
        "openapi.yaml is stale: run `make openapi` and commit the result"
    )


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
