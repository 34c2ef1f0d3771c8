"""document-service: ``processDocument`` — reads the uploaded PDF and validates
its structure (``glasspane.demo.pdf``); a broken upload is a 422 and an
``InvalidPdfError`` issue.
"""

from __future__ import annotations

import json
from typing import Any

import sentry_sdk
from flask import Flask, jsonify, request

from glasspane.demo.pdf import InvalidPdfError, document_hash, read_pdf
from glasspane.demo.services import runtime, serving


def build() -> serving.Service:
    app = Flask("document-service")

    @app.post("/documents/process", endpoint="processDocument")
    def process_document() -> Any:
        sentry_sdk.set_user(json.loads(request.form.get("user", "null")))
        with sentry_sdk.start_span(op="file.read", name="Read PDF") as span:
            data = request.files["document"].read()
            span.set_data("file_size", len(data))
            runtime.work(0.4)
        with sentry_sdk.start_span(op="file.validate", name="Check PDF structure") as span:
            try:
                info = read_pdf(data)
            except InvalidPdfError as exc:
                span.set_status("invalid_argument")
                sentry_sdk.capture_exception(exc)
                return jsonify(error="InvalidPdfError", message=str(exc)), 422
            span.set_data("pages", info.pages)
            runtime.work(0.2)
        return jsonify(documentHash=document_hash(data), pages=info.pages, size=len(data))

    return serving.Service(app=app)
