"""The permit PDF (being written)."""


def render_permit(version):
    raise NotImplementedError
