"""DDPMScheduler against diffusers.DDPMScheduler: tables, add_noise, every step, set_timesteps."""

import numpy as np
import pytest
import torch

import aigc_course as ac
from aigc_course.diffusion import DDPMScheduler
from aigc_course.testing import assert_close

diffusers = pytest.importorskip("diffusers")

SCHEDULES = {
    "linear": {},
    "scaled_linear": {"beta_start": 0.00085, "beta_end": 0.012},  # Stable Diffusion's
    "squaredcos_cap_v2": {},
}
TRAIN_STEPS = [1000, 50, 7]


def schedulers(schedule, num_train_timesteps, **kw):
    """Ours and diffusers' DDPMScheduler with the same options, (ours, theirs)."""
    kw = {**SCHEDULES[schedule], **kw}
    kw.update(num_train_timesteps=num_train_timesteps, beta_schedule=schedule)
    return DDPMScheduler(**kw), diffusers.DDPMScheduler(**kw)


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("T", TRAIN_STEPS)
def test_tables(schedule, T):
    ours, ref = schedulers(schedule, T)
    # torch's vectorised linspace uses a fused multiply-add, which ours reproduces bit for bit;
    # on ATen's "default" (scalar) kernels torch rounds twice, so allow float32 rounding there
    exact = torch.backends.cpu.get_cpu_capability() != "DEFAULT"
    for name in ("betas", "alphas", "alphas_cumprod"):
        got, want = getattr(ours, name), getattr(ref, name)
        assert got.dtype == ac.float32
        if exact:
            assert_close(got, want, rtol=0, atol=0)
        else:
            assert_close(got, want)
    # the cumulative product is torch.cumprod's exactly, whatever the kernels
    expected = torch.cumprod(ac.to_torch(ours.alphas), dim=0)
    assert_close(ours.alphas_cumprod, expected, rtol=0, atol=0)
    assert ours.timesteps.tolist() == ref.timesteps.tolist()
    assert len(ours) == len(ref) == T


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("T", TRAIN_STEPS)
def test_add_noise(schedule, T):
    ours, ref = schedulers(schedule, T)
    g = torch.Generator().manual_seed(T)
    x0 = torch.rand(16, 8, 8, generator=g) * 2 - 1
    noise = torch.randn(16, 8, 8, generator=g)
    t = torch.randint(0, T, (16,), generator=g)
    got = ours.add_noise(ac.from_torch(x0), ac.from_torch(noise), ac.from_torch(t))
    assert_close(got, ref.add_noise(x0, noise, t))
    assert tuple(got.shape) == (16, 8, 8) and got.dtype == ac.float32


def run_reverse(ours, ref, shape=(4, 64), seed=0, clip=True):
    """Run diffusers' reverse chain and ours step by step from the same x_t, same model output
    and the same Gaussian draw (drawn with torch the way diffusers' randn_tensor does)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(*shape, generator=g)
    for t in ref.timesteps.tolist():
        model_output = torch.randn(*shape, generator=g)
        want = ref.step(model_output, t, x, generator=torch.Generator().manual_seed(t)).prev_sample
        noise = torch.randn(*shape, generator=torch.Generator().manual_seed(t))
        got = ours.step(
            ac.from_torch(model_output), t, ac.from_torch(x), noise=ac.from_torch(noise)
        )
        torch.testing.assert_close(ac.to_torch(got), want, msg=lambda m, t=t: f"at t={t}: {m}")
        x = want  # continue both from the reference, so each step is compared alone


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("T", TRAIN_STEPS)
@pytest.mark.parametrize("prediction_type", ["epsilon", "sample", "v_prediction"])
def test_step_every_timestep(schedule, T, prediction_type):
    ours, ref = schedulers(schedule, T, prediction_type=prediction_type)
    run_reverse(ours, ref)


@pytest.mark.parametrize("clip_sample", [True, False])
def test_step_clip_sample(clip_sample):
    ours, ref = schedulers("linear", 1000, clip_sample=clip_sample)
    run_reverse(ours, ref, shape=(2, 8, 8), seed=1)


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("T,n", [(1000, 1000), (1000, 100), (1000, 50), (1000, 3), (50, 7), (7, 7)])
def test_set_timesteps_and_strided_steps(schedule, T, n):
    ours, ref = schedulers(schedule, T)
    ours.set_timesteps(n)
    ref.set_timesteps(n)
    assert ours.timesteps.tolist() == ref.timesteps.tolist()
    assert ours.timesteps.dtype == ac.int64
    for t in ref.timesteps.tolist():
        assert ours.previous_timestep(t) == int(ref.previous_timestep(t))
    run_reverse(ours, ref)


def test_float32_cumprod_pitfall():
    """The tables must be what torch.cumprod gives (accumulated in double, rounded once): a
    float32 running product differs by ulps, which 1 - abar_t / abar_{t-1} amplifies near
    small t to ~1e-4 in beta~_t, far outside float32 tolerance."""
    ours, ref = schedulers("linear", 1000)
    naive = np.cumprod(ours.alphas.numpy())  # float32 running product
    beta_naive = 1 - naive[1:20] / naive[:19]
    beta_ref = (1 - ref.alphas_cumprod[1:20] / ref.alphas_cumprod[:19]).numpy()
    beta_ours = 1 - ours.alphas_cumprod.numpy()[1:20] / ours.alphas_cumprod.numpy()[:19]
    assert np.array_equal(beta_ours, beta_ref)
    assert np.abs(beta_naive / beta_ref - 1).max() > 1e-5  # the pitfall is real


def test_step_without_noise_uses_our_generator():
    ours = DDPMScheduler()
    x, eps = ac.zeros(3, 64), ac.zeros(3, 64)
    a = ours.step(eps, 500, x, generator=ac.Generator().manual_seed(0))
    b = ours.step(eps, 500, x, generator=ac.Generator().manual_seed(0))
    c = ours.step(eps, 500, x, generator=ac.Generator().manual_seed(1))
    assert bool((a == b).all())
    assert not bool((a == c).all())
    # with x = eps = 0 the mean is 0, so the sample is sigma~_t * z: its std is sigma~_t
    ref = diffusers.DDPMScheduler()
    sigma = float(ref._get_variance(500)) ** 0.5
    assert abs(float(a.std()) / sigma - 1) < 0.1
    # at t = 0 there is no noise at all
    assert bool((ours.step(eps, 0, x) == 0).all())


def test_bad_arguments():
    with pytest.raises(NotImplementedError, match="'cosine'"):
        DDPMScheduler(beta_schedule="cosine")
    with pytest.raises(ValueError, match="'x0'"):
        DDPMScheduler(prediction_type="x0")
    with pytest.raises(ValueError, match="0"):
        DDPMScheduler(num_train_timesteps=0)
    s = DDPMScheduler(num_train_timesteps=10)
    with pytest.raises(ValueError, match="11"):
        s.set_timesteps(11)
    with pytest.raises(ValueError, match="0"):
        s.set_timesteps(0)
    with pytest.raises(IndexError, match="10"):
        s.add_noise(ac.zeros(2, 4), ac.zeros(2, 4), ac.tensor([0, 10]))
    with pytest.raises(IndexError, match="-1"):
        s.step(ac.zeros(2, 4), -1, ac.zeros(2, 4))
    with pytest.raises(RuntimeError, match=r"\(2, 5\)"):
        s.step(ac.zeros(2, 4), 5, ac.zeros(2, 4), noise=ac.zeros(2, 5))
    s.set_timesteps(5)
    with pytest.raises(ValueError, match="timestep 3"):
        s.step(ac.zeros(2, 4), 3, ac.zeros(2, 4))
    assert s.timesteps.tolist() == [8, 6, 4, 2, 0]  # a refused call changed nothing
