from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.generic import FormView, UpdateView

from portal.accounts import forms, services, throttle
from portal.forms import RefusedFormMixin
from portal.middleware import IDLE_LOGOUT_FLAG


class SignUpView(RefusedFormMixin, FormView):
    """申請帳號 (ACC-1)."""

    form_class = forms.SignUpForm
    template_name = "accounts/signup.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return redirect("home")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        password = data.pop("password1")
        data.pop("password2")
        try:
            user = services.account_register(password=password, **data)
        except ValidationError as error:
            form.add_error("identifier", error)
            return self.form_invalid(form)
        login(self.request, user, backend="portal.accounts.backends.UserBackend")
        messages.success(self.request, _("Your account %(account)s is ready.")
                         % {"account": user.identifier})
        return redirect("home")


@method_decorator(throttle.guard_address, name="dispatch")
class LoginView(RefusedFormMixin, auth_views.LoginView):
    """登入系統 (ACC-2); says so when the last session ended for inactivity (ACC-3)."""

    form_class = forms.LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get(self, request, *args, **kwargs):
        if request.session.pop(IDLE_LOGOUT_FLAG, False):
            messages.warning(request, _(
                "You were logged out because there was no activity for %(minutes)d minutes. "
                "Please log in again; work saved with “Next” or “Confirm” can be brought back "
                "with “Import saved draft”.") % {"minutes": self._idle_minutes()})
        return super().get(request, *args, **kwargs)

    @staticmethod
    def _idle_minutes():
        from django.conf import settings

        return int(settings.SESSION_IDLE_TIMEOUT.total_seconds() // 60)


class PasswordResetView(RefusedFormMixin, auth_views.PasswordResetView):
    """忘記帳號密碼 (ACC-2): a reset link by e-mail, never the password itself."""

    form_class = forms.PasswordResetForm
    email_template_name = "emails/password_reset.txt"
    subject_template_name = "emails/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetConfirmView(RefusedFormMixin, auth_views.PasswordResetConfirmView):
    form_class = forms.SetPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordChangeView(RefusedFormMixin, auth_views.PasswordChangeView):
    form_class = forms.PasswordChangeForm
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        messages.success(self.request, _("Your password was changed."))
        return super().form_valid(form)


class ProfileView(LoginRequiredMixin, RefusedFormMixin, UpdateView):
    """帳號資料維護: contact data and e-mail; the identifier is shown but never edited."""

    form_class = forms.ProfileForm
    template_name = "accounts/profile.html"
    success_url = reverse_lazy("accounts:profile")

    def get_object(self, queryset=None):
        return self.request.user

    def form_valid(self, form):
        services.account_update_profile(
            user=self.request.user,
            **{name: form.cleaned_data[name] for name in form.changed_data},
        )
        messages.success(self.request, _("Your account data was saved."))
        return redirect(self.success_url)
