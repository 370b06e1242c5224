"""The shipped small GPT-2 and the script that trains it: transformers and ours load them offline,
and ours generates the same greedy ids as transformers."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

transformers = pytest.importorskip("transformers")

from aigc_course.models import GPT2LMHeadModel  # noqa: E402
from aigc_course.models.hub import SHIPPED_MODEL_DIR, hub_available, pick_gpt2  # noqa: E402
from aigc_course.tokenizers import BPETokenizer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PROMPT = "PyTorch is a powerful deep learning framework. It provides "


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def load_script():
    spec = importlib.util.spec_from_file_location(
        "train_tiny_gpt2", ROOT / "scripts" / "train_tiny_gpt2.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_loads(directory: Path, new_tokens: int = 24) -> None:
    """transformers' model and both of its tokenizers, our tokenizer and our model load
    ``directory``; the tokenizers agree and ours generates transformers' greedy ids."""
    hf_model = transformers.GPT2LMHeadModel.from_pretrained(directory).eval()
    fast = transformers.GPT2TokenizerFast.from_pretrained(directory)
    slow = transformers.GPT2Tokenizer.from_pretrained(directory)
    ours_tok = BPETokenizer.from_pretrained(directory)
    config = json.loads((directory / "config.json").read_text())
    eos = ours_tok.token_to_id("<|endoftext|>")
    assert config["bos_token_id"] == config["eos_token_id"] == eos == fast.eos_token_id
    assert hf_model.generation_config.eos_token_id == eos
    assert config["vocab_size"] == ours_tok.vocab_size == len(fast)

    ids = fast.encode(PROMPT, return_tensors="pt")
    assert ids.tolist()[0] == slow.encode(PROMPT) == ours_tok.encode(PROMPT)

    ours = GPT2LMHeadModel.from_pretrained(str(directory))
    with torch.no_grad():
        expected_logits = hf_model(ids).logits.numpy()
        expected = hf_model.generate(ids, max_new_tokens=new_tokens, do_sample=False)
    np.testing.assert_allclose(ours(ids).detach().numpy(), expected_logits, rtol=1e-4, atol=1e-4)
    got = ours.generate(ids, max_new_tokens=new_tokens)
    # transformers stops at eos and pads nothing for batch 1; compare the common prefix length
    assert got.tolist()[0][: expected.shape[1]] == expected.tolist()[0]


def test_script_runs_a_few_steps_and_the_result_loads(tmp_path):
    out = tmp_path / "tiny"
    script = load_script()
    args = ["--out", str(out), "--max-steps", "3", "--n-layer", "1", "--n-embd", "32"]
    args += ["--n-head", "2", "--n-positions", "96", "--vocab-size", "300", "--threads", "1"]
    script.main(args + ["--checkpoint-every", "2"])
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "model.safetensors", "generation_config.json", "vocab.json"} <= names
    assert {"merges.txt", "tokenizer_config.json", "README.md"} <= names
    assert "checkpoint.pt" not in names  # removed once training finished
    card = (out / "README.md").read_text()
    assert "validation loss" in card and '"max_steps": 3' in card
    check_loads(out, new_tokens=8)


def test_script_resumes_from_a_checkpoint_exactly(tmp_path):
    """3 steps in one go equal 2 steps, an interruption and a resumed third step."""
    script = load_script()
    small = ["--n-layer", "1", "--n-embd", "32", "--n-head", "2", "--n-positions", "96"]
    small += ["--vocab-size", "300", "--threads", "1", "--checkpoint-every", "2"]
    straight = script.main(["--out", str(tmp_path / "a"), "--max-steps", "3"] + small)

    resumed = tmp_path / "b"
    script.main(["--out", str(resumed), "--max-steps", "3", "--stop-after", "2"] + small)
    assert (resumed / "checkpoint.pt").exists() and not (resumed / "config.json").exists()
    script.main(["--out", str(resumed), "--max-steps", "3"] + small)
    assert not (resumed / "checkpoint.pt").exists()

    a = transformers.GPT2LMHeadModel.from_pretrained(straight).state_dict()
    b = transformers.GPT2LMHeadModel.from_pretrained(resumed).state_dict()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6)


def test_shipped_model_loads_in_transformers_and_ours_and_generates_the_same_ids():
    assert SHIPPED_MODEL_DIR.is_dir()
    check_loads(SHIPPED_MODEL_DIR, new_tokens=40)


def test_shipped_model_is_small_and_has_a_model_card():
    size = sum(p.stat().st_size for p in SHIPPED_MODEL_DIR.iterdir())
    assert size <= 20e6
    card = (SHIPPED_MODEL_DIR / "README.md").read_text()
    for needle in ("Data", "parameters", "minutes", "validation loss"):
        assert needle in card


def test_pick_gpt2_offline_picks_the_shipped_model(capsys):
    assert not hub_available()
    choice = pick_gpt2()
    assert Path(choice) == SHIPPED_MODEL_DIR
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "shipped" in out


def test_pick_gpt2_online_picks_the_hub_model(monkeypatch, capsys):
    """With the hub allowed and reachable (simulated: no network in CI), the real GPT-2."""
    import huggingface_hub

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    asked = []
    monkeypatch.setattr(
        huggingface_hub, "hf_hub_download", lambda repo, name, **kw: asked.append((repo, name))
    )
    assert pick_gpt2() == "gpt2"
    assert asked == [("gpt2", "config.json")]
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "'gpt2'" in out and "hub" in out


def test_pick_gpt2_unreachable_hub_picks_the_shipped_model(monkeypatch, capsys):
    import huggingface_hub

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)

    def unreachable(repo, name, **kw):
        raise OSError("no network")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", unreachable)
    assert Path(pick_gpt2()) == SHIPPED_MODEL_DIR
    assert "shipped" in capsys.readouterr().out
