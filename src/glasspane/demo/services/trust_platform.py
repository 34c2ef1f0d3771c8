"""trust-platform: ``POST /api/documents/upload`` — the API that conducts the
flow: verify the token (auth-worker), process the PDF (document-service),
extract its metadata (data-service), create the case (aaa-service, which has
it registered on the chain). Downstream errors come back with their status
and message; they were reported where they happened. Each upload is logged when it starts
and, when it fails, with the step's error (``sentry_sdk.logger``, so the lines
carry the trace).
"""

from __future__ import annotations

import json
from typing import Any

import requests
import sentry_sdk
import sentry_sdk.logger
from flask import Flask, jsonify, request

from glasspane.demo.services import runtime, serving

NAME = "POST /api/documents/upload"


class Downstream(Exception):
    """A service downstream answered with an error: its status and body."""

    def __init__(self, answer: requests.Response) -> None:
        body = (
            answer.json()
            if answer.headers.get("content-type", "").startswith("application/json")
            else {}
        )
        super().__init__(body.get("error") or f"HTTP {answer.status_code}")
        self.status = answer.status_code
        self.body = body


def _checked(answer: requests.Response) -> dict[str, Any]:
    if answer.status_code != 200:
        raise Downstream(answer)
    body: dict[str, Any] = answer.json()
    return body


def _post(service: str, path: str, **kwargs: Any) -> dict[str, Any]:
    return _checked(
        runtime.http().post(runtime.url(service) + path, timeout=runtime.http_timeout(), **kwargs)
    )


def build() -> serving.Service:
    app = Flask("trust-platform")

    @app.post("/api/documents/upload", endpoint="uploadDocumentApi")
    def upload() -> Any:
        sentry_sdk.get_current_scope().set_transaction_name(NAME, source="route")
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        document = request.files["file"]
        pdf = document.read()
        sentry_sdk.logger.info(
            "Upload started: {file_name} ({file_size} bytes)",
            file_name=document.filename,
            file_size=len(pdf),
        )
        try:
            user = _post("auth-worker", "/verify-token", json={"token": token})["user"]
            sentry_sdk.set_user(user)
            form = {"user": json.dumps(user)}
            files = {"document": (document.filename, pdf, "application/pdf")}
            processed = _post("document-service", "/documents/process", data=form, files=files)
            metadata = _post("data-service", "/extract-metadata", data=form, files=files)[
                "metadata"
            ]
            case = _post(
                "aaa-service",
                "/cases",
                json={
                    "user": user,
                    "metadata": metadata,
                    "documentHash": processed["documentHash"],
                },
            )
        except Downstream as exc:
            status = 502 if exc.status >= 500 and exc.status != 504 else exc.status
            sentry_sdk.logger.warning(
                "Upload failed: {error} (HTTP {status})", error=str(exc), status=exc.status
            )
            return jsonify(
                error=str(exc), detail=exc.body.get("message") or exc.body.get("detail")
            ), status
        return jsonify(
            caseId=case["caseId"], txHash=case["txHash"], documentHash=processed["documentHash"]
        )

    return serving.Service(app=app)
