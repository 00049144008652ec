"""Demo accounts for `make run`. Idempotent: running it again resets them to the table below."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from portal import demo
from portal.accounts.models import (
    REVIEWERS_GROUP,
    SENIOR_REVIEWERS_GROUP,
    SUPERVISORS_GROUP,
    IdentifierType,
    Role,
    User,
)

# The README lists these logins (| role | account | password |); keep both in step.
DEMO_USERS = [
    {
        "role_label": "applicant", "identifier": "22099131", "password": "demo-applicant-2026",
        "identifier_type": IdentifierType.BAN, "role": Role.APPLICANT,
        "name": "安心醫材股份有限公司", "name_en": "Anxin Medical Supplies Co., Ltd.",
        "address": "臺北市中正區重慶南路一段2號", "contact_person": "王小明",
        "phone": "02-2351-0000", "email": "applicant@demo.invalid",
    },
    {
        "role_label": "applicant2", "identifier": "12345675", "password": "demo-applicant2-2026",
        "identifier_type": IdentifierType.BAN, "role": Role.APPLICANT,
        "name": "台灣精密科技股份有限公司", "name_en": "Taiwan Precision Technology Co., Ltd.",
        "address": "新竹市東區科學園區力行路1號", "contact_person": "陳美玲",
        "phone": "03-578-0000", "email": "applicant2@demo.invalid",
    },
    {
        "role_label": "agent", "identifier": "04595252", "password": "demo-agent-2026",
        "identifier_type": IdentifierType.BAN, "role": Role.AGENT,
        "name": "順達報關股份有限公司", "name_en": "Shunda Customs Broker Co., Ltd.",
        "address": "桃園市大園區航站南路9號", "contact_person": "林志豪",
        "phone": "03-398-0000", "email": "agent@demo.invalid",
    },
    {
        "role_label": "reviewer", "identifier": "A123456789", "password": "demo-reviewer-2026",
        "identifier_type": IdentifierType.NATIONAL_ID, "role": Role.APPLICANT,
        "name": "貿易局審核員", "name_en": "Bureau reviewer",
        "address": "臺北市中正區湖口街1號", "contact_person": "貿易局審核員",
        "phone": "02-2397-7384", "email": "reviewer@demo.invalid", "is_staff": True,
        # and a supervisor, who hands cases out (issue 14).
        "groups": (SUPERVISORS_GROUP,),
    },
    {
        # The second pair of eyes (issue 14): approves what the first reviewer took through
        # 初審 (permits.workflow.four_eyes_problem).
        "role_label": "senior_reviewer", "identifier": "B223456782",
        "password": "demo-senior-2026",
        "identifier_type": IdentifierType.NATIONAL_ID, "role": Role.APPLICANT,
        "name": "貿易局複審員", "name_en": "Bureau senior reviewer",
        "address": "臺北市中正區湖口街1號", "contact_person": "貿易局複審員",
        "phone": "02-2397-7385", "email": "senior-reviewer@demo.invalid", "is_staff": True,
        "groups": (SENIOR_REVIEWERS_GROUP,),
    },
]


class Command(BaseCommand):
    help = "Create or reset the demo accounts (development only) and print their logins."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true",
                            help="seed even with DEBUG off (never on a production database)")

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Demo accounts have known passwords: DEBUG is off, refusing.")
        reviewers, _created = Group.objects.get_or_create(name=REVIEWERS_GROUP)
        rows = []
        users = {}
        for spec in DEMO_USERS:
            spec = dict(spec)
            label, password = spec.pop("role_label"), spec.pop("password")
            identifier = spec.pop("identifier")
            groups = spec.pop("groups", ())
            user, _created = User.objects.update_or_create(identifier=identifier, defaults=spec)
            user.set_password(password)
            user.is_active = True
            user.save()
            if user.is_staff:
                user.groups.add(reviewers, *(Group.objects.get_or_create(name=name)[0]
                                             for name in groups))
            rows.append((label, identifier, password))
            users[label] = user
        # Each app's demo data, registered in its AppConfig.ready().
        for line in demo.seed_all(users):
            self.stdout.write(line)
        self.stdout.write("Demo accounts (log in at http://127.0.0.1:8000/):")
        self.stdout.write("| role | account | password |")
        self.stdout.write("|---|---|---|")
        for row in rows:
            self.stdout.write("| {} | {} | {} |".format(*row))
