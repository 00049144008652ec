"""Each user's drafts in 我的案件's whole order, the id last (issue 10, stop 25).

我的案件's first page reads the user's drafts in two branches (permits.entry.draft_branches),
each cut at the drafts shown, and keeps its plan (permits.listing.VisibleCases._prepared).
With the indexes of 0005, (applicant or agent, updated_at DESC), PostgreSQL's one plan for
every user read the agent's branch from application_draft_age, every draft of the portal
filtered (1,800 on bench_pages_large: 0.6-1.2 ms for a user with none), and sorted the
applicant's every draft; in the list's whole order each branch is the range of its user cut
at the page (EXPLAIN ANALYZE, bench/README.md "Stop 25 (applicants' pages)"). The agent of a
draft is in the applicant's index (INCLUDE, on PostgreSQL) for its branch's "no agent".
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("permits", "0015_search_identifier_status"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="application",
            name="application_applicant_drafts",
        ),
        migrations.RemoveIndex(
            model_name="application",
            name="application_agent_drafts",
        ),
        migrations.AddIndex(
            model_name="application",
            index=models.Index(condition=models.Q(("status", "draft")),
                               fields=["applicant", "-updated_at", "-id"], include=("agent",),
                               name="application_applicant_drafts"),
        ),
        migrations.AddIndex(
            model_name="application",
            index=models.Index(condition=models.Q(("status", "draft")),
                               fields=["agent", "-updated_at", "-id"],
                               name="application_agent_drafts"),
        ),
    ]
