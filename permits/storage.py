"""Where uploaded files live: the storage alias "private" of settings.STORAGES.

Attachments and mask flow documents (permits.models.StoredFile) are kept there: by default
in a folder of this machine, settings.PRIVATE_MEDIA_ROOT (PrivateStorage); with STORAGE_URL
an S3-compatible bucket every web node shares (permits.storage_s3.PrivateS3Storage). Either
way no web server serves them: they have no URL, and reach a user only through a view that
checks who may see them (permits.attachments.download_response). Whatever backend the alias
names must offer open_stream(name), the file to send in a download, as both of these do.

The models' FileField holds `private_storage`, a proxy that looks the alias up when it is
used, not when the models are imported, so that the settings of a deployment, or a test's
override_settings(STORAGES=...), choose the storage.
"""

import logging

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver
from django.utils.functional import LazyObject, cached_property, empty

PRIVATE_STORAGE_ALIAS = "private"

logger = logging.getLogger(__name__)


class PrivateStorage(FileSystemStorage):
    """Files no web server serves, in a folder outside every web root: settings.
    PRIVATE_MEDIA_ROOT unless `location` is given, followed when the setting changes."""

    @cached_property
    def base_location(self):
        return self._value_or_setting(self._location, settings.PRIVATE_MEDIA_ROOT)

    def _clear_cached_properties(self, setting, **kwargs):
        super()._clear_cached_properties(setting, **kwargs)
        if setting == "PRIVATE_MEDIA_ROOT":
            self.__dict__.pop("base_location", None)
            self.__dict__.pop("location", None)

    def url(self, name):
        raise ValueError("private files have no URL; use permits:attachment_download")

    def open_stream(self, name):
        """The file to send in a download, read once from start to end."""
        return self.open(name, "rb")


class _PrivateStorageProxy(LazyObject):
    """storages["private"], looked up on first use and again after STORAGES changes."""

    def _setup(self):
        self._wrapped = storages[PRIVATE_STORAGE_ALIAS]


private_storage = _PrivateStorageProxy()


@receiver(setting_changed)
def _forget_private_storage(*, setting, **kwargs):
    # Django forgets its own storages when STORAGES changes (django.test.signals), but not
    # what a proxy of ours holds.
    if setting == "STORAGES":
        private_storage._wrapped = empty


def files_delete_on_commit(names):
    """Delete the stored files `names` once the transaction that deleted their rows commits
    (a rollback keeps both). A file that cannot be deleted (the bucket out of reach) is
    logged and left: its row is gone already, and the work that committed must not fail,
    nor the files after it stay, because of one."""
    names = list(names)

    def delete():
        for name in names:
            try:
                private_storage.delete(name)
            except Exception:
                logger.exception("could not delete the stored file %s", name)

    transaction.on_commit(delete)
