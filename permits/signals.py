from django.dispatch import Signal

# Sent by services.permit_issue inside the approving transaction, with `version`: the new
# PermitVersion. The reconciliation app listens: an approved 單證比對不符修正 re-runs the
# matching of the permit's declarations (RECON-5).
permit_version_issued = Signal()
