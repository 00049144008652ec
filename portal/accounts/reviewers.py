"""The bureau reviewers' group (ACC-5) and exactly the permissions it holds.

Each app that gives reviewers work in the admin adds its permissions to REVIEWER_PERMISSIONS
(app_label.codename). After every migrate the group is made to hold these and no others, so
the list here is the whole truth about what a reviewer may do.
"""

from portal.accounts.models import REVIEWERS_GROUP, SENIOR_REVIEWERS_GROUP, SUPERVISORS_GROUP

REVIEWER_PERMISSIONS = {
    # Reviewers look up who an applicant or agent is; they never edit accounts.
    "accounts.view_user",
}


# What the two bureau groups of issue 14 add to a reviewer's permissions (filled in by the
# apps' ready(), as REVIEWER_PERMISSIONS is): approval where a procedure wants four eyes;
# assigning cases to colleagues and keeping the calendar.
SENIOR_REVIEWER_PERMISSIONS = set()
SUPERVISOR_PERMISSIONS = set()
GROUP_PERMISSIONS = {
    REVIEWERS_GROUP: REVIEWER_PERMISSIONS,
    SENIOR_REVIEWERS_GROUP: SENIOR_REVIEWER_PERMISSIONS,
    SUPERVISORS_GROUP: SUPERVISOR_PERMISSIONS,
}


def sync_reviewers_group(**kwargs):
    """Make each bureau group hold exactly its permissions (after every migrate)."""
    from django.contrib.auth.models import Group, Permission

    for group_name, names in GROUP_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=group_name)
        wanted = []
        for name in sorted(names):
            app_label, codename = name.split(".")
            wanted.extend(Permission.objects.filter(content_type__app_label=app_label,
                                                    codename=codename))
        group.permissions.set(wanted)
