"""The API's only parser: JSON held to `json_loads_strict`, and a body no larger than Django allows for
form data (DRF reads the stream itself, so DATA_UPLOAD_MAX_MEMORY_SIZE would not apply on its own)."""

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

from trackrev.common.strict_json import JsonInvalid, json_loads_strict


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise BodyTooLarge()
        try:
            return json_loads_strict(body)
        except JsonInvalid as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
