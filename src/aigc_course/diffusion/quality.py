r"""Two numbers that say whether the samples are good, measured rather than eyeballed.

1. **Guidance accuracy**: a classifier trained on the real digits (scikit-learn's ``SVC``)
   labels each sample; the fraction labelled as the digit that was asked for.
2. **Not copies**: for each sample, the distance to its nearest training image, averaged, over
   the same average for real digits (each one's nearest *other* real digit). A model that
   memorised the training set would score near 0; about 1 means samples sit as far from the
   training set as real digits sit from each other.

Distances are Euclidean, between images in [-1, 1] (64 pixels). See chapter 10.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor


def _pixels(images) -> np.ndarray:
    array = images.numpy() if isinstance(images, Tensor) else np.asarray(images)
    return array.reshape(len(array), -1).astype(np.float64)  # (N, 64)


def digit_classifier(images: np.ndarray, labels: np.ndarray):
    """An RBF support-vector classifier fitted on real digits in [-1, 1] (about 99% accurate
    on held-out real digits)."""
    from sklearn.svm import SVC

    return SVC().fit(_pixels(images), labels)


def nearest_distances(queries, references, exclude_self: bool = False) -> np.ndarray:
    """For each query, the Euclidean distance to its nearest reference (with
    ``exclude_self``, queries are the references and each one's own zero distance is skipped)."""
    q, r = _pixels(queries), _pixels(references)
    squared = (q**2).sum(1)[:, None] - 2 * q @ r.T + (r**2).sum(1)[None, :]  # (Nq, Nr)
    if exclude_self:
        np.fill_diagonal(squared, np.inf)
    return np.sqrt(np.maximum(squared.min(axis=1), 0.0))


def quality_report(
    model,
    scheduler,
    images: np.ndarray,
    labels: np.ndarray,
    per_class: int = 10,
    guidance_scale: float = 2.0,
    num_inference_steps: int | None = None,
    seed: int = 0,
) -> dict:
    """Sample ``per_class`` digits of each class and measure both numbers.

    Returns ``accuracy`` (fraction), ``sample_nn`` (mean distance from a sample to its nearest
    training image), ``real_nn`` (the same between real digits) and ``nn_ratio``.
    """
    from .sampling import sample

    wanted = np.repeat(np.arange(model.num_classes), per_class)  # 0,0,...,1,1,...
    samples = sample(model, scheduler, wanted, guidance_scale, num_inference_steps, seed)
    predicted = digit_classifier(images, labels).predict(_pixels(samples))
    sample_nn = float(nearest_distances(samples, images).mean())
    real_nn = float(nearest_distances(images, images, exclude_self=True).mean())
    return {
        "accuracy": float((predicted == wanted).mean()),
        "sample_nn": sample_nn,
        "real_nn": real_nn,
        "nn_ratio": sample_nn / real_nn,
        "guidance_scale": guidance_scale,
        "num_inference_steps": num_inference_steps or scheduler.num_train_timesteps,
        "num_samples": len(wanted),
    }
