"""Serializer fields for API input that accept exactly what the schema says."""

import datetime as dt

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# Trimmed, a blank value is refused: the schema says so with a pattern.
NOT_BLANK = RegexValidator(r"\S", "May not be blank.")


class StrictCharField(serializers.CharField):
    """A JSON string only: DRF's CharField would also take `123` as "123", against a schema saying string."""

    default_error_messages = {"invalid": "Not a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


FIRST_DAY, LAST_DAY = dt.date(1970, 1, 1), dt.date(2999, 12, 31)


@extend_schema_field({"type": "string", "format": "date", "pattern": r"^(19[7-9][0-9]|2[0-9]{3})-"})
class ApiDateField(serializers.DateField):
    """YYYY-MM-DD from 1970 to 2999 (the pattern says so): far enough from the ends of Python's dates that
    a default range around it, a day past it or a time zone offset never overflows."""

    default_error_messages = {"range": f"A date from {FIRST_DAY} to {LAST_DAY}."}

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        if not FIRST_DAY <= day <= LAST_DAY:
            self.fail("range")
        return day


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only: DRF's BooleanField would also take `0`, `"yes"` or `"off"`."""

    default_error_messages = {"invalid": "Not a boolean (true or false)."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: DRF's IntegerField would also take `"60"` or `60.0`."""

    default_error_messages = {"invalid": "Not an integer."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictRegexField(serializers.RegexField):
    """A JSON string matching the pattern: DRF's RegexField would also take the number `0` as "0"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
