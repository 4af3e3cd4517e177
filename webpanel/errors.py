"""Error pages (HTML) and JSON errors for the API."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def init_errors(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if _wants_json():
            body = {"error": exc.name, "status": exc.code}
            if isinstance(exc.description, str) and exc.code != 500:
                body["message"] = exc.description
            return jsonify(body), exc.code
        return render_template(
            "error.html", code=exc.code, name=exc.name, description=exc.description
        ), exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.error("unhandled error on %s %s", request.method, request.path, exc_info=exc)
        if _wants_json():
            return jsonify({"error": "Internal Server Error", "status": 500}), 500
        return render_template("error.html", code=500, name="Internal Server Error", description=None), 500
