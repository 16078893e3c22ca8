"""``GET /api/v1/disputes/{id}/case-file/``: the case file as a streamed ZIP (DESIGN §7)."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from api.views import visible_dispute
from reports import case_file


class CaseFileView(APIView):
    @extend_schema(
        summary="Download the case file (ZIP)",
        responses={(200, "application/zip"): OpenApiTypes.BINARY},
        tags=["evidence"],
        description=(
            "One ZIP for a payment processor or a court, as the caller may see the dispute: "
            "summary.html (readable, self-contained), timeline.json, audit.json (entries with "
            "their hashes), every visible evidence file under evidence/, and manifest.json "
            "(path, size and SHA-256 of every file, evidence checked against the SHA-256 "
            "recorded at upload, and the result of the audit chain check). Streamed as it is "
            "built. For the parties and the mediators."
        ),
    )
    def get(self, request: Request, dispute_id: int) -> StreamingHttpResponse:
        dispute = visible_dispute(request, dispute_id)  # 404 for anyone who may not see it
        viewer = case_file.viewer_for(dispute, request.user)  # 403 for the platform
        case = case_file.collect(dispute, viewer)
        response = StreamingHttpResponse(case_file.stream_zip(case), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{case.filename}"'
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response
