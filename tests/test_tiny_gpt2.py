"""The shipped small GPT-2 and the script that trains it: transformers and ours load them offline,
and ours generates the same greedy ids as transformers."""

import csv
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

transformers = pytest.importorskip("transformers")

from aigc_course.models import GPT2LMHeadModel  # noqa: E402
from aigc_course.models.hub import SHIPPED_MODEL_DIR, hub_available, pick_gpt2  # noqa: E402
from aigc_course.models.quality import chapter_prose  # noqa: E402
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


def run_tiny(script, out: Path, work: Path, *extra: str) -> Path:
    return script.main(["--tiny", "--out", str(out), "--work", str(work), *extra])


def test_script_trains_a_tiny_model_with_our_engine_and_the_result_loads(tmp_path):
    script = load_script()
    out = run_tiny(script, tmp_path / "tiny", tmp_path / "work")
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "model.safetensors", "generation_config.json", "vocab.json"} <= names
    assert {"merges.txt", "tokenizer_config.json", "README.md", "training_log.csv"} <= names
    assert "ngram_counts.npz" in names
    assert not (tmp_path / "work" / "checkpoint.pkl").exists()  # removed once training finished
    log = list(csv.DictReader(open(out / "training_log.csv")))
    assert [int(r["step"]) for r in log] == list(range(1, 13))
    # the loss falls from about log(V) at the start: the engine really trains
    assert float(log[0]["loss"]) > float(log[-1]["loss"]) + 0.2
    card = (out / "README.md").read_text()
    assert "validation loss" in card and '"steps": 12' in card and "aigc_course" in card
    check_loads(out, new_tokens=8)


def test_script_resumes_from_a_checkpoint_to_the_same_weights(tmp_path):
    """12 steps in one go equal 5 steps, an interruption, and the resumed remaining 7."""
    script = load_script()
    straight = run_tiny(script, tmp_path / "a", tmp_path / "work_a")

    resumed, work = tmp_path / "b", tmp_path / "work_b"
    run_tiny(script, resumed, work, "--stop-after", "5")
    assert (work / "checkpoint.pkl").exists() and not (resumed / "config.json").exists()
    run_tiny(script, resumed, work)
    assert not (work / "checkpoint.pkl").exists()

    a = transformers.GPT2LMHeadModel.from_pretrained(straight).state_dict()
    b = transformers.GPT2LMHeadModel.from_pretrained(resumed).state_dict()
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)
    log_a = (straight / "training_log.csv").read_text().splitlines()
    log_b = (resumed / "training_log.csv").read_text().splitlines()
    # the same rows but for the last column, the wall time
    assert [r.rsplit(",", 1)[0] for r in log_a] == [r.rsplit(",", 1)[0] for r in log_b]


def test_an_interrupted_run_does_not_differ_from_a_fresh_one_because_of_the_cache(tmp_path):
    """A resumed run that skips a different number of steps still replays the same order."""
    script = load_script()
    a = run_tiny(script, tmp_path / "a", tmp_path / "work", "--stop-after", "3")
    run_tiny(script, a, tmp_path / "work", "--stop-after", "8")
    run_tiny(script, a, tmp_path / "work")
    b = run_tiny(script, tmp_path / "b", tmp_path / "work_b")
    wa = transformers.GPT2LMHeadModel.from_pretrained(a).state_dict()
    wb = transformers.GPT2LMHeadModel.from_pretrained(b).state_dict()
    for key in wa:
        torch.testing.assert_close(wa[key], wb[key], rtol=0, atol=0)


def test_shipped_model_loads_in_transformers_and_ours_and_generates_the_same_ids():
    assert SHIPPED_MODEL_DIR.is_dir()
    check_loads(SHIPPED_MODEL_DIR, new_tokens=40)


def test_shipped_model_folder_is_at_most_30_mb_and_loads_as_float32():
    size = sum(p.stat().st_size for p in SHIPPED_MODEL_DIR.iterdir())
    assert size <= 30e6, f"{size / 1e6:.1f} MB"
    model = transformers.GPT2LMHeadModel.from_pretrained(SHIPPED_MODEL_DIR)
    assert {p.dtype for p in model.parameters()} == {torch.float32}


def test_shipped_model_card_is_complete():
    card = (SHIPPED_MODEL_DIR / "README.md").read_text()
    for needle in (
        "## Data",
        "licence",
        "PSF-2.0",
        "BSD-3-Clause",
        "Apache-2.0",
        "MB",
        "Deduplication",
        "Cleaning",
        "parameters",
        "minutes of wall time",
        "validation loss",
        "Bits per character",
        "Sampled continuations",
    ):
        assert needle in card, needle
    assert "<!-- quality -->\nMeasured by" in card  # the eval script filled it in


def load_eval():
    spec = importlib.util.spec_from_file_location(
        "eval_shipped_gpt2", ROOT / "benchmarks" / "eval_shipped_gpt2.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shipped_model_writes_at_most_2_1_bits_per_character_on_the_chapters():
    """Issue 19's bound, on English the model never saw: the prose of the course itself. It
    must also beat counting pairs (an interpolated bigram on the same corpus and tokens)."""
    evaluate = load_eval()
    texts = list(chapter_prose().values())
    assert sum(map(len, texts)) > 100_000
    bpc = evaluate.model_bpc(SHIPPED_MODEL_DIR, texts)
    assert bpc <= 2.1, f"{bpc:.3f} bits per character"
    assert bpc < evaluate.baseline_bpc(SHIPPED_MODEL_DIR, texts, order=2)


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
