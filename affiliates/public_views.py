"""Endpoints without a member's session: partner links (`/r/{code}`) and a program's application page."""

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View
from django.views.decorators.cache import never_cache

from affiliates.forms import ApplicationForm
from affiliates.models import Link, Partner, PartnerStatus, Program
from affiliates.services.clicks import click_record, landing_url
from affiliates.services.partners import partner_apply
from attribution.pixel.bots import is_bot
from trackrev.common.client_ip import client_ip
from trackrev.common.errors import ApplicationError


@never_cache
def partner_redirect(request, code: str, slug: str = ""):
    """302 to the program's destination (or the extra link's page) with `via={code}`; the click is recorded."""
    partner = Partner.objects.select_related("program").filter(code=code.lower(), status=PartnerStatus.APPROVED).first()
    if partner is None:
        raise Http404("No such partner link.")
    destination = partner.program.destination_url
    if slug:
        link = Link.objects.filter(partner=partner, slug=slug).first()
        if link is None:
            raise Http404("No such partner link.")
        destination = link.url
    if not is_bot(request.META.get("HTTP_USER_AGENT", "")):
        click_record(
            partner=partner, link_slug=slug, ip=client_ip(request), referrer=request.META.get("HTTP_REFERER", "")
        )
    return HttpResponseRedirect(landing_url(destination, partner.code))


class ApplyView(View):
    """A program's public application page (when the workspace opened applications)."""

    def _program(self, program_id: str) -> Program:
        return get_object_or_404(Program, public_id=program_id, applications_open=True)

    def get(self, request, program_id: str):
        program = self._program(program_id)
        return render(request, "affiliates/apply.html", {"program": program, "form": ApplicationForm()})

    def post(self, request, program_id: str):
        program = self._program(program_id)
        form = ApplicationForm(request.POST)
        if form.is_valid():
            try:
                partner_apply(program=program, **form.cleaned_data)
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, "Thank you: your application is in. We will email you our decision.")
                return redirect("affiliates_public:apply", program_id=program.public_id)
        return render(request, "affiliates/apply.html", {"program": program, "form": form}, status=400)
