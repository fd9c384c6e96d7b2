"""Partners: added by the workspace (approved at once) or applying on the program's public page
(pending until the workspace decides); each decision is emailed through Django's mail backend."""

import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.text import slugify

from affiliates.models import (
    CommissionKind,
    DiscountCode,
    Link,
    Partner,
    PartnerAccount,
    PartnerStatus,
    PayoutMethod,
    Program,
)
from affiliates.services.commissions import order_commissions_sync
from affiliates.tokens import partner_token_generator
from trackrev.common.emails import email_normalize
from trackrev.common.errors import ApplicationError

CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class Taken(ApplicationError):
    """Already a partner of the program, or the code belongs to another partner (the API answers 409)."""


def partner_link(partner: Partner, slug: str = "") -> str:
    """`{BASE}/r/{code}`, or `{BASE}/r/{code}/{slug}` for one of the partner's extra links."""
    if slug:
        path = reverse("affiliates_public:redirect_link", kwargs={"code": partner.code, "slug": slug})
    else:
        path = reverse("affiliates_public:redirect", kwargs={"code": partner.code})
    return settings.TRACKREV_PUBLIC_URL + path


def _code_for(name: str) -> str:
    """A readable, unused code: the name's slug, else the slug with a short random tail."""
    base = slugify(name)[:24].strip("-") or "partner"
    candidates = [base] + [f"{base}-{''.join(secrets.choice(CODE_ALPHABET) for _ in range(4))}" for _ in range(8)]
    for candidate in candidates:
        if not Partner.objects.filter(code=candidate).exists():
            return candidate
    raise ApplicationError("Could not find a free partner code; choose one.")


def payout_details_validate(*, method: str, details: dict) -> dict:
    """The details a method needs, and nothing else."""
    if method == PayoutMethod.PAYPAL:
        email = str(details.get("paypal_email", "")).strip()
        try:
            validate_email(email)
        except ValidationError as error:
            raise ApplicationError("PayPal payouts need the partner's PayPal email (paypal_email).") from error
        return {"paypal_email": email}
    if method == PayoutMethod.STRIPE:
        account = str(details.get("stripe_account", "")).strip()
        if not account.startswith("acct_") or len(account) > 64:
            raise ApplicationError("Stripe payouts need the partner's connected account id (stripe_account: acct_…).")
        if not settings.STRIPE_PAYOUTS_API_KEY:
            raise ApplicationError(
                "Stripe payouts are not available on this TrackRev (STRIPE_PAYOUTS_API_KEY is unset)."
            )
        return {"stripe_account": account}
    if method == PayoutMethod.MANUAL:
        return {"instructions": str(details.get("instructions", "")).strip()[:500]}
    raise ApplicationError("Unknown payout method.")


def _account_for(*, email: str, name: str) -> PartnerAccount:
    account, _ = PartnerAccount.objects.get_or_create(email=email_normalize(email), defaults={"name": name})
    return account


@transaction.atomic
def partner_create(
    *,
    program: Program,
    email: str,
    name: str,
    payout_method: str = PayoutMethod.MANUAL,
    payout_details: dict | None = None,
    code: str = "",
    status: str = PartnerStatus.APPROVED,
    application_note: str = "",
) -> Partner:
    details = payout_details_validate(method=payout_method, details=payout_details or {})
    account = _account_for(email=email, name=name)
    if Partner.objects.filter(program=program, account=account).exists():
        raise Taken(f"{account.email} is already a partner of {program.name}.")
    code = slugify(code)[:40] if code else _code_for(name)
    if Partner.objects.filter(code=code).exists():
        raise Taken(f"The code {code!r} is taken; choose another.")
    partner = Partner(
        workspace_id=program.workspace_id,
        program=program,
        account=account,
        name=name.strip(),
        email=account.email,
        code=code,
        status=status,
        payout_method=payout_method,
        payout_details=details,
        application_note=application_note,
        decided_at=timezone.now() if status == PartnerStatus.APPROVED else None,
    )
    partner.full_clean(exclude=["account", "program"])
    try:
        with transaction.atomic():
            partner.save()
    except IntegrityError as error:  # a concurrent request took the code
        raise Taken(f"The code {code!r} is taken; choose another.") from error
    if status == PartnerStatus.APPROVED:
        transaction.on_commit(lambda: _decision_send(partner))
    return partner


def partner_apply(*, program: Program, email: str, name: str, note: str = "") -> Partner:
    """An application on the program's public page: pending until the workspace decides."""
    if not program.applications_open:
        raise ApplicationError("This program does not take applications.")
    return partner_create(program=program, email=email, name=name, status=PartnerStatus.PENDING, application_note=note)


ALLOWED_MOVES = {
    PartnerStatus.APPROVED: {PartnerStatus.PENDING, PartnerStatus.SUSPENDED, PartnerStatus.REJECTED},
    PartnerStatus.REJECTED: {PartnerStatus.PENDING},
    PartnerStatus.SUSPENDED: {PartnerStatus.APPROVED},
}


@transaction.atomic
def partner_set_status(*, partner: Partner, status: str) -> Partner:
    """Approve or reject an application, suspend or reactivate (approve again) a partner."""
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    if partner.status not in ALLOWED_MOVES.get(status, set()):
        raise ApplicationError(f"This partner is {partner.get_status_display().lower()}: they cannot become {status}.")
    was = partner.status
    partner.status, partner.decided_at = status, timezone.now()
    partner.save(update_fields=["status", "decided_at"])
    unpaid = partner.commissions.filter(kind=CommissionKind.SALE, payout__isnull=True)
    for order_id in unpaid.values_list("order_id", flat=True):  # held while suspended, reversed if rejected
        order_commissions_sync(order_id=order_id)
    if was == PartnerStatus.PENDING:
        transaction.on_commit(lambda: _decision_send(partner))
    return partner


def set_password_url(account: PartnerAccount) -> str:
    path = reverse(
        "affiliates_portal:set_password",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(account.pk)),
            "token": partner_token_generator.make_token(account),
        },
    )
    return settings.TRACKREV_PUBLIC_URL + path


def _decision_send(partner: Partner) -> None:
    approved = partner.status == PartnerStatus.APPROVED
    context = {
        "partner": partner,
        "program": partner.program,
        "approved": approved,
        "link": partner_link(partner),
        "set_password_url": set_password_url(partner.account) if approved and not partner.account.password else "",
        "portal_url": settings.TRACKREV_PUBLIC_URL + reverse("affiliates_portal:login"),
    }
    subject = (
        f"You are a partner of {partner.program.name}" if approved else f"Your application to {partner.program.name}"
    )
    send_mail(subject, render_to_string("affiliates/emails/decision.txt", context), None, [partner.email])


@transaction.atomic
def link_create(*, partner: Partner, slug: str, url: str) -> Link:
    """An extra link to another page of the customer's own site."""
    slug = slugify(slug)[:40]
    if not slug:
        raise ApplicationError("Give the link a short name (letters, digits, dashes).")
    if not _on_site(partner.program, url):
        raise ApplicationError("A partner link must lead to a page of the program's own site.")
    if Link.objects.filter(partner=partner, slug=slug).exists():
        raise ApplicationError(f"You already have a link named {slug!r}.")
    link = Link(workspace_id=partner.workspace_id, partner=partner, slug=slug, url=url)
    link.full_clean(exclude=["partner"])
    link.save()
    return link


def _on_site(program: Program, url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    site = (urlsplit(program.destination_url).hostname or "").lower()
    domains = {site, *(d.lower().lstrip(".") for d in program.workspace.allowed_domains)} - {""}
    scheme_ok = urlsplit(url).scheme in ("http", "https")
    return scheme_ok and any(host == d or host.endswith("." + d) for d in domains)


@transaction.atomic
def discount_code_add(*, partner: Partner, code: str) -> DiscountCode:
    code = code.strip().lower()
    if not code or len(code) > 100:
        raise ApplicationError("A discount code is 1 to 100 characters.")
    if DiscountCode.objects.filter(workspace_id=partner.workspace_id, code=code).exists():
        raise ApplicationError(f"The code {code!r} already belongs to a partner.")
    return DiscountCode.objects.create(workspace_id=partner.workspace_id, partner=partner, code=code)


@transaction.atomic
def payout_settings_set(*, partner: Partner, method: str, details: dict) -> Partner:
    partner.payout_details = payout_details_validate(method=method, details=details)
    partner.payout_method = method
    partner.save(update_fields=["payout_method", "payout_details"])
    return partner
