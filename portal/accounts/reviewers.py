"""The bureau reviewers' group (ACC-5) and exactly the permissions it holds.

Each app that gives reviewers work in the admin adds its permissions to REVIEWER_PERMISSIONS
(app_label.codename). After every migrate the group is made to hold these and no others, so
the list here is the whole truth about what a reviewer may do.
"""

from portal.accounts.models import REVIEWERS_GROUP

REVIEWER_PERMISSIONS = {
    # Reviewers look up who an applicant or agent is; they never edit accounts.
    "accounts.view_user",
}


def sync_reviewers_group(**kwargs):
    from django.contrib.auth.models import Group, Permission

    group, _created = Group.objects.get_or_create(name=REVIEWERS_GROUP)
    wanted = []
    for name in sorted(REVIEWER_PERMISSIONS):
        app_label, codename = name.split(".")
        wanted.extend(Permission.objects.filter(content_type__app_label=app_label,
                                                codename=codename))
    group.permissions.set(wanted)
