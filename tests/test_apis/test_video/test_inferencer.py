import json
from collections import namedtuple

import cv2
import numpy as np
import pytest

from lowlight.apis import VideoInferencer, read_status
from lowlight.testing import TINY_CLASSES as CLASSES
from lowlight.testing import (frame_count, make_detector, make_video,
                              manifest_statuses, read_frames, read_jsonl,
                              video_frames, write_images)


@pytest.fixture(scope='module')
def detector(tmp_path_factory):
    return make_detector(tmp_path_factory.mktemp('model'))


@pytest.fixture(scope='module')
def inferencer(detector):
    return VideoInferencer(*detector, device='cpu', score_thr=0.0)


def _manifest(out_dir, name='manifest.json'):
    return json.loads((out_dir / name).read_text())


def test_jsonl_contents_frame_counts_and_annotated_video(inferencer, tmp_path):
    video = make_video(tmp_path / 'in' / 'clip.mp4', num_frames=10, fps=10.0)
    out = tmp_path / 'out'
    summary = inferencer.run([str(tmp_path / 'in')],
                             out,
                             save_video=True,
                             progress=False)
    assert summary['done'] == 1 and summary['failed'] == []

    records = read_jsonl(out / 'in' / 'clip.mp4' / 'detections.jsonl')
    assert [r['frame'] for r in records] == list(range(10))
    assert [r['time_ms'] for r in records] == [100.0 * i for i in range(10)]
    assert all(len(r['detections']) == 5 for r in records)
    for det in records[3]['detections']:
        x1, y1, x2, y2 = det['bbox']
        assert 0 <= x1 <= x2 <= 96 and 0 <= y1 <= y2 <= 64
        assert 0.0 <= det['score'] <= 1.0
        assert det['class_name'] == CLASSES[det['label']]

    annotated = out / 'in' / 'clip.mp4' / 'annotated.mp4'
    cap = cv2.VideoCapture(str(annotated))
    assert cap.get(cv2.CAP_PROP_FPS) == 10.0
    assert (cap.get(cv2.CAP_PROP_FRAME_WIDTH),
            cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (96, 64)
    cap.release()
    assert frame_count(annotated) == 10
    # boxes are drawn: annotated frames differ from the input frames
    assert np.abs(
        read_frames(annotated)[0].astype(int) -
        read_frames(video)[0]).max() > 100
    assert not list(out.rglob('*.part.*'))

    manifest = _manifest(out)
    (entry, ) = manifest['inputs']
    assert entry['status'] == 'done' and entry['reason'] is None
    assert entry['frames'] == 10 and entry['total_frames'] == 10
    assert manifest['summary']['done'] == 1
    assert read_status(out / 'in' / 'clip.mp4')['status'] == 'done'


def test_boxes_in_original_coordinates_non_square(inferencer, tmp_path):
    from mmdet.apis import inference_detector

    video = make_video(tmp_path / 'wide.mp4', num_frames=4, size=(192, 80))
    out = tmp_path / 'out'
    inferencer.run([str(video)], out, progress=False)
    records = read_jsonl(out / 'wide.mp4' / 'detections.jsonl')
    batched = VideoInferencer(
        inferencer.config_name,
        inferencer.checkpoint,
        batch_size=3,
        score_thr=0.0)
    batched.run([str(video)], tmp_path / 'batched', progress=False)
    records_batched = read_jsonl(tmp_path / 'batched' / 'wide.mp4' /
                                 'detections.jsonl')

    for index, frame in enumerate(read_frames(video)):
        pred = inference_detector(inferencer.model, frame).pred_instances
        expected = pred.bboxes.numpy().copy()
        expected[:, 0::2] = expected[:, 0::2].clip(0, 192)
        expected[:, 1::2] = expected[:, 1::2].clip(0, 80)
        got = np.array([d['bbox'] for d in records[index]['detections']])
        np.testing.assert_allclose(got, expected, atol=0.01)
        np.testing.assert_allclose(
            [d['score'] for d in records[index]['detections']],
            pred.scores.numpy(),
            atol=1e-4)
        got_batched = np.array(
            [d['bbox'] for d in records_batched[index]['detections']])
        np.testing.assert_allclose(got_batched, got, atol=0.05)
    # the boxes span the whole 192 px width, not the 64 px model input
    assert max(d['bbox'][2] for r in records for d in r['detections']) > 64


def test_stride_max_frames_and_resume(inferencer, tmp_path):
    make_video(tmp_path / 'in' / 'a.mp4', num_frames=10, fps=10.0)
    make_video(tmp_path / 'in' / 'b.avi', num_frames=7, fourcc='MJPG')
    out = tmp_path / 'out'
    kwargs = dict(stride=3, max_frames=3, progress=False)
    summary = inferencer.run([str(tmp_path / 'in')], out, **kwargs)
    assert summary['done'] == 2 and summary['frames'] == 6
    records = read_jsonl(out / 'in' / 'a.mp4' / 'detections.jsonl')
    assert [r['frame'] for r in records] == [0, 3, 6]
    assert [r['time_ms'] for r in records] == [0.0, 300.0, 600.0]
    first = (out / 'in' / 'a.mp4' / 'detections.jsonl').read_bytes()

    # same command again: both inputs skipped, outputs untouched
    summary = inferencer.run([str(tmp_path / 'in')], out, **kwargs)
    assert summary['skipped'] == 2 and summary['done'] == 0
    statuses = manifest_statuses(_manifest(out))
    assert statuses == {'in/a.mp4': 'skipped', 'in/b.avi': 'skipped'}
    assert _manifest(out)['inputs'][0]['frames'] == 3
    # other settings or --overwrite: redone
    summary = inferencer.run([str(tmp_path / 'in')],
                             out,
                             stride=1,
                             max_frames=3,
                             progress=False)
    assert summary['done'] == 2
    assert [
        r['frame']
        for r in read_jsonl(out / 'in' / 'a.mp4' / 'detections.jsonl')
    ] == [0, 1, 2]
    summary = inferencer.run([str(tmp_path / 'in')],
                             out,
                             overwrite=True,
                             **kwargs)
    assert summary['done'] == 2
    assert (out / 'in' / 'a.mp4' / 'detections.jsonl').read_bytes() == first


def test_bad_inputs_are_reported_and_others_go_on(inferencer, tmp_path,
                                                  capsys):
    folder = tmp_path / 'in'
    make_video(folder / 'good.mp4', num_frames=6)
    (folder / 'corrupt.mp4').write_bytes(np.random.RandomState(1).bytes(3000))
    (folder / 'empty.mp4').write_bytes(b'')
    valid = make_video(tmp_path / 'valid.avi', num_frames=20, fourcc='MJPG')
    data = valid.read_bytes()
    (folder / 'truncated.avi').write_bytes(data[:len(data) // 2])
    valid = make_video(tmp_path / 'valid.mp4', num_frames=20)
    data = valid.read_bytes()
    (folder / 'truncated.mp4').write_bytes(data[:len(data) // 2])
    (folder / 'notes.txt').write_text('not a video')
    frames = video_frames(4, (80, 48))
    paths = write_images(folder / 'seq', frames)
    paths[2].write_bytes(b'broken')

    out = tmp_path / 'out'
    summary = inferencer.run([str(folder)],
                             out,
                             save_video=True,
                             progress=False)
    entries = {e['output']: e for e in _manifest(out)['inputs']}
    assert {
        k: e['status']
        for k, e in entries.items()
    } == {
        'in/good.mp4': 'done',
        'in/corrupt.mp4': 'failed',
        'in/empty.mp4': 'failed',
        'in/truncated.avi': 'failed',
        'in/truncated.mp4': 'failed',
        'in/notes.txt': 'failed',
        'in/seq': 'failed',
    }
    assert summary['done'] == 1 and len(summary['failed']) == 6
    assert 'cannot open the video' in entries['in/corrupt.mp4']['reason']
    assert 'cannot open the video' in entries['in/truncated.mp4']['reason']
    assert "unsupported file type '.txt'" == entries['in/notes.txt']['reason']
    assert entries['in/seq']['reason'] == 'unreadable frame 2 (frame2.png)'

    # frames decoded before a mid-file failure are kept under final names
    partial = entries['in/truncated.avi']
    assert 'the stream ended after' in partial['reason']
    assert 0 < partial['frames'] < 20 and partial['total_frames'] == 20
    lines = read_jsonl(out / 'in' / 'truncated.avi' / 'detections.jsonl')
    assert [r['frame'] for r in lines] == list(range(partial['frames']))
    assert frame_count(out / 'in' / 'truncated.avi' /
                       'annotated.mp4') == partial['frames']
    assert entries['in/seq']['frames'] == 2
    assert not (out / 'in' / 'corrupt.mp4' / 'detections.jsonl').exists()
    assert not list(out.rglob('*.part.*'))

    err = capsys.readouterr().err
    assert 'corrupt.mp4' in err and 'cannot open the video' in err
    assert 'notes.txt' in err

    # a rerun redoes failed inputs only
    summary = inferencer.run([str(folder)],
                             out,
                             save_video=True,
                             progress=False)
    assert summary['skipped'] == 1 and len(summary['failed']) == 6


def test_grayscale_and_odd_size_inputs(inferencer, tmp_path):
    make_video(tmp_path / 'in' / 'ir.mp4', num_frames=5, gray=True)
    gray = [f[:, :, 1] for f in video_frames(3, (97, 65))]
    write_images(tmp_path / 'in' / 'odd', gray)
    out = tmp_path / 'out'
    summary = inferencer.run([str(tmp_path / 'in')],
                             out,
                             save_video=True,
                             fps=5.0,
                             progress=False)
    assert summary['done'] == 2
    assert len(read_jsonl(out / 'in' / 'ir.mp4' / 'detections.jsonl')) == 5
    records = read_jsonl(out / 'in' / 'odd' / 'detections.jsonl')
    assert [r['time_ms'] for r in records] == [0.0, 200.0, 400.0]
    for det in records[0]['detections']:
        assert det['bbox'][2] <= 97 and det['bbox'][3] <= 65
    # 4:2:0 video needs even sizes: the last column and row are cropped
    cap = cv2.VideoCapture(str(out / 'in' / 'odd' / 'annotated.mp4'))
    assert (cap.get(cv2.CAP_PROP_FRAME_WIDTH),
            cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (96, 64)
    assert cap.get(cv2.CAP_PROP_FPS) == 5.0
    cap.release()


def test_variable_frame_rate_keeps_the_container_times(inferencer, tmp_path):
    from fractions import Fraction

    import av
    times_ms = [0, 40, 80, 200, 240, 500, 540, 1000]
    video = tmp_path / 'vfr.mp4'
    with av.open(str(video), 'w') as container:
        stream = container.add_stream('mpeg4', rate=25)
        stream.width, stream.height, stream.pix_fmt = 96, 64, 'yuv420p'
        stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        for time_ms, image in zip(times_ms,
                                  video_frames(len(times_ms), (96, 64))):
            frame = av.VideoFrame.from_ndarray(image, format='bgr24')
            frame.pts, frame.time_base = time_ms, Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)

    out = tmp_path / 'out'
    summary = inferencer.run([str(video)],
                             out,
                             save_video=True,
                             progress=False)
    assert summary['done'] == 1
    records = read_jsonl(out / 'vfr.mp4' / 'detections.jsonl')
    assert [r['frame'] for r in records] == list(range(len(times_ms)))
    assert [r['time_ms'] for r in records] == pytest.approx(times_ms)
    # the annotated video has every frame, at the container's mean rate
    annotated = out / 'vfr.mp4' / 'annotated.mp4'
    assert frame_count(annotated) == len(times_ms)
    cap = cv2.VideoCapture(str(video))
    mean_fps = cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    cap = cv2.VideoCapture(str(annotated))
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(mean_fps, rel=1e-3)
    cap.release()


def test_shards_cover_every_input_once(inferencer, tmp_path):
    for i in range(5):
        make_video(tmp_path / 'in' / f'v{i}.mp4', num_frames=2)
    out = tmp_path / 'out'
    done = []
    for index in range(2):
        summary = inferencer.run([str(tmp_path / 'in')],
                                 out,
                                 shard=f'{index}/2',
                                 progress=False)
        shard_manifest = _manifest(out, f'manifest.shard-{index}-of-2.json')
        done.append({e['output'] for e in shard_manifest['inputs']})
        assert all(e['status'] == 'done' for e in shard_manifest['inputs'])
        assert summary['done'] == len(done[-1])
    assert done[0].isdisjoint(done[1])
    assert done[0] | done[1] == {f'in/v{i}.mp4' for i in range(5)}
    merged = _manifest(out)
    assert merged['summary']['done'] == 5 and merged['summary']['pending'] == 0
    assert len(merged['inputs']) == 5


Decomposition = namedtuple('Decomposition', ['reflectance', 'illumination'])


def test_show_decomposition(detector, tmp_path):
    inferencer = VideoInferencer(*detector, score_thr=0.0)
    video = make_video(tmp_path / 'v.mp4', num_frames=3, size=(96, 64))
    with pytest.raises(ValueError, match='YOLOV3 has none'):
        inferencer.run([str(video)], tmp_path / 'out', show_decomposition=True)

    def decompose(inputs, data_samples=None):
        illumination = inputs.amax(dim=1, keepdim=True).clamp(min=1e-3)
        return Decomposition(inputs / illumination, illumination)

    inferencer.model.decompose = decompose
    summary = inferencer.run([str(video)],
                             tmp_path / 'out',
                             show_decomposition=True,
                             progress=False)
    assert summary['done'] == 1
    side = read_frames(tmp_path / 'out' / 'v.mp4' / 'decomposition.mp4')
    assert len(side) == 3 and side[0].shape == (64, 3 * 96, 3)
    frame = read_frames(video)[1]
    # the illumination panel is the per-pixel max over channels
    expected = frame.max(axis=2)
    got = side[1][:, 96:192].mean(axis=2)
    assert np.abs(got - expected).mean() < 12


def test_palette_shorter_than_classes_falls_back_to_random(detector, tmp_path):
    inferencer = VideoInferencer(
        *detector,
        score_thr=0.0,
        cfg_options={'test_dataloader.dataset.metainfo.palette': [(9, 9, 9)]})
    assert len(inferencer.colors) == len(CLASSES)
    assert all(type(c) is int for color in inferencer.colors for c in color)
    video = make_video(tmp_path / 'v.mp4', num_frames=2)
    summary = inferencer.run([str(video)],
                             tmp_path / 'out',
                             save_video=True,
                             progress=False)
    assert summary['done'] == 1


def test_frames_in_flight_are_bounded(detector, tmp_path, monkeypatch):
    from lowlight.apis.video import outputs as video_outputs
    inferencer = VideoInferencer(
        *detector, batch_size=2, queue_size=1, score_thr=0.0)
    video = make_video(tmp_path / 'long.mp4', num_frames=40)
    decoded, written, in_flight = [0], [0], []
    preprocess, write = inferencer.preprocess, video_outputs.VideoOutputs.write

    def counting_preprocess(image, index=0):
        decoded[0] += 1
        in_flight.append(decoded[0] - written[0])
        return preprocess(image, index)

    def counting_write(self, result):
        write(self, result)
        written[0] += 1

    monkeypatch.setattr(inferencer, 'preprocess', counting_preprocess)
    monkeypatch.setattr(video_outputs.VideoOutputs, 'write', counting_write)
    summary = inferencer.run([str(video)],
                             tmp_path / 'out',
                             save_video=True,
                             progress=False)
    assert summary['frames'] == 40 and written[0] == 40
    # decoder batch + 1 queued + model + 1 queued + writer, 2 frames each
    assert max(in_flight) <= 2 * (2 * 1 + 4), max(in_flight)


def test_worker_crash_stops_the_run_with_an_error(inferencer, tmp_path,
                                                  monkeypatch):
    video = make_video(tmp_path / 'v.mp4', num_frames=2)

    from lowlight.apis.video.run import VideoRun

    def crash(*args):
        raise MemoryError('decoder out of memory')

    monkeypatch.setattr(VideoRun, '_decode_one', crash)
    with pytest.raises(RuntimeError, match='worker thread failed') as error:
        inferencer.run([str(video)], tmp_path / 'out', progress=False)
    assert isinstance(error.value.__cause__, MemoryError)
    assert manifest_statuses(_manifest(tmp_path / 'out')) == {
        'v.mp4': 'pending'
    }


def test_workers_run_torch_on_one_thread_model_keeps_its_threads(
        detector, tmp_path, monkeypatch):
    """A worker's own OpenMP team would compete with the model's threads."""
    import threading

    import torch
    from lowlight.apis.video import outputs as video_outputs
    inferencer = VideoInferencer(*detector, score_thr=0.0)
    video = make_video(tmp_path / 'v.mp4', num_frames=3)
    seen = {}
    preprocess, predict = inferencer.preprocess, inferencer.predict
    write = video_outputs.VideoOutputs.write

    def record(stage):
        seen.setdefault(stage, set()).add(
            (threading.current_thread().name, torch.get_num_threads()))

    def recording_preprocess(image, index=0):
        record('decode')
        return preprocess(image, index)

    def recording_predict(*args, **kwargs):
        record('model')
        return predict(*args, **kwargs)

    def recording_write(self, result):
        record('write')
        write(self, result)

    monkeypatch.setattr(inferencer, 'preprocess', recording_preprocess)
    monkeypatch.setattr(inferencer, 'predict', recording_predict)
    monkeypatch.setattr(video_outputs.VideoOutputs, 'write', recording_write)
    torch.set_num_threads(2)  # the autouse fixture restores the count
    inferencer.run([str(video)], tmp_path / 'out', progress=False)
    assert seen == {
        'decode': {('video-decode', 1)},
        'model': {(threading.main_thread().name, 2)},
        'write': {('video-write', 1)},
    }
    assert torch.get_num_threads() == 2


def test_two_streams_give_the_same_results_from_two_model_threads(
        detector, tmp_path, monkeypatch):
    """With streams=2 the batches are predicted in two pool threads, each
    on torch threads / 2, and the JSON Lines are those of one stream."""
    import threading

    import torch
    torch.set_num_threads(2)  # the autouse fixture restores the count
    video = make_video(tmp_path / 'v.mp4', num_frames=12)
    one = VideoInferencer(*detector, score_thr=0.0, batch_size=2)
    two = VideoInferencer(*detector, score_thr=0.0, batch_size=2, streams=2)
    assert two.threads_per_stream == 1
    seen, calls = set(), []
    predict = two.predict
    # the first two batches wait for each other: only two streams pass
    together = threading.Barrier(2, timeout=10)

    def recording_predict(*args, **kwargs):
        seen.add((threading.current_thread().name, torch.get_num_threads()))
        calls.append(None)
        if len(calls) <= 2:
            together.wait()
        return predict(*args, **kwargs)

    monkeypatch.setattr(two, 'predict', recording_predict)
    one.run([str(video)], tmp_path / 'one', progress=False)
    two.run([str(video)], tmp_path / 'two', progress=False)
    assert read_jsonl(tmp_path / 'one' / 'v.mp4' / 'detections.jsonl') == \
        read_jsonl(tmp_path / 'two' / 'v.mp4' / 'detections.jsonl')
    assert {count for _, count in seen} == {1}
    assert len({name for name, _ in seen}) == 2
    assert all(name.startswith('video-transform') for name, _ in seen)
    assert torch.get_num_threads() == 2
    with pytest.raises(ValueError, match='streams must be >= 1'):
        VideoInferencer(*detector, streams=0)
