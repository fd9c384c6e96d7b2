"""django-csp's middleware, minus the work for exempt responses: django-csp 4.0 builds the whole policy
string for every response before it looks at `@csp_exempt()`, which cost the pixel's `/collect` (a
bodiless answer, many times a second) about a fifth of its time (docs/benchmarks.md, "Pixel")."""

from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from django.conf import settings


class CSPMiddleware(BaseCSPMiddleware):
    def process_response(self, request, response):
        report_only = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
        if getattr(response, "_csp_exempt", False) and not report_only:
            return response
        return super().process_response(request, response)
