"""Atomic, verified checkpoints (:mod:`ipm.engine.checkpoint`)."""

import pytest
import torch

from ipm.engine import (
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)


def test_checkpoint_roundtrip_truncation_and_tampering(tmp_path):
    p = tmp_path / "c.pt"
    save_checkpoint(p, {"w": torch.arange(1000.0), "step": 3})
    assert load_checkpoint(p)["step"] == 3
    raw = torch.load(p, weights_only=True)  # plain torch file, weights_only-loadable
    assert raw["format"] == "ipm-checkpoint-v1"
    data = p.read_bytes()
    (tmp_path / "trunc.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="trunc.pt"):
        load_checkpoint(tmp_path / "trunc.pt")
    # flip one byte of the stored tensor data (the payload is stored uncompressed)
    pos = data.rfind(torch.arange(1000.0)[500:502].numpy().tobytes())
    assert pos > 0
    bad = bytearray(data)
    bad[pos] ^= 0xFF
    (tmp_path / "tamper.pt").write_bytes(bytes(bad))
    with pytest.raises(CheckpointError, match="tamper.pt"):
        load_checkpoint(tmp_path / "tamper.pt")


def test_a_failed_write_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    p = tmp_path / "last.pt"
    save_checkpoint(p, {"step": 1})

    def dying_save(obj, f, *a, **k):
        if hasattr(f, "write") and not hasattr(f, "getvalue"):
            f.write(b"partial garbage")
            raise OSError("killed mid-write")
        return real_save(obj, f, *a, **k)

    real_save = torch.save
    monkeypatch.setattr(torch, "save", dying_save)
    with pytest.raises(OSError):
        save_checkpoint(p, {"step": 2})
    monkeypatch.undo()
    assert load_checkpoint(p)["step"] == 1
    assert [f.name for f in tmp_path.iterdir()] == ["last.pt"]  # no temporary left behind


def test_files_that_are_not_checkpoints_are_named_without_torchs_unpickling_advice(tmp_path):
    torch.save(torch.nn.Linear(2, 2), tmp_path / "module.pt")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(CheckpointError, match="module.pt: not an ipm checkpoint") as e:
        load_checkpoint(tmp_path / "module.pt")
    assert "weights_only" not in str(e.value)
    with pytest.raises(CheckpointError, match="text.pt: cannot be read as a checkpoint"):
        load_checkpoint(tmp_path / "text.pt")
