"""Apple's Metal backend (``torch.backends.mps``): never available here."""


def is_available() -> bool:
    return False


def is_built() -> bool:
    return False
