"""data-service: ``extractMetadata`` — the scenario's Python service: reads the
PDF, "extracts metadata with AI" (the text lines ``Key: value`` after a
model's latency), validates the fields. The model provider rate-limits one
call in two hundred.
"""

from __future__ import annotations

import json
import random
from typing import Any

import sentry_sdk
from flask import Flask, jsonify, request

from glasspane.demo.pdf import InvalidPdfError, read_pdf
from glasspane.demo.services import runtime, serving

REQUIRED = ("case_type", "claimant", "respondent", "amount_in_dispute")
RATE_LIMITED = 0.005


class AIProviderError(Exception):
    """The metadata model did not answer."""


class MetadataValidationError(Exception):
    """The extracted metadata misses a required field."""


def extract(lines: tuple[str, ...]) -> dict[str, str]:
    fields = {}
    for line in lines:
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip().lower().replace(" ", "_")] = value.strip()
    return fields


def build() -> serving.Service:
    app = Flask("data-service")

    @app.post("/extract-metadata", endpoint="extractMetadata")
    def extract_metadata() -> Any:
        sentry_sdk.set_user(json.loads(request.form.get("user", "null")))
        with sentry_sdk.start_span(op="file.read", name="Read PDF") as span:
            data = request.files["document"].read()
            span.set_data("file_size", len(data))
            runtime.work(0.1)
        try:
            with sentry_sdk.start_span(op="ai.extract", name="Extract metadata with AI") as span:
                span.set_data("ai.model", "gpt-4")
                runtime.work(1.8, sigma=0.4)
                if random.random() < RATE_LIMITED:
                    raise AIProviderError("AI provider rate limit exceeded (429): retry later")
                metadata = extract(read_pdf(data).lines)
                span.set_data("fields_extracted", len(metadata))
            with sentry_sdk.start_span(op="validation", name="Validate fields"):
                runtime.work(0.12)
                missing = [name for name in REQUIRED if not metadata.get(name)]
                if missing:
                    raise MetadataValidationError(f"missing field(s): {', '.join(missing)}")
        except (AIProviderError, MetadataValidationError, InvalidPdfError) as exc:
            sentry_sdk.capture_exception(exc)
            status = 503 if isinstance(exc, AIProviderError) else 422
            return jsonify(error=type(exc).__name__, message=str(exc)), status
        return jsonify(metadata=metadata)

    return serving.Service(app=app)
