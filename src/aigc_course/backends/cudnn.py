"""NVIDIA's cuDNN (``torch.backends.cudnn``): not available; the flags programs set are kept,
with torch's defaults, and change nothing."""

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version() -> None:
    return None
