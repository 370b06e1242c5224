"""``save``/``load`` in torch's zip format: files written by either library load in the other,
with the same values, dtypes, shapes and containers; ``weights_only=True`` refuses every global
that is not a tensor, a parameter or a plain container, as torch's loader does."""

from __future__ import annotations

import io
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch
from opinfo import assert_same

import aigc_course as ac

ARRAYS = {
    "f32 matrix": np.arange(6, dtype=np.float32).reshape(2, 3) / 7,
    "f64 0-d": np.array(2.5),
    "i64": np.array([3, -1, 2**40]),
    "i32": np.array([1, 2], dtype=np.int32),
    "u8": np.array([0, 255], dtype=np.uint8),
    "bool": np.array([True, False]),
    "f16": np.array([0.5, 1.5], dtype=np.float16),
    "empty": np.zeros((0, 3), dtype=np.float32),
}


def payload(lib):
    """A nested object of the kinds checkpoints hold, built in either library."""
    t = {k: lib.tensor(v) for k, v in ARRAYS.items()}
    t["non-contiguous"] = lib.tensor(np.arange(12.0, dtype=np.float32)).view(3, 4).t()[1:]
    return {
        "tensors": t,
        "list": [lib.ones(2), 3, "name", None, (0.9, 0.999), True],
        "epoch": 7,
        "lr": 1e-3,
    }


def assert_same_payload(ours, theirs):
    """Nested dicts, lists and tuples of the same types, their tensors equal to torch's
    exactly (the harness's assert_same)."""
    if isinstance(theirs, torch.Tensor):
        assert_same(ours, theirs, rtol=0, atol=0)
    elif isinstance(theirs, dict):
        assert type(ours).__name__ == type(theirs).__name__ and list(ours) == list(theirs)
        for k in theirs:
            assert_same_payload(ours[k], theirs[k])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            assert_same_payload(o, t)
    else:
        assert ours == theirs and type(ours) is type(theirs)


def test_ours_loads_in_torch(tmp_path):
    ac.save(payload(ac), tmp_path / "ours.pt")
    theirs = torch.load(tmp_path / "ours.pt")  # torch's own weights_only=True loader
    expected = payload(torch)
    assert_same_payload(_to_ac(theirs), expected)


def _to_ac(obj):
    """torch objects as ours, to reuse the comparison the other way round."""
    if isinstance(obj, torch.Tensor):
        return ac.tensor(obj.numpy())
    if isinstance(obj, dict):
        return type(obj)((k, _to_ac(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_ac(v) for v in obj)
    return obj


def test_torch_file_loads_in_ours(tmp_path):
    torch.save(payload(torch), tmp_path / "theirs.pt")
    assert_same_payload(ac.load(tmp_path / "theirs.pt"), payload(torch))


def test_views_sharing_storage_in_a_torch_file(tmp_path):
    base = torch.arange(10.0)
    torch.save({"a": base[2:5], "b": base.view(2, 5)[:, 1], "base": base}, tmp_path / "v.pt")
    ours = ac.load(tmp_path / "v.pt")
    for k in ("a", "b", "base"):
        np.testing.assert_array_equal(ours[k].numpy(), torch.load(tmp_path / "v.pt")[k].numpy())


def test_round_trip_through_a_buffer():
    buffer = io.BytesIO()
    ac.save(payload(ac), buffer)
    buffer.seek(0)
    theirs = torch.load(io.BytesIO(buffer.getvalue()))
    assert_same_payload(ac.load(io.BytesIO(buffer.getvalue())), theirs)


def test_state_dicts_both_ways(tmp_path):
    ours, theirs = ac.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    ac.save(ours.state_dict(), tmp_path / "ours.pt")
    loaded = torch.load(tmp_path / "ours.pt")
    assert isinstance(loaded, OrderedDict)
    theirs.load_state_dict(loaded)
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(
        ours(ac.tensor(x)).detach().numpy(),
        theirs(torch.tensor(x)).detach().numpy(),
        rtol=1e-6,
        atol=1e-6,  # float32 rounding of a sum of terms near 1: an output near 0 differs by ~3e-8
    )
    torch.save(torch.nn.Linear(3, 2).state_dict(), tmp_path / "theirs.pt")
    sd = ac.load(tmp_path / "theirs.pt")
    ours.load_state_dict(sd)
    assert torch.equal(
        torch.tensor(ours.weight.detach().numpy()), torch.load(tmp_path / "theirs.pt")["weight"]
    )


def test_parameters_round_trip(tmp_path):
    p = ac.nn.Linear(2, 2).weight
    ac.save(p, tmp_path / "p.pt")
    assert isinstance(torch.load(tmp_path / "p.pt"), torch.nn.Parameter)
    torch.save(torch.nn.Parameter(torch.ones(2)), tmp_path / "tp.pt")
    q = ac.load(tmp_path / "tp.pt")
    assert isinstance(q, ac.nn.Parameter) and q.requires_grad


def test_loaded_tensors_own_writable_memory(tmp_path):
    torch.save(torch.ones(3), tmp_path / "x.pt")
    x = ac.load(tmp_path / "x.pt")
    x[0] = 5.0
    assert x.tolist() == [5.0, 1.0, 1.0]


def _malicious(path):
    """A torch-format archive whose pickle calls os.system."""
    data = b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", data)
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/version", "3\n")


def test_weights_only_refuses_arbitrary_globals(tmp_path):
    _malicious(tmp_path / "evil.pt")
    with pytest.raises(pickle.UnpicklingError) as theirs:
        torch.load(tmp_path / "evil.pt")
    with pytest.raises(theirs.type, match="os.system"):
        ac.load(tmp_path / "evil.pt")


def test_not_a_zip_file(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(Exception) as theirs:
        torch.load(tmp_path / "junk.pt")
    with pytest.raises(theirs.type):
        ac.load(tmp_path / "junk.pt")


def test_map_location_cuda_raises_as_a_cpu_build(tmp_path):
    torch.save(torch.ones(2), tmp_path / "x.pt")
    with pytest.raises(Exception) as theirs:
        torch.load(tmp_path / "x.pt", map_location="cuda")
    with pytest.raises(theirs.type):
        ac.load(tmp_path / "x.pt", map_location="cuda")
    assert ac.load(tmp_path / "x.pt", map_location="cpu").tolist() == [1.0, 1.0]
