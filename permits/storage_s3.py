"""The private storage on an S3-compatible object store (django-storages, boto3), chosen
with STORAGE_URL=s3://bucket[/prefix]?endpoint_url=... (portal.env.private_storage_setting).
A module of its own so that a portal on a local folder never imports boto3.

The objects stay private: every one is written with a private ACL (or the bucket owner's,
for buckets that refuse ACLs), and the portal hands out no URL to them, not even a signed
one. A download is streamed from the bucket through the view that checked who may see the
file, as from the local folder.
"""

from botocore.exceptions import ClientError
from django.core.exceptions import ImproperlyConfigured
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from portal.env import PRIVATE_ACLS


class PrivateS3Storage(S3Storage):
    """An S3 bucket (or MinIO, Ceph, …) holding the portal's uploaded files."""

    def __init__(self, **options):
        super().__init__(**options)
        acls = {self.default_acl, self.object_parameters.get("ACL", self.default_acl)}
        if not acls <= PRIVATE_ACLS:
            raise ImproperlyConfigured(
                f"the private storage writes objects with a private ACL only "
                f"({', '.join(sorted(PRIVATE_ACLS))}), not {', '.join(sorted(map(str, acls)))}")

    def get_default_settings(self):
        return {
            **super().get_default_settings(),
            "default_acl": "private",
            # No URL is ever handed out (url() refuses); should one be built all the same,
            # it must be signed and expire.
            "querystring_auth": True,
            # Names are random (permits.models.stored_file_path); never replace an object.
            "file_overwrite": False,
            # Not the type the browser declared at upload (an upload may say text/html): an
            # object reached some other way than the portal's view is a download, never a page.
            "object_parameters": {"ContentType": "application/octet-stream",
                                  "ContentDisposition": "attachment"},
        }

    def url(self, name, parameters=None, expire=None, http_method=None):
        raise ValueError("private files have no URL; use permits:attachment_download")

    def open_stream(self, name):
        """The object's body to send in a download, read once from start to end: one GET,
        streamed as it arrives, never held whole in memory or on this node's disk (which
        S3Storage.open() does)."""
        key = self._normalize_name(clean_name(name))
        try:
            return self.bucket.Object(key).get()["Body"]
        except ClientError as error:
            if error.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
                raise FileNotFoundError(f"no object {key} in {self.bucket_name}") from error
            raise
