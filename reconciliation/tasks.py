from celery import shared_task
from django.db import OperationalError

from reconciliation import matching


# A lost database connection or a deadlock is worth another try; a bug is not.
@shared_task(autoretry_for=(OperationalError,), retry_backoff=10, max_retries=5)
def match_declarations_task(declaration_ids):
    """Match declarations that arrived or changed (RECON-2); results go to customs' feed."""
    return len(matching.match_declarations(declaration_ids))
