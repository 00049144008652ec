"""Writes on accounts. Views call these; nothing else creates an account."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from portal.accounts.identifiers import normalize
from portal.accounts.models import User

DUPLICATE_IDENTIFIER = _(
    "An account already exists for this identifier: one identifier, one account. "
    "If it is yours, use “Forgot account or password”."
)


def account_register(*, identifier_type, identifier, role, password, **profile):
    """Open an account (申請帳號, ACC-1) and return it.

    Raises ValidationError(code="duplicate_identifier") when the identifier already has an
    account. The form checks that first for a friendly message, but two sign-ups racing
    both pass that check; the unique index decides, and the loser gets the same message.
    """
    identifier = normalize(identifier)
    try:
        with transaction.atomic():
            user = User(identifier_type=identifier_type, identifier=identifier, role=role,
                        **profile)
            user.email = User.objects.normalize_email(user.email)
            user.set_password(password)
            user.save()
    except IntegrityError:
        if User.objects.filter(identifier=identifier).exists():
            raise ValidationError(DUPLICATE_IDENTIFIER, code="duplicate_identifier") from None
        raise
    return user


def account_update_profile(*, user, **changes):
    """Change the contact data of an account. The identifier, its type and the account kind
    are not among the fields: an account never changes whose it is."""
    allowed = {"name_en", "address", "contact_person", "phone", "email", "language"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    for field, value in changes.items():
        setattr(user, field, value)
    user.save(update_fields=sorted(changes))
    return user
