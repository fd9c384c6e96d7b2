"""File downloads the pages and the API answer with."""

from django.http import HttpResponse


def csv_attachment(body: str = "", *, filename: str) -> HttpResponse:
    """A CSV file the browser saves as `filename` (write more rows into it with csv.writer if needed)."""
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
