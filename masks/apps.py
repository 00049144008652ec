from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The menu (portal.menu): the section and entries named as in the manual.
SECTION = _("Face-mask import permits")
MENU = [
    (110, _("Import permit application"), "masks:application_basic"),
    (120, _("Write-off of masks imported without a declaration"), "masks:write_off_list"),
    (130, _("Correct an import permit"), "masks:correction_start"),
    (140, _("Face-mask flow registration"), "masks:flow_start"),
    (150, _("Face-mask flow returns"), "masks:return_start"),
]


def register_menu():
    from portal import menu

    for order, label, url_name in MENU:
        menu.register(section=SECTION, label=label, url_name=url_name, order=order,
                      users_only=True)


def seed_demo(users):
    """make run: a mask import with released stock to declare (masks/demo.py)."""
    from masks import demo

    if demo.seed(applicant=users["applicant"]):
        return (f"Demo mask import: declaration {demo.DECLARATION}, "
                "10 masks released, ready for 口罩流向登錄作業.")
    return None


class MasksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "masks"
    verbose_name = _("Face-mask import permits")

    def ready(self):

        import masks.entry  # noqa: F401  (registers the entry flows for 我的案件)
        from masks.procedures import PROCEDURE
        from permits import procedures
        from portal import demo
        from portal.accounts.reviewers import REVIEWER_PERMISSIONS

        procedures.register(PROCEDURE)  # issued at once (MASK-3)
        # Reviewers keep the mask tariff codes and look at mask cases and write-offs.
        REVIEWER_PERMISSIONS.update({
            "masks.view_maskcode", "masks.add_maskcode", "masks.change_maskcode",
            "masks.view_maskapplication", "masks.view_writeoff", "masks.view_stockreport",
            "masks.view_flow", "masks.view_flowreturn", "masks.view_stockreminder",
        })
        register_menu()
        demo.register(order=30, seed=seed_demo)
