"""/openapi.json: the server's endpoints, with the answer schema taken from bot/answer_schema.py."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from bot.answer_schema import ERROR_SCHEMA, component_schemas
from bot.ask_params import MODES


def _version() -> str:
    try:
        return version("newsdesk")
    except PackageNotFoundError:
        return "0"


def _error(description: str, retry: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if retry:
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}
    return response


def openapi_document() -> dict[str, Any]:
    schemas = component_schemas()
    schemas["Error"] = ERROR_SCHEMA
    ask_fields = {
        "q": ({"type": "string", "maxLength": 1000}, "The question, e.g. how many US troops to Poland?"),
        "k": ({"type": "integer", "minimum": 1, "maximum": 100}, "How many evidence sentences (default 5)."),
        "mode": ({"type": "string", "enum": MODES}, "Retrieval mode (default: the configured one, hybrid)."),
        "since": ({"type": "string", "format": "date"}, "Only evidence published on or after this day (YYYY-MM-DD)."),
        "until": ({"type": "string", "format": "date"}, "Only evidence published on or before this day (YYYY-MM-DD)."),
        "source": (
            {"type": "string"},
            "Only evidence from these sources: whole words, any case; several "
            "separated by commas, or the parameter repeated (a list in JSON).",
        ),
        "as_of": (
            {"type": "string", "format": "date"},
            "The day time words such as latest or last month are read against (default: the archive's newest date).",
        ),
    }
    parameters = [
        {"name": name, "in": "query", "required": name == "q", "schema": schema, "description": text}
        for name, (schema, text) in ask_fields.items()
    ]
    body = {
        "type": "object",
        "required": ["q"],
        "properties": {name: {**schema, "description": text} for name, (schema, text) in ask_fields.items()},
    }
    answered = {
        "200": {
            "description": "The answer: exactly what `newsdesk ask --json` prints.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Answer"}}},
        },
        "400": _error("The question or a parameter cannot be used; the message is the CLI's."),
        "401": _error("NEWSDESK_API_TOKEN is set and the request has no matching bearer token."),
        "429": _error("This client asked too often; see Retry-After.", retry=True),
        "503": _error("Not ready yet, or every worker and queue place is taken; see Retry-After.", retry=True),
    }
    plain = {"type": "object"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "newsdesk",
            "version": _version(),
            "description": "Dated, sourced evidence sentences from a news archive.",
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Only when the server has NEWSDESK_API_TOKEN set.",
                }
            },
        },
        "paths": {
            "/ask": {
                "get": {
                    "summary": "Answer a question",
                    "parameters": parameters,
                    "responses": answered,
                    "security": [{}, {"bearer": []}],
                },
                "post": {
                    "summary": "Answer a question (JSON body)",
                    "responses": answered,
                    "security": [{}, {"bearer": []}],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
                },
            },
            "/stats": {
                "get": {
                    "summary": "Articles, sentences, dates, model and server state",
                    "responses": {
                        "200": {
                            "description": "Index and server figures.",
                            "content": {"application/json": {"schema": plain}},
                        },
                        "503": _error("The index is not loaded yet."),
                    },
                }
            },
            "/healthz": {
                "get": {
                    "summary": "The process is up",
                    "responses": {"200": {"description": "Always, while the process runs."}},
                }
            },
            "/readyz": {
                "get": {
                    "summary": "The index and model are loaded",
                    "responses": {
                        "200": {"description": "Ready to answer."},
                        "503": _error("Not ready; the error says why."),
                    },
                }
            },
            "/": {
                "get": {
                    "summary": "The web page (HTML); the same parameters as GET /ask",
                    "parameters": [{**p, "required": False} for p in parameters],
                    "responses": {"200": {"description": "HTML page.", "content": {"text/html": {}}}},
                }
            },
        },
    }
