"""Weights-only checkpoints: conversion, safe loading, refused files."""
import pickle
from collections import Counter, OrderedDict, namedtuple

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

from lowlight.engine import (CheckpointLoadError, load_checkpoint_safely,
                             restore_history_buffers, to_weights_only)
from lowlight.testing import CreatesFile, write_crafted_checkpoint

Point = namedtuple('Point', 'x y')


def mmengine_like_checkpoint():
    """The parts of an mmengine 0.10.7 checkpoint weights_only refuses."""
    history = HistoryBuffer()
    for value in (1.5, np.float64(2.5), 3):
        history.update(value)
    state_dict = OrderedDict(weight=torch.arange(4.))
    state_dict._metadata = OrderedDict({'': {'version': 2}})
    return dict(
        meta=dict(
            epoch=1,
            iter=np.int64(8),
            dataset_meta=dict(classes=('a', 'b'), palette=[(1, 2, 3)])),
        state_dict=state_dict,
        message_hub=dict(
            log_scalars=OrderedDict({'train/loss': history}),
            runtime_info=OrderedDict(
                best_score=np.float32(0.25),
                anchors=np.ones((2, 2)),
                point=Point(1, 2),
                unknown=object()),
            resumed_keys=OrderedDict({'train/loss': True})),
        param_schedulers=[dict(milestones=Counter([8, 11]), gamma=0.1)],
    )


def test_plain_mmengine_checkpoint_is_refused_by_weights_only(tmp_path):
    # The problem this module solves, shown on this torch: the raw form
    # fails with weights_only=True.
    path = tmp_path / 'raw.pth'
    torch.save(mmengine_like_checkpoint(), path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)
    with pytest.raises(CheckpointLoadError) as error:
        load_checkpoint_safely(str(path))
    message = str(error.value)
    assert str(path) in message and 'HistoryBuffer' in message


def test_converted_checkpoint_round_trips(tmp_path):
    checkpoint = to_weights_only(mmengine_like_checkpoint())
    path = tmp_path / 'safe.pth'
    torch.save(checkpoint, path)
    loaded = torch.load(path, weights_only=True)  # torch itself accepts it
    assert loaded['meta']['iter'] == 8 and type(loaded['meta']['iter']) is int
    assert loaded['meta']['dataset_meta']['classes'] == ('a', 'b')
    assert loaded['state_dict']._metadata == {'': {'version': 2}}
    info = loaded['message_hub']['runtime_info']
    assert info['best_score'] == 0.25 and type(info['best_score']) is float
    assert torch.equal(info['anchors'], torch.ones(2, 2, dtype=torch.float64))
    assert info['point'] == (1, 2) and type(info['point']) is tuple
    assert 'unknown' not in info  # dropped with a warning, not a crash
    assert loaded['param_schedulers'][0]['milestones'] == Counter([8, 11])

    restored = restore_history_buffers(load_checkpoint_safely(str(path)))
    history = restored['message_hub']['log_scalars']['train/loss']
    assert isinstance(history, HistoryBuffer)
    np.testing.assert_allclose(history.data[0], [1.5, 2.5, 3.0])
    np.testing.assert_array_equal(history.data[1], [1, 1, 1])
    assert history.mean() == pytest.approx(7 / 3)


def test_unconvertible_value_outside_runtime_info_names_its_place():
    with pytest.raises(TypeError, match=r"checkpoint\['meta'\]\['bad'\]"):
        to_weights_only(dict(meta=dict(bad=object())))


@pytest.mark.parametrize('writer', ['torch.save', 'pickle.dump'])
def test_crafted_pickle_is_refused_and_never_runs(tmp_path, writer):
    marker = tmp_path / 'pwned.txt'
    path = tmp_path / 'evil.pth'
    write_crafted_checkpoint(path, marker, writer)
    # The payload is live: a full unpickle would create the marker.
    proof = tmp_path / 'proof.txt'
    pickle.loads(pickle.dumps(CreatesFile(proof))).close()
    assert proof.exists()

    with pytest.raises(CheckpointLoadError) as error:
        load_checkpoint_safely(str(path))
    assert str(path) in str(error.value)
    assert 'arbitrary code' in str(error.value)
    assert not marker.exists()


def test_truncated_checkpoint_gives_clear_error(tmp_path):
    path = tmp_path / 'epoch_1.pth'
    torch.save(dict(state_dict=dict(w=torch.zeros(1000))), path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(CheckpointLoadError,
                       match='truncated, damaged or not a PyTorch') as error:
        load_checkpoint_safely(str(path))
    assert str(path) in str(error.value)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(CheckpointLoadError, match='not found: .*nope.pth'):
        load_checkpoint_safely(str(tmp_path / 'nope.pth'))
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    with pytest.raises(CheckpointLoadError, match='empty.pth'):
        load_checkpoint_safely(str(empty))
