"""GPT-2 on aigc_course against transformers' GPT2LMHeadModel, offline, with random weights.

Every reference is transformers (or torch for the training run): logits, greedy ids (with and
without the KV cache), eos stopping, loading, and 30 Adam steps of training.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before transformers is imported
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np
import pytest
import torch
import transformers

import aigc_course as ac
from aigc_course.generation import KVCache
from aigc_course.models.gpt2 import CONV1D_WEIGHTS, GPT2Config, GPT2LMHeadModel

# odd head counts, vocabularies that are not powers of two, 1 to 4 layers, and the less
# common options (n_inner, exact GELU, no attention scaling, per-layer scaling)
CONFIGS = {
    "1 layer, 5 heads, V=101": dict(vocab_size=101, n_positions=64, n_embd=15, n_layer=1, n_head=5),
    "2 layers, 3 heads, V=257": dict(
        vocab_size=257, n_positions=96, n_embd=24, n_layer=2, n_head=3
    ),
    "3 layers, 7 heads, V=1000": dict(
        vocab_size=1000, n_positions=80, n_embd=21, n_layer=3, n_head=7
    ),
    "4 layers, 1 head, V=50": dict(vocab_size=50, n_positions=72, n_embd=12, n_layer=4, n_head=1),
    "options": dict(
        vocab_size=77,
        n_positions=64,
        n_embd=18,
        n_layer=2,
        n_head=3,
        n_inner=20,
        activation_function="gelu",
        scale_attn_by_inverse_layer_idx=True,
        layer_norm_epsilon=1e-3,
    ),
    "unscaled attention": dict(
        vocab_size=90, n_positions=64, n_embd=16, n_layer=2, n_head=2, scale_attn_weights=False
    ),
}


def hf_model(seed: int = 0, initializer_range: float = 0.5, **kwargs):
    """A random transformers GPT-2. A wide initialisation makes the
    logits spread out (0.5 rather than 0.02), so greedy decoding wanders through the
    vocabulary instead of repeating one token (the gap between the two best logits stays above
    1e-3 in these tests, far above float32 rounding), and the comparison is not one of
    near-zeros."""
    torch.manual_seed(seed)
    config = transformers.GPT2Config(
        bos_token_id=0, eos_token_id=0, initializer_range=initializer_range, **kwargs
    )
    model = transformers.GPT2LMHeadModel(config).eval()
    with torch.no_grad():  # LayerNorms start at (1, 0): perturb them so their copy is tested
        for name, p in model.named_parameters():
            if "ln_" in name:
                p.add_(0.1 * torch.randn_like(p))
    model.generation_config.eos_token_id = None  # run to max_new_tokens unless told otherwise
    return model


def prompt(config: dict, batch: int = 1, length: int = 7, seed: int = 1) -> torch.Tensor:
    return torch.randint(
        0, config["vocab_size"], (batch, length), generator=torch.Generator().manual_seed(seed)
    )


def hf_generate(model, ids, n, **kwargs):
    with torch.no_grad():
        return model.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=n,
            do_sample=False,
            pad_token_id=kwargs.pop("pad_token_id", 0),
            **kwargs,
        )


def logits_np(t: ac.Tensor) -> np.ndarray:
    assert t.dtype is ac.float32
    return t.detach().numpy()


# ---------------------------------------------------------------------- structure


def test_config_has_transformers_names_and_defaults():
    ours, theirs = GPT2Config(), transformers.GPT2Config()
    for field in ours.__dataclass_fields__:
        assert getattr(ours, field) == getattr(theirs, field), field


def test_parameter_names_map_one_to_one_and_lm_head_is_tied():
    hf = hf_model(**CONFIGS["2 layers, 3 heads, V=257"])
    ours = GPT2LMHeadModel.from_hf(hf)
    theirs = hf.state_dict()
    assert list(ours.state_dict()) == list(theirs)
    for key, value in ours.state_dict().items():
        shape = tuple(theirs[key].shape)
        assert tuple(value.shape) == (shape[::-1] if key.endswith(CONV1D_WEIGHTS) else shape)
    assert ours.lm_head.weight is ours.transformer.wte.weight
    # and parameters() counts the tied matrix once, as torch does
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in hf.parameters())


def test_parameters_are_float32():
    model = GPT2LMHeadModel(GPT2Config(vocab_size=30, n_positions=8, n_embd=8, n_layer=1, n_head=2))
    assert {p.dtype for p in model.parameters()} == {ac.float32}


def test_config_rejects_indivisible_heads():
    with pytest.raises(ValueError, match="n_embd=10 .* n_head=3"):
        GPT2Config(n_embd=10, n_head=3)


def test_from_hf_rejects_an_activation_it_does_not_implement():
    hf = hf_model(**CONFIGS["1 layer, 5 heads, V=101"], activation_function="relu")
    with pytest.raises(ValueError, match="activation_function='relu' is not supported"):
        GPT2LMHeadModel.from_hf(hf)


# ---------------------------------------------------------------------- logits


@pytest.mark.parametrize("name", CONFIGS)
def test_logits_match_transformers(name):
    cfg = CONFIGS[name]
    hf = hf_model(**cfg)
    ours = GPT2LMHeadModel.from_hf(hf)
    ids = prompt(cfg, batch=3, length=cfg["n_positions"] // 2)
    with torch.no_grad():
        expected = hf(ids).logits
    got = ours(ac.from_torch(ids))
    assert tuple(got.shape) == (3, cfg["n_positions"] // 2, cfg["vocab_size"])
    torch.testing.assert_close(torch.from_numpy(logits_np(got)), expected, rtol=1e-4, atol=1e-4)


def test_logits_match_at_full_context_with_gradients_enabled():
    cfg = CONFIGS["3 layers, 7 heads, V=1000"]
    hf = hf_model(**cfg)
    ours = GPT2LMHeadModel.from_hf(hf)
    ids = prompt(cfg, batch=1, length=cfg["n_positions"])
    got = ours(ac.from_torch(ids))
    assert got.requires_grad
    with torch.no_grad():
        expected = hf(ids).logits
    torch.testing.assert_close(torch.from_numpy(logits_np(got)), expected, rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------------- KV cache


@pytest.mark.parametrize(
    "name", ["1 layer, 5 heads, V=101", "3 layers, 7 heads, V=1000", "options"]
)
def test_kv_cache_gives_the_logits_of_a_full_recompute(name):
    cfg = CONFIGS[name]
    hf = hf_model(**cfg)
    ours = GPT2LMHeadModel.from_hf(hf)
    ids = prompt(cfg, batch=2, length=20)
    with torch.no_grad():
        expected = hf(ids).logits
    full = ours(ac.from_torch(ids))
    config = ours.config
    cache = KVCache(config, batch_size=2, max_length=20)
    buffer = cache.k.numpy().ctypes.data
    with ac.no_grad():
        # a 5-token prefill, then a chunk of 3, then one token at a time
        chunks = [ours(ac.from_torch(ids[:, :5]), cache), ours(ac.from_torch(ids[:, 5:8]), cache)]
        chunks += [ours(ac.from_torch(ids[:, t : t + 1]), cache) for t in range(8, 20)]
    assert cache.length == 20
    assert cache.k.numpy().ctypes.data == buffer  # preallocated once, never reallocated
    stepped = np.concatenate([logits_np(c) for c in chunks], axis=1)
    np.testing.assert_allclose(stepped, logits_np(full), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(torch.from_numpy(stepped), expected, rtol=1e-4, atol=1e-4)

    # the decoding path (numpy arrays, last position only) gives the same last logits
    cache = KVCache(config, batch_size=2, max_length=20)
    ids_np = ids.numpy()
    last = [ours._next_token_logits(ids_np[:, :5], cache)]
    last += [ours._next_token_logits(ids_np[:, t : t + 1], cache) for t in range(5, 20)]
    assert all(x.dtype == np.float32 for x in last)
    np.testing.assert_allclose(np.stack(last, axis=1), logits_np(full)[:, 4:], rtol=1e-5, atol=1e-5)
    assert ours._next_token_logits(ids_np, None).dtype == np.float32


def test_kv_cache_refuses_to_overflow():
    config = GPT2Config(**CONFIGS["1 layer, 5 heads, V=101"])
    model = GPT2LMHeadModel(config)
    cache = KVCache(config, batch_size=1, max_length=4)
    with ac.no_grad():
        model(ac.tensor([[1, 2, 3]]), cache)
        with pytest.raises(ValueError, match="holds 4 positions, but 5"):
            model(ac.tensor([[4, 5]]), cache)
    assert cache.length == 3  # the failed call changed nothing
    cache = KVCache(config, batch_size=1, max_length=4)
    model._next_token_logits(np.array([[1, 2, 3]]), cache)
    with pytest.raises(ValueError, match="holds 4 positions, but 5"):
        model._next_token_logits(np.array([[4, 5]]), cache)
    assert cache.length == 3


def test_kv_cache_owns_its_write_advance_and_position_check():
    """Every layer writes at the same positions until the model advances the cache once; the
    decoding path's numpy arrays land in the same buffers; nothing moves past max_length."""
    config = GPT2Config(**CONFIGS["1 layer, 5 heads, V=101"])
    nh, hs = config.n_head, config.n_embd // config.n_head
    cache = KVCache(config, batch_size=1, max_length=4)
    k = ac.ones(1, nh, 3, hs)
    keys, values = cache.update(0, k, 2 * k)
    assert tuple(keys.shape) == (1, nh, 3, hs) and cache.length == 0  # not advanced yet
    np.testing.assert_array_equal(values.numpy(), 2 * k.numpy())
    cache.advance(3)
    assert cache.length == 3 and cache.positions(1) == slice(3, 4)
    k1 = np.full((1, nh, 1, hs), 5.0, dtype=np.float32)
    keys, _ = cache.update(0, k1, k1)  # numpy in: views of the buffers out
    assert isinstance(keys, np.ndarray) and np.shares_memory(keys, cache.k.numpy())
    np.testing.assert_array_equal(keys[:, :, 3], k1[:, :, 0])
    for fail in (lambda: cache.advance(2), lambda: cache.update(0, ac.ones(1, nh, 2, hs), k)):
        with pytest.raises(ValueError, match="holds 4 positions, but 5"):
            fail()
    assert cache.length == 3


# ---------------------------------------------------------------------- generate


@pytest.mark.parametrize(
    "name",
    ["1 layer, 5 heads, V=101", "2 layers, 3 heads, V=257", "4 layers, 1 head, V=50", "options"],
)
@pytest.mark.parametrize("use_cache", [True, False])
def test_greedy_generate_matches_transformers(name, use_cache):
    cfg = CONFIGS[name]
    hf = hf_model(**cfg)
    ours = GPT2LMHeadModel.from_hf(hf)
    ids = prompt(cfg, batch=2, length=6)
    expected = hf_generate(hf, ids, 48).numpy()
    got = ours.generate(ac.from_torch(ids), 48, use_cache=use_cache)
    assert got.dtype is ac.int64 and tuple(got.shape) == (2, 6 + 48)
    np.testing.assert_array_equal(got.numpy(), expected)
    # a real test: each continuation wanders through the vocabulary instead of repeating
    assert min(len(np.unique(row[6:])) for row in expected) >= 7


def test_generate_stops_at_eos_like_transformers():
    cfg = CONFIGS["2 layers, 3 heads, V=257"]
    hf = hf_model(**cfg)
    ours = GPT2LMHeadModel.from_hf(hf)
    ids = prompt(cfg, batch=2, length=5, seed=3)
    free = hf_generate(hf, ids, 40).numpy()
    eos = int(free[0, 5 + 10])  # row 0 produces it at step 11 at the latest
    expected = hf_generate(hf, ids, 40, eos_token_id=eos, pad_token_id=eos).numpy()
    for use_cache in (True, False):
        got = ours.generate(ac.from_torch(ids), 40, eos_token_id=eos, use_cache=use_cache)
        np.testing.assert_array_equal(got.numpy(), expected)
    # batch 1: the output ends right at the first eos
    one = ours.generate(ac.from_torch(ids[:1]), 40, eos_token_id=eos).numpy()[0]
    assert one[-1] == eos and eos not in one[5:-1].tolist()
    assert one.shape[0] <= 5 + 11


def test_generate_with_max_new_tokens_0_returns_the_prompt():
    model = GPT2LMHeadModel(GPT2Config(**CONFIGS["1 layer, 5 heads, V=101"]))
    ids = ac.tensor([[3, 1, 4]])
    assert model.generate(ids, 0).tolist() == [[3, 1, 4]]


def test_sampling_with_a_seed_repeats_and_respects_the_filters():
    cfg = CONFIGS["2 layers, 3 heads, V=257"]
    hf = hf_model(**cfg)
    ours = GPT2LMHeadModel.from_hf(hf)
    ids = ac.from_torch(prompt(cfg, batch=4, length=4))
    kwargs = dict(do_sample=True, temperature=0.8, top_k=20, top_p=0.9)
    a = ours.generate(ids, 30, seed=7, **kwargs).numpy()
    b = ours.generate(ids, 30, seed=7, **kwargs).numpy()
    c = ours.generate(ids, 30, seed=8, **kwargs).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # top_k=1 sampling is greedy decoding
    greedy = hf_generate(hf, ac.to_torch(ids), 30).numpy()
    np.testing.assert_array_equal(
        ours.generate(ids, 30, do_sample=True, top_k=1, seed=0).numpy(), greedy
    )
    # every sampled token is among the 20 most likely at its step (checked against transformers)
    with torch.no_grad():
        logits = hf(torch.from_numpy(a)).logits[:, 3:-1]  # (B, 30, V): the step that chose each
    ranks = (logits > logits.gather(-1, torch.from_numpy(a[:, 4:, None]))).sum(-1)
    assert int(ranks.max()) < 20


# ---------------------------------------------------------------------- bad input


@pytest.fixture(scope="module")
def small():
    return GPT2LMHeadModel(GPT2Config(vocab_size=50, n_positions=16, n_embd=8, n_layer=1, n_head=2))


@pytest.mark.parametrize(
    "ids, kwargs, match",
    [
        ([[]], dict(max_new_tokens=3), r"prompt is empty .*\(1, 0\)"),
        ([[1] * 17], dict(max_new_tokens=0), "17 tokens, more than n_positions=16"),
        (
            [[1] * 10],
            dict(max_new_tokens=7),
            "10 tokens plus max_new_tokens=7 make 17, more than n_positions=16",
        ),
        ([[1]], dict(max_new_tokens=-1), "max_new_tokens .* -1"),
        ([[1]], dict(max_new_tokens=3, temperature=0.0), "temperature .* 0.0"),
        ([[1]], dict(max_new_tokens=3, temperature=-1.5), "temperature .* -1.5"),
        ([[1]], dict(max_new_tokens=3, top_p=0.0), "top_p .* 0.0"),
        ([[1]], dict(max_new_tokens=3, top_p=1.5), "top_p .* 1.5"),
        ([[1]], dict(max_new_tokens=3, top_k=0), "top_k .* 0"),
        ([[1]], dict(max_new_tokens=3, top_k=-2), "top_k .* -2"),
        ([1, 2], dict(max_new_tokens=3), r"shape \(B, T\), but got shape \(2,\)"),
    ],
)
def test_generate_rejects_bad_input(small, ids, kwargs, match):
    ids = ac.tensor(ids, dtype=ac.int64)
    with pytest.raises(ValueError, match=match):
        small.generate(ids, **kwargs)


def test_generate_rejects_unknown_tokens_and_float_ids(small):
    with pytest.raises(IndexError, match=r"token id 50 is not in \[0, 49\]"):
        small.generate(ac.tensor([[1, 50]]), 2)
    with pytest.raises(RuntimeError, match="integer token ids.*float32"):
        small.generate(ac.tensor([[1.0, 2.0]]), 2)


def test_forward_rejects_a_sequence_longer_than_n_positions(small):
    with pytest.raises(ValueError, match="sequence length 17 .* n_positions=16"):
        small(ac.zeros(1, 17, dtype=ac.int64))


# ---------------------------------------------------------------------- loading


def test_from_hf_names_the_key_and_both_shapes_on_a_mismatch():
    hf = hf_model(**CONFIGS["1 layer, 5 heads, V=101"])
    hf.transformer.h[0].mlp.c_fc.weight = torch.nn.Parameter(torch.zeros(15, 59))
    with pytest.raises(
        RuntimeError,
        match=r"transformer\.h\.0\.mlp\.c_fc\.weight: transformers "
        r"has \(15, 59\) \(transposed from Conv1D\), ours expects \(60, 15\)",
    ):
        GPT2LMHeadModel.from_hf(hf)


def test_from_hf_names_missing_keys():
    hf = hf_model(**CONFIGS["1 layer, 5 heads, V=101"])
    hf.transformer.h[0].attn.c_proj.bias = None
    with pytest.raises(
        RuntimeError, match=r"missing keys \['transformer\.h\.0\.attn\.c_proj\.bias'\]"
    ):
        GPT2LMHeadModel.from_hf(hf)


def test_from_pretrained_loads_a_local_directory(tmp_path):
    cfg = CONFIGS["2 layers, 3 heads, V=257"]
    hf = hf_model(**cfg)
    hf.save_pretrained(tmp_path)
    ours = GPT2LMHeadModel.from_pretrained(str(tmp_path))
    ids = prompt(cfg, batch=1, length=9)
    with torch.no_grad():
        expected = hf(ids).logits
    torch.testing.assert_close(
        torch.from_numpy(logits_np(ours(ac.from_torch(ids)))), expected, rtol=1e-4, atol=1e-4
    )


def test_from_pretrained_offline_hub_name_names_the_local_alternative():
    name = "aigc-course-tests/no-such-gpt2"
    with pytest.raises(OSError, match=f"{name}.*HF_HUB_OFFLINE=1.*local directory"):
        GPT2LMHeadModel.from_pretrained(name)


def test_from_pretrained_missing_local_directory_is_an_oserror(tmp_path):
    with pytest.raises(OSError):
        GPT2LMHeadModel.from_pretrained(str(tmp_path))  # exists, but holds no model


# ---------------------------------------------------------------------- training


def test_thirty_adam_steps_follow_torchs_loss_curve():
    optim = pytest.importorskip("aigc_course.optim")
    cfg = dict(
        vocab_size=97,
        n_positions=32,
        n_embd=32,
        n_layer=2,
        n_head=4,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
    )
    hf = hf_model(initializer_range=0.02, **cfg).train()
    ours = GPT2LMHeadModel.from_hf(hf).train()
    rng = np.random.default_rng(0)
    # learnable text: each token determines the next, x_{i+1} = (3 x_i + 1) mod 97
    batches = []
    for _ in range(30):
        x = [rng.integers(0, 97, size=4)]
        for _ in range(16):
            x.append((3 * x[-1] + 1) % 97)
        batches.append(np.stack(x, axis=1))  # (4, 17)
    torch_opt = torch.optim.Adam(hf.parameters(), lr=3e-3)
    our_opt = optim.Adam(ours.parameters(), lr=3e-3)
    torch_losses, our_losses = [], []
    for batch in batches:
        x, y = batch[:, :-1], batch[:, 1:]
        logits = hf(torch.from_numpy(x)).logits
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, 97), torch.from_numpy(y).reshape(-1)
        )
        torch_opt.zero_grad()
        loss.backward()
        torch_opt.step()
        torch_losses.append(loss.item())

        logits = ours(ac.tensor(x))  # (B, T, V)
        loss = ac.nn.functional.cross_entropy(logits.view(-1, 97), ac.tensor(y).view(-1))
        our_opt.zero_grad()
        loss.backward()
        our_opt.step()
        our_losses.append(loss.item())
    assert torch_losses[-1] < torch_losses[0] - 1.0  # the run really learns something
    np.testing.assert_allclose(our_losses, torch_losses, rtol=1e-4, atol=1e-4)


def test_fresh_model_is_initialised_like_transformers():
    cfg = dict(vocab_size=500, n_positions=64, n_embd=64, n_layer=3, n_head=4)
    ours = dict(GPT2LMHeadModel(GPT2Config(**cfg)).named_parameters())
    torch.manual_seed(0)
    theirs = dict(transformers.GPT2LMHeadModel(transformers.GPT2Config(**cfg)).named_parameters())
    for name, p in theirs.items():
        ref = p.detach().numpy()
        got = ours[name].detach().numpy()
        np.testing.assert_allclose(got.mean(), ref.mean(), atol=0.01, err_msg=name)
        np.testing.assert_allclose(got.std(), ref.std(), rtol=0.15, atol=1e-6, err_msg=name)
