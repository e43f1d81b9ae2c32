"""The engine's epoch events (live curves): each epoch once, after its checkpoint; a resume starts at the checkpoint."""

from __future__ import annotations

import pytest
from test_train import _interrupt_after, _load, tiny  # noqa: F401 - tiny is a fixture

from suite.train import train_and_evaluate
from suite.train.events import TensorBoardEvents
from suite.train.recipes import get_recipe


class Recorder:
    def __init__(self):
        self.calls: list[tuple] = []

    def resume(self, history):
        self.calls.append(("resume", [h["epoch"] for h in history]))

    def epoch(self, entry):
        self.calls.append(("epoch", entry["epoch"], entry["test_error_pct"]))

    def close(self):
        self.calls.append(("close",))


@pytest.fixture(scope="module")
def few(cifar10_root):
    return _load(cifar10_root, train_subset=64, test_subset=20)


def test_events_follow_the_checkpoints_through_a_resume(few, tiny, tmp_path):  # noqa: F811
    tiny()
    recipe = get_recipe("threshnet", epochs=3, batch_size=32)
    first = Recorder()
    with pytest.raises(KeyboardInterrupt):
        train_and_evaluate("resnet18", few, recipe, seed=0, work_dir=tmp_path, events=first,
                           on_epoch_end=_interrupt_after(2))
    assert [c[:2] for c in first.calls] == [("resume", []), ("epoch", 1), ("epoch", 2), ("close",)]
    second = Recorder()
    result = train_and_evaluate("resnet18", few, recipe, seed=0, work_dir=tmp_path, events=second)
    # the checkpoint's epoch once more (a kill may have come between checkpoint and write), then the rest
    assert [c[:2] for c in second.calls] == [("resume", [1, 2]), ("epoch", 3), ("close",)]
    assert second.calls[1][2] == result.history[-1]["test_error_pct"]
    finished = Recorder()
    train_and_evaluate("resnet18", few, recipe, seed=0, work_dir=tmp_path, events=finished)
    assert finished.calls == []  # a finished run is returned from its checkpoint: nothing written


def test_tensorboard_writer_purges_from_the_checkpoint_epoch(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    entry = {"train_loss": 2.0, "train_error_pct": 80.0, "test_error_pct": 70.0, "test_top5_error_pct": None,
             "lr": 0.001, "seconds": 1.5, "train_images": 300, "train_seconds": 1.0}
    writer = TensorBoardEvents(tmp_path)
    writer.resume([])
    for epoch in (1, 2, 3):  # epoch 3 written, but the checkpoint kept only epoch 2 (killed in between)
        writer.epoch(entry | {"epoch": epoch, "test_error_pct": 70.0 - epoch})
    writer.close()
    again = TensorBoardEvents(tmp_path)
    again.resume([entry | {"epoch": 2, "test_error_pct": 68.0}])
    again.epoch(entry | {"epoch": 3, "test_error_pct": 60.0})
    again.close()
    acc = EventAccumulator(str(tmp_path))
    acc.Reload()
    points = [(e.step, e.value) for e in acc.Scalars("test/error_pct")]
    assert points == [(1, 69.0), (2, 68.0), (3, 60.0)]
    assert [e.value for e in acc.Scalars("time/images_per_s")] == [300.0, 300.0, 300.0]
    assert "test/top5_error_pct" not in acc.Tags()["scalars"]  # None is not a point
