from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def register_menu():
    """The menu (portal.menu), with the real portal's numbers and words (DOMAIN.md §4); 9-1-2
    and the Iran / North Korea entries 9-2-1 and 9-2-2 come with their pages, after it."""
    from portal import menu
    from shtc import entry, iran_entry
    from shtc.procedures import FILING_TITLE, IRAN_APPLICATION_TITLE

    menu.register(section=entry.SECTION, label=entry.TITLE, url_name="shtc:application_basic",
                  order=211, users_only=True)
    menu.register(section=entry.SECTION, label=FILING_TITLE, url_name="shtc:filing_query",
                  order=212, users_only=True)
    # 9-2-1 輸往伊朗北韓-最終用途保證書登錄作業 (SHTC-6), after 9-1-2.
    menu.register(section=entry.SECTION, label=iran_entry.TITLE,
                  url_name="shtc:iran_assurance_basic", order=221, users_only=True)
    # 9-2-2 輸往伊朗北韓-戰略性高科技輸出許可申請作業 (SHTC-7), after 9-2-1 (221).
    menu.register(section=entry.SECTION, label=IRAN_APPLICATION_TITLE,
                  url_name="shtc:iran_application_basic", order=222, users_only=True)


def seed_demo(users):
    """make run: the SHTC cases of the demo applicant, from 登錄中 to 准件結案, and 9-2-1 /
    9-2-2 (shtc/demo.py); before the customs demo (order 27), which builds on its first
    approved permit."""
    from shtc import demo

    made = demo.seed(applicant=users["applicant"], agent=users["agent"],
                     reviewer=users["reviewer"], senior=users["senior_reviewer"])
    return demo.lines(made) if made else None


class ShtcConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "shtc"
    verbose_name = _("Strategic high-tech export permits")

    def ready(self):
        from permits import procedures
        from portal.accounts.reviewers import REVIEWER_PERMISSIONS

        # Reviewers keep the SHTC reference tables (REFERENCE.md: data with dates) and load
        # UN/LOCODE releases (add_port); nothing of them is deleted (shtc/admin.py).
        REVIEWER_PERMISSIONS.update({
            f"shtc.{action}_{model}" for action in ("view", "add", "change")
            for model in ("regimemembership", "controlledarea", "reexportapprovalcountry",
                          "port")})
        # The SHTC panel of the case page (shtc.admin.ShtcReviewInline): seen, not changed.
        REVIEWER_PERMISSIONS.add("shtc.view_shtcapplication")
        # The exhibition permits' re-import reminders (shtc.admin.ReimportReminderAdmin): seen.
        REVIEWER_PERMISSIONS.add("shtc.view_reimportreminder")
        # Issue 14, point 4: reviewers keep the screening list and upload it (add, as the
        # ports'), see the risk flags and record their decision on them.
        REVIEWER_PERMISSIONS.update({"shtc.view_screeningentry", "shtc.add_screeningentry",
                                     "shtc.change_screeningentry", "shtc.view_riskflag",
                                     "shtc.change_riskflag"})

        import shtc.changes  # noqa: F401  (9-1-1's 補正, 更正, 單證比對不符修正 for 我的案件)
        import shtc.entry  # noqa: F401  (registers the 9-1-1 entry for 我的案件)
        import shtc.iran_entry  # noqa: F401  (and 9-2-1's, SHTC-6)
        import shtc.iran_filing  # noqa: F401  (and 9-2-2's, SHTC-7)
        from shtc.procedures import PROCEDURE

        procedures.register(PROCEDURE)
        register_menu()
        from portal import demo

        demo.register(order=25, seed=seed_demo)
