"""File downloads the pages and the API answer with."""

from collections.abc import Iterable

from django.http import HttpResponse, StreamingHttpResponse


def csv_attachment(body: str = "", *, filename: str) -> HttpResponse:
    """A CSV file the browser saves as `filename` (write more rows into it with csv.writer if needed)."""
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def streamed_attachment(chunks: Iterable[str], *, filename: str, content_type: str) -> StreamingHttpResponse:
    """A file sent while `chunks` are produced, for exports too large to build in memory."""
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
