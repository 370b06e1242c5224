"""aigc_course.distributed: data-parallel training equals one process on the full batch (torch
DDP and our engine), bucketed zero-copy all-reduce, and a launcher that never hangs.

Each launch costs seconds (spawning processes that import torch), so the tests launch few times
and check several things per launch.
"""

import multiprocessing as mp
import os
import threading
import time

import numpy as np
import pytest
import torch
import torch.distributed as dist

import aigc_course as ac
from aigc_course.distributed import (
    all_reduce_gradients,
    broadcast_parameters,
    flat_buffer,
    launch,
    workers,
)

STEPS = 25


@pytest.fixture(scope="module")
def two_ranks():
    return launch(workers.parity_worker, 2, (STEPS,))


def test_torch_ddp_on_two_processes_equals_one_process(two_ranks):
    problem = workers.digits_problem(steps=STEPS)
    one_process = workers.train_torch(problem)  # full batch of 64, no process group
    for result in two_ranks:
        for name, expected in one_process.items():
            np.testing.assert_allclose(result["torch_ddp"][name], expected, rtol=0, atol=1e-6)
    # and the run moved: the parameters are not the starting ones
    assert not np.allclose(one_process["0.weight"], problem[3]["0.weight"], atol=1e-3)


def test_our_engine_on_two_processes_equals_one_process_and_torch(two_ranks):
    problem = workers.digits_problem(steps=STEPS)
    ours_one = workers.train_ours(problem)
    torch_one = workers.train_torch(problem)
    for result in two_ranks:
        for name in ours_one:
            np.testing.assert_allclose(result["ours"][name], ours_one[name], rtol=0, atol=1e-6)
            np.testing.assert_allclose(result["ours"][name], torch_one[name], rtol=0, atol=1e-6)
    # the two ranks hold identical copies, bit for bit: the same averaged gradient on each
    for name in ours_one:
        np.testing.assert_array_equal(two_ranks[0]["ours"][name], two_ranks[1]["ours"][name])


def raise_on_rank_one(rank, world_size):
    if rank == 1:
        time.sleep(0.5)  # rank 0 is already blocked in the all-reduce by now
        raise ValueError("rank one fails on purpose")
    dist.all_reduce(torch.ones(3))  # waits for a partner that never comes
    return rank


def test_a_raising_rank_is_reported_within_seconds_and_nothing_is_left_running():
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"rank 1 raised ValueError: rank one fails on purpose"):
        launch(raise_on_rank_one, 2)
    # start-up is ~5 s on an idle 2-core machine; the failure itself is seen within POLL_S
    assert time.monotonic() - start < 60
    assert mp.active_children() == []


def die_on_rank_one(rank, world_size):
    if rank == 1:
        os._exit(3)  # no exception, no message: like a segfault or the OOM killer
    time.sleep(600)


def test_a_rank_that_dies_silently_is_reported_and_the_other_is_stopped():
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="rank 1 exited with code 3 without a result"):
        launch(die_on_rank_one, 2)
    assert time.monotonic() - start < 60  # not the 600 s that rank 0 would sleep
    assert mp.active_children() == []


def sleep_forever(rank, world_size):
    time.sleep(600)


def test_launch_never_waits_past_its_timeout():
    start = time.monotonic()
    with pytest.raises(TimeoutError, match=r"timed out after 15 s waiting for ranks \[0\]"):
        launch(sleep_forever, 1, timeout=15)
    assert time.monotonic() - start < 35
    assert mp.active_children() == []


def where_am_i(rank, world_size):
    t = torch.tensor([float(rank + 1)])
    dist.all_reduce(t)
    return {
        "rank": dist.get_rank(),
        "world": dist.get_world_size(),
        "sum": t.item(),
        "pid": os.getpid(),
        "threads": torch.get_num_threads(),
        "interface": os.environ["GLOO_SOCKET_IFNAME"],
    }


def test_two_launches_at_the_same_time_both_succeed():
    # world_size 1 each: the two launches must not share a store or a port, whatever their size
    results, errors = {}, []

    def run(key):
        try:
            results[key] = launch(where_am_i, 1)
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=(k,)) for k in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert [r[0]["sum"] for r in results.values()] == [1.0, 1.0]
    assert results["a"][0]["pid"] != results["b"][0]["pid"] != os.getpid()
    assert results["a"][0]["threads"] == 1
    assert results["a"][0]["interface"].startswith("lo")  # loopback only
    assert mp.active_children() == []


def test_launch_refuses_what_a_spawned_process_cannot_import():
    with pytest.raises(ValueError, match="inside a function|__main__"):
        launch(lambda rank, world: rank)

    def local(rank, world):
        return rank

    with pytest.raises(ValueError, match="local"):
        launch(local)
    with pytest.raises(ValueError, match="world_size must be a positive integer, got 0"):
        launch(where_am_i, 0)
    with pytest.raises(TypeError, match="args must be a tuple"):
        launch(where_am_i, 1, args=[1])
    assert mp.active_children() == []


# --- all_reduce_gradients in this process, as a group of one (no spawning) -----------------


@pytest.fixture
def group_of_one(tmp_path):
    dist.init_process_group(
        "gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1
    )
    yield
    dist.destroy_process_group()


def _model_with_grads():
    ac.manual_seed(0)
    model = ac.nn.Sequential(ac.nn.Linear(4, 3), ac.nn.Tanh(), ac.nn.Linear(3, 2))
    model(ac.randn(5, 4)).sum().backward()
    return model


def test_all_reduce_gradients_is_one_bucketed_call_in_place(group_of_one, monkeypatch):
    model = _model_with_grads()
    grads = [p.grad for p in model.parameters()]
    before = [g.numpy().copy() for g in grads]
    calls = []
    real = dist.all_reduce

    def counting(tensor, *args, **kwargs):
        calls.append(tensor.numel())
        return real(tensor, *args, **kwargs)

    monkeypatch.setattr(dist, "all_reduce", counting)
    all_reduce_gradients(model)
    assert calls == [sum(b.size for b in before)]  # one flat bucket, not one call per tensor
    for p, g, b in zip(model.parameters(), grads, before):
        assert p.grad is g  # the same gradient tensors, updated in place
        np.testing.assert_array_equal(g.numpy(), b)  # the average over one rank
        assert g.numpy().dtype == np.float32


def test_all_reduce_gradients_refuses_a_missing_gradient(group_of_one):
    model = _model_with_grads()
    model[2].bias.grad = None
    with pytest.raises(RuntimeError, match=r"'2.bias' has no gradient"):
        all_reduce_gradients(model)


def test_all_reduce_gradients_refuses_a_non_contiguous_gradient(group_of_one):
    model = _model_with_grads()
    w = model[0].weight
    w.grad = ac.tensor(np.asfortranarray(w.grad.numpy()))
    assert not w.grad.is_contiguous()
    with pytest.raises(RuntimeError, match="'0.weight' is not contiguous"):
        all_reduce_gradients(model)


def test_broadcast_parameters_writes_into_our_arrays(group_of_one):
    model = _model_with_grads()
    arrays = [p.detach().numpy() for p in model.parameters()]
    copies = [a.copy() for a in arrays]
    broadcast_parameters(model)
    for p, a, c in zip(model.parameters(), arrays, copies):
        assert np.shares_memory(p.detach().numpy(), a)
        np.testing.assert_array_equal(a, c)


def test_without_a_process_group_raises_like_torch():
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="process group has not been initialized"):
        dist.all_reduce(torch.ones(1))
    with pytest.raises(ValueError, match="process group has not been initialized"):
        all_reduce_gradients(_model_with_grads())


def test_flat_buffer_views_share_its_memory():
    a, b = np.arange(6, dtype=np.float32).reshape(2, 3), np.ones(2, np.float32)
    flat, views = flat_buffer([a, b])
    np.testing.assert_array_equal(flat, [0, 1, 2, 3, 4, 5, 1, 1])
    flat += 1
    np.testing.assert_array_equal(views[0], a + 1)
    with pytest.raises(TypeError, match="one dtype"):
        flat_buffer([a, b.astype(np.float64)])


def test_a_rank_that_died_before_running_fn_gets_the_main_guard_hint(tmp_path):
    import sys

    launch_module = sys.modules["aigc_course.distributed.launch"]
    assert 'if __name__ == "__main__":' in launch_module._log_tail(str(tmp_path), 0)
    (tmp_path / "rank1.log").write_text("Segmentation fault\n")
    assert launch_module._log_tail(str(tmp_path), 1).endswith("Segmentation fault\n")
