import os

import cv2
import numpy as np
import pytest

from lowlight.apis import (FrameReadError, VideoInput, open_source, to_bgr)
from lowlight.testing import make_video, video_frames, write_images


def _video_input(path):
    return VideoInput(path, path.name, 'video')


def _read_all(item, stride=1, max_frames=None, fps=25.0):
    source = open_source(item, fps)
    frames = []
    try:
        for frame in source.frames(stride, max_frames):
            frames.append(frame)
    except FrameReadError as e:
        return frames, str(e)
    finally:
        source.close()
    return frames, None


def test_video_frames_timestamps_stride_and_max_frames(tmp_path):
    path = make_video(tmp_path / 'v.mp4', num_frames=10, fps=10.0)
    source = open_source(_video_input(path), 25.0)
    assert source.fps == 10.0 and source.num_frames == 10
    source.close()
    frames, error = _read_all(_video_input(path))
    assert error is None
    assert [f.index for f in frames] == list(range(10))
    assert [f.time_ms
            for f in frames] == pytest.approx([100.0 * i for i in range(10)])
    assert frames[0].image.shape == (64, 96, 3)
    assert frames[0].image.dtype == np.uint8

    frames, error = _read_all(_video_input(path), stride=3)
    assert error is None and [f.index for f in frames] == [0, 3, 6, 9]
    assert [f.time_ms for f in frames] == pytest.approx([0, 300, 600, 900])
    frames, _ = _read_all(_video_input(path), stride=4, max_frames=2)
    assert [f.index for f in frames] == [0, 4]


def test_grayscale_video_and_to_bgr(tmp_path):
    path = make_video(tmp_path / 'ir.mp4', num_frames=4, gray=True)
    frames, error = _read_all(_video_input(path))
    assert error is None and len(frames) == 4
    assert frames[0].image.shape == (64, 96, 3)

    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    for image in (gray, gray[..., None]):
        bgr = to_bgr(image)
        assert bgr.shape == (3, 4, 3)
        assert (bgr == gray[..., None]).all()
    deep = (gray.astype(np.uint16) << 8) + 255
    assert (to_bgr(deep)[..., 0] == gray).all()
    bgra = np.dstack([np.full((3, 4, 3), 7, np.uint8), gray])
    assert (to_bgr(bgra) == 7).all()


def test_corrupt_zero_and_truncated_mp4_cannot_open(tmp_path):
    corrupt = tmp_path / 'corrupt.mp4'
    corrupt.write_bytes(np.random.RandomState(0).bytes(4000))
    empty = tmp_path / 'empty.mp4'
    empty.write_bytes(b'')
    good = make_video(tmp_path / 'good.mp4', num_frames=20)
    truncated = tmp_path / 'truncated.mp4'
    data = good.read_bytes()
    truncated.write_bytes(data[:len(data) // 2])
    zero = tmp_path / 'zero_frames.mp4'
    cv2.VideoWriter(str(zero), cv2.VideoWriter_fourcc(*'mp4v'), 25,
                    (64, 48)).release()
    for path in (corrupt, empty, truncated, zero):
        with pytest.raises(FrameReadError, match='cannot open the video'):
            open_source(_video_input(path), 25.0)


def test_truncated_avi_keeps_frames_before_the_cut(tmp_path):
    good = make_video(tmp_path / 'good.avi', num_frames=20, fourcc='MJPG')
    data = good.read_bytes()
    truncated = tmp_path / 'truncated.avi'
    truncated.write_bytes(data[:len(data) // 2])
    frames, error = _read_all(_video_input(truncated))
    assert 0 < len(frames) < 20
    assert [f.index for f in frames] == list(range(len(frames)))
    assert error == (f'the stream ended after {len(frames)} of 20 frames '
                     '(truncated file?)')


def test_unreadable_frame_in_the_middle(tmp_path):
    good = make_video(tmp_path / 'good.avi', num_frames=20, fourcc='MJPG')
    data = bytearray(good.read_bytes())
    # each MJPG frame starts with a JPEG SOI marker; wipe frame 12
    starts = [i for i in range(len(data) - 1) if data[i:i + 2] == b'\xff\xd8']
    assert len(starts) == 20
    data[starts[12]:starts[13] - 8] = bytes(starts[13] - 8 - starts[12])
    broken = tmp_path / 'broken.avi'
    broken.write_bytes(bytes(data))
    frames, error = _read_all(_video_input(broken))
    assert len(frames) == 12
    assert error == 'unreadable frame 12 in the middle of the video'


def test_image_sequence_odd_size_gray_and_unreadable(tmp_path):
    frames = [f[:, :, 0] for f in video_frames(5, (97, 65))]
    paths = write_images(tmp_path / 'seq', frames)
    item = VideoInput(tmp_path / 'seq', 'seq', 'frames', tuple(paths))
    read, error = _read_all(item, fps=20.0)
    assert error is None
    assert [f.time_ms for f in read] == pytest.approx([0, 50, 100, 150, 200])
    assert read[2].image.shape == (65, 97, 3)
    assert (read[2].image[..., 1] == frames[2]).all()

    with open(paths[3], 'wb') as f:
        f.write(os.urandom(100))
    read, error = _read_all(item, fps=20.0)
    assert len(read) == 3
    assert error == 'unreadable frame 3 (frame3.png)'
    read, error = _read_all(item, stride=2)
    assert [f.index for f in read] == [0, 2, 4] and error is None

    with pytest.raises(FrameReadError, match="unsupported file type '.txt'"):
        open_source(
            VideoInput(tmp_path / 'a.txt', 'a.txt', 'unsupported'), 25.0)
    assert cv2.imread(str(paths[0])) is not None
