from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
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

    def get_full_name(self):
        return self.name

    def get_short_name(self):
        return self.name
