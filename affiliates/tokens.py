"""Set-password links for partner accounts: Django's reset tokens, under a salt of their own so a
member's token can never open a partner account or the reverse."""

from django.contrib.auth.tokens import PasswordResetTokenGenerator


class PartnerTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "affiliates.tokens.PartnerTokenGenerator"


partner_token_generator = PartnerTokenGenerator()
