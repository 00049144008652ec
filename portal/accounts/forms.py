from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from portal.accounts import identifiers
from portal.accounts.models import IdentifierType, Role, User
from portal.accounts.services import DUPLICATE_IDENTIFIER
from portal.forms import PortalFormMixin, PortalModelForm


class SignUpForm(PortalModelForm):
    """申請帳號 (ACC-1)."""

    password1 = forms.CharField(
        label=_("Password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = User
        fields = ["identifier_type", "identifier", "role", "name", "name_en", "address",
                  "contact_person", "phone", "email", "language"]
        widgets = {
            "identifier_type": forms.RadioSelect,
            "role": forms.RadioSelect,
        }
        help_texts = {
            "identifier": _("Your unified business number, ID or resident certificate number, "
                            "or passport number. It is also your account for logging in."),
            "role": _("Filing agents file applications on behalf of importers and exporters "
                      "and sign up with their own unified business number."),
            "name": _("Company name, or your name for a personal account."),
        }
        labels = {"language": _("Language of e-mails")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kind = self.fields["identifier_type"]
        kind.choices = IdentifierType.choices  # radio buttons without an empty "-----" one
        kind.initial = IdentifierType.BAN

    def clean_identifier(self):
        value = identifiers.normalize(self.cleaned_data["identifier"])
        kind = self.cleaned_data.get("identifier_type")
        if kind:
            identifiers.validate_identifier(kind, value)
        if User.objects.filter(identifier=value).exists():
            raise forms.ValidationError(DUPLICATE_IDENTIFIER, code="duplicate_identifier")
        return value

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("role") == Role.AGENT and cleaned.get("identifier_type") not in (
            None, IdentifierType.BAN,
        ):
            self.add_error("identifier_type", forms.ValidationError(
                _("A filing agent signs up with its unified business number."),
                code="agent_needs_ban"))
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", forms.ValidationError(
                _("The two passwords differ."), code="password_mismatch"))
        elif password1:
            candidate = User(**{f: cleaned.get(f) for f in ("identifier", "name", "email")})
            try:
                password_validation.validate_password(password1, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned

    def _post_clean(self):
        # The model is saved by the service; skip ModelForm's own unique check (the form
        # already gave the friendly message, and the service handles the race).
        pass


class LoginForm(PortalFormMixin, auth_forms.AuthenticationForm):
    """登入系統 (ACC-2)."""

    error_messages = {
        "invalid_login": _("Wrong account or password. The password is case-sensitive; "
                           "after 5 failed attempts the account is locked for 15 minutes."),
        "inactive": _("This account is disabled. Please call the bureau."),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("Account")
        self.fields["username"].help_text = _(
            "Your unified business number, ID number or passport number.")
        self.fields["password"].label = _("Password")


def _queue_mail(subject_template_name, email_template_name, context, to_email,
                html_email_template_name=None):
    from django.template import loader

    from permits import notifications
    from permits.models import OutboundEmail

    subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
    body = loader.render_to_string(email_template_name, context)
    # The outbox, as every mail (permits.outbox): sent by Celery after the request, so a slow
    # or absent mail server never blocks the page; with the broker down the row stays unsent
    # and beat's resend sends it once Redis is back.
    email = OutboundEmail.objects.create(to=to_email, subject=subject[:250], body=body)
    notifications.queue_after_commit([email.pk])


class PasswordResetForm(PortalFormMixin, auth_forms.PasswordResetForm):
    """忘記帳號密碼: the mail names the account too, so a forgotten account is found as well."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("E-mail registered on the account")

    def send_mail(self, subject_template_name, email_template_name, context, from_email,
                  to_email, html_email_template_name=None):
        _queue_mail(subject_template_name, email_template_name, context, to_email)


class SetPasswordForm(PortalFormMixin, auth_forms.SetPasswordForm):
    pass


class PasswordChangeForm(PortalFormMixin, auth_forms.PasswordChangeForm):
    pass


class ProfileForm(PortalModelForm):
    """The contact data of an account; the identifier is shown, never editable."""

    class Meta:
        model = User
        fields = ["name_en", "address", "contact_person", "phone", "email", "language"]
        labels = {"language": _("Language of e-mails")}
