"""The schema class of every API view: besides the answers a view declares, the errors the API frame
gives it (CONTRACTS.md §5), read off the operation itself so no view has to repeat them."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """`{"detail": "…"}`: for a view's own error answers too (`OpenApiResponse(ErrorSerializer, …)`)."""

    detail = serializers.CharField()


# DRF's field errors: a list of messages per field, or per key or index of a nested field.
VALIDATION_ERROR = {
    "type": "object",
    "description": 'Either `{"detail": "…"}` or the messages per field: `{"start": ["…"]}`.',
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}]},
}


class ApiAutoSchema(AutoSchema):
    def get_description(self) -> str:
        # A view's docstring is a note for developers (how to extend it), not API documentation: an
        # operation is described by its summary and `extend_schema(description=…)`.
        return ""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        located = {parameter["in"] for parameter in operation.get("parameters", [])}
        has_body = "requestBody" in operation
        error = self.resolve_serializer(ErrorSerializer(), "response").ref
        invalid = self._component("ValidationError", VALIDATION_ERROR)
        errors = {
            "400": ("The query or the body is invalid.", invalid, has_body or "query" in located),
            "401": ("Missing, invalid or revoked API key.", error, bool(operation.get("security"))),
            # Another workspace's object, or a page past the last one.
            "404": ("Not found.", error, "path" in located or self._is_paginated()),
            "413": ("The body is too large.", error, has_body),
            "415": ("The body is not `application/json`.", error, has_body),
        }
        responses = operation["responses"]
        for code, (description, schema, applies) in errors.items():
            if applies and code not in responses:
                responses[code] = {"content": {"application/json": {"schema": schema}}, "description": description}
        return operation

    def _is_paginated(self) -> bool:
        return self.method == "GET" and self._is_list_view() and self._get_paginator() is not None

    def _component(self, name: str, schema: dict) -> dict:
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
        self.registry.register_on_missing(component)
        return component.ref
