# The mask procedure's fixtures, for the flow documents kept in a bucket.
from tests.masks.conftest import make_mask_permit  # noqa: F401
