from django.contrib import auth
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import PermissionDenied
from django.core.signals import setting_changed
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.accounts.identifiers import normalize

REVIEWERS_GROUP = "reviewers"
# Issue 14: reviewers who may also approve (four eyes), and supervisors who hand out cases
# and keep the working-day calendar. Their members are in the reviewers group as well; each
# of these groups holds only what it adds (portal.accounts.reviewers.GROUP_PERMISSIONS).
SENIOR_REVIEWERS_GROUP = "senior reviewers"
SUPERVISORS_GROUP = "supervisors"


class IdentifierType(models.TextChoices):
    BAN = "ban", _("Unified business number")
    NATIONAL_ID = "national_id", _("ID number or resident certificate number")
    PASSPORT = "passport", _("Passport number")


class Role(models.TextChoices):
    APPLICANT = "applicant", _("Importer / exporter")
    AGENT = "agent", _("Filing agent (e.g. customs broker)")


# The authentication backends' methods by name, each tuple in AUTHENTICATION_BACKENDS' order
# (issue 10). django.contrib.auth imports and makes every backend anew on each has_perm,
# has_module_perms and get_*_permissions (get_backends()): three backends, about ten calls
# on every reviewer's admin page. They are made once a process here, and made again when
# the setting changes (_forget_backends).
_BACKEND_METHODS = {}


def backend_methods(name):
    """The bound method `name` of each backend that has one, as django.contrib.auth's
    _user_has_perm() and its siblings find them (get_backends(), hasattr): one backend
    instance each for every method, made by get_backends() itself (its errors too)."""
    try:
        return _BACKEND_METHODS[name]
    except KeyError:
        pass
    backends = _BACKEND_METHODS.get(None)
    if backends is None:
        backends = _BACKEND_METHODS[None] = tuple(auth.get_backends())
    methods = _BACKEND_METHODS[name] = tuple(
        getattr(backend, name) for backend in backends if hasattr(backend, name))
    return methods


def _forget_backends(*, setting, **kwargs):
    if setting == "AUTHENTICATION_BACKENDS":
        _BACKEND_METHODS.clear()


setting_changed.connect(_forget_backends, dispatch_uid="portal.accounts.models.backends")


def _first_of(methods, *args):
    """django.contrib.auth.models._user_has_perm()'s answer: True at the first backend that
    says so, False where one raises PermissionDenied (it stops the others) or none does."""
    for method in methods:
        try:
            if method(*args):
                return True
        except PermissionDenied:
            return False
    return False


def _permissions_of(user, obj, name):
    """django.contrib.auth.models._user_get_permissions(): the union of the backends'."""
    permissions = set()
    for method in backend_methods(name):
        permissions.update(method(user, obj))
    return permissions


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        # Accounts are typed in any case and with stray blanks; they are stored normalized.
        return self.get(identifier=normalize(username))

    def create_user(self, identifier, password=None, **fields):
        fields.setdefault("identifier_type", IdentifierType.BAN)
        user = self.model(identifier=normalize(identifier), **fields)
        user.email = self.normalize_email(user.email)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, identifier, password=None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        fields.setdefault("identifier_type", IdentifierType.NATIONAL_ID)
        return self.create_user(identifier, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """One account per identifier (ACC-1): a company's 統一編號, a person's 身分證字號 or
    resident certificate, or a passport number. The identifier is the login (帳號)."""

    identifier_type = models.CharField(
        _("identifier type"), max_length=16, choices=IdentifierType.choices
    )
    identifier = models.CharField(_("account"), max_length=20, unique=True)
    role = models.CharField(_("account kind"), max_length=16, choices=Role.choices,
                            default=Role.APPLICANT)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    address = models.CharField(_("address"), max_length=200)
    contact_person = models.CharField(_("contact person"), max_length=60)
    phone = models.CharField(_("phone"), max_length=30)
    email = models.EmailField(_("e-mail"))
    language = models.CharField(_("e-mail language"), max_length=8,
                                choices=[("zh-hant", "繁體中文"), ("en", "English")],
                                default="zh-hant")
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(
        _("bureau staff"), default=False,
        help_text=_("Staff sign in to the administration site; reviewers also belong to "
                    "the reviewers group."),
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "identifier"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name", "email"]

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            # The unique index on `identifier` is what refuses a second account, also when
            # two sign-ups race; this check keeps every stored identifier normalized so that
            # the index compares like with like.
            models.CheckConstraint(condition=Q(identifier=Upper("identifier")),
                                   name="user_identifier_upper"),
            # A filing agent (customs broker) is a company: it signs up with its 統一編號.
            models.CheckConstraint(condition=~Q(role="agent") | Q(identifier_type="ban"),
                                   name="user_agent_has_ban"),
        ]

    def __str__(self):
        return f"{self.identifier} {self.name}"

    @property
    def is_agent(self):
        return self.role == Role.AGENT

    @property
    def is_reviewer(self):
        """Bureau staff in the reviewers group (ACC-5): the one who moves cases in the admin
        (permits.workflow.actor_kind_of). Seeing every case is a permission the group grants
        (permits.models.SEE_EVERY_CASE), which other staff may also be given, alone."""
        if not self.is_staff:
            return False
        names = getattr(self, "_group_names", None)  # read with its permissions, if they were
        if names is not None:  # (portal.accounts.backends): no query
            return REVIEWERS_GROUP in names
        return self.groups.filter(name=REVIEWERS_GROUP).exists()

    # PermissionsMixin's methods, asking the backends made once (backend_methods) instead of
    # django.contrib.auth.get_backends(), which makes them on every call; the same answers
    # (active superusers first, a backend's PermissionDenied stopping the others).
    def get_user_permissions(self, obj=None):
        return _permissions_of(self, obj, "get_user_permissions")

    def get_group_permissions(self, obj=None):
        return _permissions_of(self, obj, "get_group_permissions")

    def get_all_permissions(self, obj=None):
        return _permissions_of(self, obj, "get_all_permissions")

    def has_perm(self, perm, obj=None):
        if self.is_active and self.is_superuser:
            return True
        return _first_of(backend_methods("has_perm"), self, perm, obj)

    def has_module_perms(self, app_label):
        if self.is_active and self.is_superuser:
            return True
        return _first_of(backend_methods("has_module_perms"), self, app_label)

    def get_full_name(self):
        return self.name

    def get_short_name(self):
        return self.name
