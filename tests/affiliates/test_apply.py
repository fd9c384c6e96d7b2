"""A program's public application page (`/partners/apply/<program_id>/`): shown only while the program
takes applications, it makes a pending partner and says thanks, and refuses bad or repeated input."""

import pytest
from django.urls import reverse

from affiliates.models import Partner, PartnerAccount
from tests.factories.affiliates import PartnerFactory, ProgramFactory

pytestmark = pytest.mark.django_db

VALID = {"name": "Dana Blogger", "email": "Dana@Blog.example", "note": "A weekly newsletter on bootstrapping."}


@pytest.fixture
def program():
    return ProgramFactory(name="Acme Partners", applications_open=True, terms="30% of every sale.\n\nNo paid search.")


def apply_url(program) -> str:
    return reverse("affiliates_public:apply", kwargs={"program_id": program.public_id})


def test_the_page_shows_the_program_its_terms_and_the_form(client, program):
    response = client.get(apply_url(program))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Become a partner of Acme Partners" in page
    assert "<p>30% of every sale.</p>" in page and "<p>No paid search.</p>" in page
    for field in ("name", "email", "note"):
        assert f'name="{field}"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert "<script" not in page and "style=" not in page


def test_a_closed_or_unknown_program_is_a_404(client, program):
    closed = ProgramFactory(applications_open=False)

    assert client.get(apply_url(closed)).status_code == 404
    assert client.post(apply_url(closed), VALID).status_code == 404
    assert client.get(reverse("affiliates_public:apply", kwargs={"program_id": "prg_nope"})).status_code == 404
    assert not Partner.objects.exists()


def test_a_valid_application_makes_a_pending_partner_and_thanks(client, program, mailoutbox):
    response = client.post(apply_url(program), VALID, follow=True)

    assert response.redirect_chain == [(apply_url(program), 302)]
    assert "Thank you: your application is in. We will email you our decision." in response.content.decode()
    partner = Partner.objects.get(program=program)
    assert (partner.status, partner.email, partner.name) == ("pending", "dana@blog.example", "Dana Blogger")
    assert partner.application_note == VALID["note"]
    assert partner.account.email == "dana@blog.example" and not partner.account.password
    assert mailoutbox == []  # the decision is mailed once the workspace decides


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({**VALID, "email": "not-an-email"}, "Enter a valid email address."),
        ({**VALID, "name": ""}, "This field is required."),
        ({**VALID, "note": "x" * 2001}, "Ensure this value has at most 2000 characters"),
    ],
)
def test_invalid_input_shows_the_errors_and_writes_nothing(client, program, data, error):
    response = client.post(apply_url(program), data)

    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Partner.objects.exists() and not PartnerAccount.objects.exists()


def test_a_second_application_is_refused_with_a_clear_message(client, program):
    PartnerFactory(program=program, account__email="dana@blog.example", status="pending")

    response = client.post(apply_url(program), VALID)

    assert response.status_code == 400
    assert "dana@blog.example is already a partner of Acme Partners." in response.content.decode()
    assert Partner.objects.filter(program=program).count() == 1
