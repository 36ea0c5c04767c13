"""The runner's side of the fair protocol: patience after the threshold, and
records of a model built from other preset values are not resumed."""

import json

from zoo import record as run_record
from zoo.runner import Run, load_record, train_and_evaluate

KNOBS = {"sequence_length": 4, "num_train": 64, "num_validation": 32, "num_test": 32}


class _Model:
    stop_training = False

    def get_weights(self):
        return []


def _stops_after(monkeypatch, patience, scores=(0.5, 0.995, 0.999, 0.9999, 0.99999)):
    """The epoch at which a monitor with `patience` stops, on scripted validation scores."""
    import zoo.tasks
    from zoo.runner import callbacks

    task = zoo.tasks.get("copying", sequence_length=6)  # accuracy, solved at >= 0.99
    scripted = iter(scores)
    monkeypatch.setattr(callbacks, "evaluate", lambda *a: {"accuracy": next(scripted)})
    monitor = callbacks.TaskMonitor(task, None, 16, started=0.0, patience=patience)
    monitor.set_model(_Model())
    for epoch in range(len(scores)):
        monitor.on_epoch_end(epoch, {})
        if monitor.model.stop_training:
            return epoch, monitor
    return None, monitor


def test_patience_keeps_training_after_the_threshold(monkeypatch):
    assert _stops_after(monkeypatch, 0)[0] == 1  # the first solved validation
    stopped, monitor = _stops_after(monkeypatch, 2)
    assert stopped == 3 and monitor.solved_epoch == 1 and monitor.best_epoch == 3
    assert _stops_after(monkeypatch, None)[0] is None  # the whole budget


def test_a_record_of_other_preset_values_is_moved_aside_and_retrained(tmp_path):
    run = Run("gru_tiny", "adding", KNOBS, epochs=1, batch_size=16)
    train_and_evaluate(run, tmp_path, verbose=0)
    assert load_record(tmp_path, run) is not None
    path = run_record.run_record_path(tmp_path, run.run_id)
    found = json.loads(path.read_text())
    found["model_config"]["hidden_dim"] += 1  # as if the preset had changed since
    path.write_text(json.dumps(found))
    assert load_record(tmp_path, run) is None
    assert path.with_name("metrics.json.stale").exists() and not path.exists()


def test_a_corrupt_record_is_moved_aside_not_deleted(tmp_path):
    run = Run("gru_tiny", "adding", KNOBS)
    path = run_record.run_record_path(tmp_path, run.run_id)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert load_record(tmp_path, run) is None
    assert path.with_name("metrics.json.corrupt").read_text() == "{not json"


def test_records_are_strict_json():
    text = run_record.dumps({"loss": float("nan"), "inf": float("inf"), "ok": 1.5})
    assert json.loads(text) == {"inf": None, "loss": None, "ok": 1.5}
    assert "NaN" not in text and "Infinity" not in text
