from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.utils.translation import gettext_lazy as _

from portal.accounts.identifiers import normalize, validate_identifier
from portal.accounts.models import User


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("identifier_type", "identifier", "role", "name", "email")

    def clean_identifier(self):
        value = normalize(self.cleaned_data["identifier"])
        if self.cleaned_data.get("identifier_type"):
            validate_identifier(self.cleaned_data["identifier_type"], value)
        return value


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = UserCreationForm
    list_display = ("identifier", "name", "role", "identifier_type", "email", "is_staff",
                    "is_active", "date_joined")
    list_filter = ("role", "identifier_type", "is_staff", "is_active", "groups")
    search_fields = ("identifier", "name", "name_en", "email", "contact_person")
    ordering = ("identifier",)
    readonly_fields = ("identifier_type", "identifier", "role", "date_joined", "last_login")
    fieldsets = (
        (None, {"fields": ("identifier_type", "identifier", "role", "password")}),
        (_("Account data"), {"fields": ("name", "name_en", "address", "contact_person",
                                         "phone", "email", "language")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups",
                                        "user_permissions")}),
        (_("Dates"), {"fields": ("date_joined", "last_login")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",),
                "fields": ("identifier_type", "identifier", "role", "name", "email",
                           "usable_password", "password1", "password2")}),
    )

    def get_readonly_fields(self, request, obj=None):
        # The identifier is chosen once, when the account is created (ACC-1).
        return self.readonly_fields if obj else ("date_joined", "last_login")
