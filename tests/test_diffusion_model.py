"""The denoiser against its torch twin, the timestep embedding against diffusers', the
one-cycle schedule against torch's OneCycleLR, guidance, sampling, and the shipped model's
quality (a classifier trained on real digits; distance to the training set)."""

import numpy as np
import pytest
import torch

import aigc_course as ac
from aigc_course.diffusion import (
    DDPMScheduler,
    Denoiser,
    guided_noise,
    pretrained_digits,
    quality_report,
    sample,
    timestep_embedding,
)
from aigc_course.diffusion.torch_denoiser import TorchDenoiser
from aigc_course.diffusion.training import load_digits_images, one_cycle, training_batches


def twins(hidden=32, num_blocks=2, seed=0):
    torch.manual_seed(seed)
    theirs = TorchDenoiser(hidden=hidden, num_blocks=num_blocks)
    ours = Denoiser(hidden=hidden, num_blocks=num_blocks)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def test_timestep_embedding_matches_diffusers():
    from diffusers.models.embeddings import get_timestep_embedding

    t = torch.tensor([0, 1, 2, 10, 500, 999])
    ours = torch.from_numpy(timestep_embedding(t.numpy(), 256))
    # diffusers forms t * f in float32: near t = 1000 radians its ulp is 6e-5, so compare with
    # that tolerance, and exactly with the same formula in float64 (what we compute)
    want = get_timestep_embedding(t, 256, flip_sin_to_cos=True, downscale_freq_shift=0)
    torch.testing.assert_close(ours, want, atol=1e-4, rtol=0)
    half = torch.exp(-np.log(10000) * torch.arange(128, dtype=torch.float64) / 128)
    args = t.double()[:, None] * half[None, :]
    exact = torch.cat([args.cos(), args.sin()], dim=1).float()
    torch.testing.assert_close(ours, exact, atol=1e-7, rtol=0)
    with pytest.raises(ValueError, match="7"):
        timestep_embedding([1], 7)


def test_parameter_names_and_count_match_torch():
    ours, theirs = twins(hidden=256, num_blocks=3)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in theirs.parameters())


@pytest.mark.parametrize("shape", [(6, 64), (6, 8, 8)])
def test_forward_and_gradients_match_torch(shape):
    ours, theirs = twins()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(*shape, generator=g)
    t = torch.tensor([0, 1, 2, 500, 998, 999])
    y = torch.tensor([0, 3, 9, 10, 10, 5])  # 10 = "no label"
    noise = torch.randn(*shape, generator=g)
    torch.nn.functional.mse_loss(theirs(x, t, y), noise).backward()
    out = ours(ac.from_torch(x), ac.from_torch(t), ac.from_torch(y))
    torch.testing.assert_close(ac.to_torch(out.detach()), theirs(x, t, y).detach())
    ac.nn.functional.mse_loss(out, ac.from_torch(noise)).backward()
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        torch.testing.assert_close(ac.to_torch(p.grad), q.grad, msg=lambda m, n=name: f"{n}: {m}")
    # one int timestep for the whole batch, as the sampler passes it
    torch.testing.assert_close(
        ac.to_torch(ours(ac.from_torch(x), 7, ac.from_torch(y)).detach()),
        theirs(x, 7, y).detach(),
    )


@pytest.mark.parametrize("total,pct", [(1000, 0.3), (100, 0.25), (37, 0.5)])
def test_one_cycle_is_torchs_one_cycle_lr(total, pct):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([p], lr=2e-3)
    ref = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=total, pct_start=pct)
    q = ac.nn.Parameter(ac.zeros(1))
    ours_opt = ac.optim.AdamW([q], lr=2e-3)
    ours = ac.optim.lr_scheduler.LambdaLR(ours_opt, one_cycle(total, pct))
    for _ in range(total):
        assert ours_opt.param_groups[0]["lr"] == pytest.approx(opt.param_groups[0]["lr"], rel=1e-9)
        opt.step()
        ref.step()
        ours_opt.step()
        ours.step()
    with pytest.raises(ValueError, match="1"):
        one_cycle(1)


def test_training_batches_are_seeded_and_dropped():
    images, labels = load_digits_images()
    assert images.dtype == np.float32 and images.min() == -1 and images.max() == 1
    s = DDPMScheduler()
    a = list(training_batches(images, labels, s, 20, batch_size=100, seed=3))
    b = list(training_batches(images, labels, s, 20, batch_size=100, seed=3))
    assert all(np.array_equal(u, v) for p, q in zip(a, b) for u, v in zip(p, q))
    y = np.concatenate([batch[2] for batch in a])
    assert 0.05 < (y == 10).mean() < 0.15  # about 10% "no label"
    x_t, t, _, noise = a[0]
    assert x_t.shape == noise.shape == (100, 8, 8) and t.min() >= 0 and t.max() < 1000


@pytest.mark.parametrize("w", [0.0, 1.0, 2.0, 4.0])
def test_guided_noise_is_the_cfg_formula(w):
    ours, theirs = twins()
    x = torch.randn(4, 8, 8, generator=torch.Generator().manual_seed(2))
    y = torch.tensor([1, 2, 3, 4])
    with torch.no_grad():
        cond, uncond = theirs(x, 100, y), theirs(x, 100, torch.full_like(y, 10))
    want = uncond + w * (cond - uncond)
    with ac.no_grad():
        got = guided_noise(ours, ac.from_torch(x), 100, ac.from_torch(y), w)
    torch.testing.assert_close(ac.to_torch(got), want)


def test_sample_shape_range_seed_and_errors():
    ours, _ = twins()
    s = DDPMScheduler()
    a = sample(ours, s, [0, 1, 2], num_inference_steps=10, seed=0)
    b = sample(ours, s, [0, 1, 2], num_inference_steps=10, seed=0)
    c = sample(ours, s, [0, 1, 2], num_inference_steps=10, seed=1)
    assert tuple(a.shape) == (3, 8, 8) and a.dtype == ac.float32
    assert float(a.min()) >= -1 and float(a.max()) <= 1
    assert bool((a == b).all()) and not bool((a == c).all())
    assert s.timesteps.tolist()[:2] == [900, 800]  # set as diffusers' pipelines do
    x, frames = sample(ours, s, [4], num_inference_steps=5, return_trajectory=True)
    assert len(frames) == 6 and bool((frames[-1].clamp(-1, 1) == x).all())
    assert ours.training  # sampling restored the mode
    with pytest.raises(IndexError, match="10"):
        sample(ours, s, [3, 10], num_inference_steps=2)
    with pytest.raises(ValueError, match="-1"):
        sample(ours, s, [3], guidance_scale=-1.0, num_inference_steps=2)


def test_pretrained_loads_like_the_torch_twin():
    model, scheduler = pretrained_digits()
    assert not model.training and len(scheduler) == 1000
    from safetensors.torch import load_file

    from aigc_course.diffusion.pretrained import PRETRAINED_DIR, WEIGHTS

    twin = TorchDenoiser()
    twin.load_state_dict(load_file(str(PRETRAINED_DIR / WEIGHTS)))
    x = torch.randn(5, 8, 8, generator=torch.Generator().manual_seed(0))
    with ac.no_grad():
        got = model(ac.from_torch(x), 300, [0, 1, 2, 3, 10])
    torch.testing.assert_close(ac.to_torch(got), twin(x, 300, [0, 1, 2, 3, 10]).detach())


@pytest.mark.parametrize("steps", [1000, 100])
def test_shipped_model_quality(steps):
    """>= 95% of guided samples are classified as the requested digit by a classifier trained
    on the real digits, and the samples are not copies of training images: their mean distance
    to the nearest training image is at least half the typical nearest-neighbour distance
    between two different real digits."""
    model, scheduler = pretrained_digits()
    images, labels = load_digits_images()
    report = quality_report(model, scheduler, images, labels, num_inference_steps=steps)
    assert report["accuracy"] >= 0.95, report
    assert report["nn_ratio"] >= 0.5, report
