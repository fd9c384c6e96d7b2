"""Session auth of the partner portal (`/partners/`). A partner account is not a Django `User`: its pk
lives under a session key of its own, next to (never instead of) a member's login, so neither side can
act as the other. A password change ends every other session of the account (the stored hash no longer
matches), as Django does for members."""

from django.contrib.auth.hashers import make_password
from django.core.mail import send_mail
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from affiliates.models import Partner, PartnerAccount, PartnerStatus
from affiliates.selectors.portal import partnerships
from affiliates.services.partners import set_password_url
from trackrev.common.emails import email_normalize
from trackrev.common.errors import ApplicationError
from trackrev.common.throttle import THROTTLED, login_failed, login_succeeded, login_throttled

ACCOUNT_KEY = "partner_account"
HASH_KEY = "partner_account_hash"
PARTNER_KEY = "partner_current"

THROTTLE_SCOPE = "portal-login"
INVALID = "That email and password do not match a partner account."
UNDER_REVIEW = "Your application is still being reviewed: we will email you our decision."


def _session_hash(account: PartnerAccount) -> str:
    return salted_hmac("affiliates.portal_access", account.password, algorithm="sha256").hexdigest()


def account_authenticate(*, email: str, password: str, ip: str) -> PartnerAccount:
    """The account, if the password is its own and it partners (approved or suspended) with a program;
    else ApplicationError with the message to show. Failures are throttled (trackrev/common/throttle.py)."""
    if login_throttled(scope=THROTTLE_SCOPE, email=email, ip=ip):
        raise ApplicationError(THROTTLED, extra={"status": 429})
    account = PartnerAccount.objects.filter(email=email_normalize(email)).first()
    if account is None:
        make_password(password)  # an unknown email costs as long as a wrong password
    if account is None or not account.check_password(password):
        login_failed(scope=THROTTLE_SCOPE, email=email, ip=ip)
        raise ApplicationError(INVALID)
    if not partnerships(account).exists():
        pending = account.partners.filter(status=PartnerStatus.PENDING).exists()
        raise ApplicationError(UNDER_REVIEW if pending else INVALID)
    login_succeeded(scope=THROTTLE_SCOPE, email=email, ip=ip)
    return account


def portal_login(request, account: PartnerAccount) -> None:
    request.session.cycle_key()
    request.session[ACCOUNT_KEY] = account.pk
    request.session[HASH_KEY] = _session_hash(account)
    request.session.pop(PARTNER_KEY, None)
    account.last_login = timezone.now()
    account.save(update_fields=["last_login"])


def portal_logout(request) -> None:
    """Only the portal's keys: a member's login in the same browser stays."""
    for key in (ACCOUNT_KEY, HASH_KEY, PARTNER_KEY):
        request.session.pop(key, None)
    request.session.cycle_key()


def session_account(request) -> PartnerAccount | None:
    pk = request.session.get(ACCOUNT_KEY)
    account = PartnerAccount.objects.filter(pk=pk).first() if pk else None
    if account is None or not constant_time_compare(request.session.get(HASH_KEY, ""), _session_hash(account)):
        return None
    return account


def password_set(*, account: PartnerAccount, password: str) -> PartnerAccount:
    """Validated by the form; changing the hash also spends the set-password link that led here."""
    account.set_password(password)
    account.save(update_fields=["password"])
    return account


def set_password_link_send(*, email: str) -> None:
    """Mail a set-password link if an account uses the email; the caller answers the same either way."""
    account = PartnerAccount.objects.filter(email=email_normalize(email)).first()
    if account is None:
        return
    context = {"account": account, "url": set_password_url(account)}
    body = render_to_string("affiliates/portal/set_password_email.txt", context)
    send_mail("Choose your partner portal password", body, None, [account.email])


def partner_switch(request, *, account: PartnerAccount, public_id: str) -> Partner:
    partner = partnerships(account).filter(public_id=public_id).first()
    if partner is None:
        raise ApplicationError("No such partnership.")
    request.session[PARTNER_KEY] = partner.pk
    return partner


def _current_partner(request, choices: list[Partner]) -> Partner | None:
    """The partnership chosen in this session, else the first approved one, else the first."""
    chosen = request.session.get(PARTNER_KEY)
    for partner in choices:
        if partner.pk == chosen:
            return partner
    approved = [p for p in choices if p.status == PartnerStatus.APPROVED]
    return (approved or choices or [None])[0]


@method_decorator(never_cache, name="dispatch")
class PartnerRequiredMixin:
    """Sets `self.account`, `self.partner` (the current partnership: every read filters by it) and
    `self.partnerships`; anonymous requests go to the login page."""

    def dispatch(self, request, *args, **kwargs):
        account = session_account(request)
        choices = list(partnerships(account)) if account else []
        partner = _current_partner(request, choices)
        if partner is None:
            if account:  # no partnership left (rejected since): the session ends
                portal_logout(request)
            return redirect("affiliates_portal:login")
        self.account, self.partner, self.partnerships = account, partner, choices
        return super().dispatch(request, *args, **kwargs)

    def portal_context(self, **context) -> dict:
        return {"account": self.account, "partner": self.partner, "partnerships": self.partnerships, **context}
