import pytest

from lowlight.apis import collect_inputs, parse_shard, select_shard


def _touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b'x')
    return path


def test_collect_inputs_folder_glob_and_file(tmp_path, monkeypatch):
    root = tmp_path / 'footage'
    _touch(root / 'day1' / 'a.mp4')
    _touch(root / 'day1' / 'B.AVI')
    _touch(root / 'day2' / 'c.mkv')
    _touch(root / 'day2' / 'notes.txt')
    _touch(root / '.hidden.mp4')
    _touch(root / '.cache' / 'x.mp4')
    for name in ('frame10.png', 'frame2.png', 'frame1.png'):
        _touch(root / 'ir' / name)
    _touch(tmp_path / 'single.mov')
    monkeypatch.chdir(tmp_path)

    items = collect_inputs(['footage', 'single.mov'])
    by_rel = {item.rel: item for item in items}
    assert sorted(by_rel) == [
        'footage/day1/B.AVI', 'footage/day1/a.mp4', 'footage/day2/c.mkv',
        'footage/day2/notes.txt', 'footage/ir', 'single.mov'
    ]
    assert [i.rel for i in items] == sorted(by_rel)
    assert by_rel['footage/day1/B.AVI'].kind == 'video'
    assert by_rel['footage/day2/notes.txt'].kind == 'unsupported'
    frames = by_rel['footage/ir']
    assert frames.kind == 'frames'
    assert [p.name for p in frames.frames
            ] == ['frame1.png', 'frame2.png', 'frame10.png']

    # a glob: paths relative to its fixed prefix; duplicates counted once
    items = collect_inputs(['footage/day*/*.mp4', 'footage/day1/a.mp4'])
    assert [i.rel for i in items] == ['day1/a.mp4']


def test_collect_inputs_excludes_out_dir_and_reports_errors(tmp_path):
    _touch(tmp_path / 'in' / 'a.mp4')
    _touch(tmp_path / 'in' / 'out' / 'in' / 'a.mp4' / 'annotated.mp4')
    items = collect_inputs([str(tmp_path / 'in')],
                           exclude=str(tmp_path / 'in' / 'out'))
    assert [i.rel for i in items] == ['in/a.mp4']

    with pytest.raises(FileNotFoundError, match='missing.mp4'):
        collect_inputs([str(tmp_path / 'missing.mp4')])
    with pytest.raises(FileNotFoundError, match='no file matches'):
        collect_inputs([str(tmp_path / '*.mkv')])
    _touch(tmp_path / 'other' / 'a.mp4')
    with pytest.raises(ValueError, match="both write to 'a.mp4'"):
        collect_inputs([
            str(tmp_path / 'in' / 'a.mp4'),
            str(tmp_path / 'other' / 'a.mp4')
        ])


def test_parse_and_select_shard():
    assert parse_shard(None, env={}) == (0, 1)
    assert parse_shard('1/3', env={}) == (1, 3)
    assert parse_shard(None, env={'RANK': '2', 'WORLD_SIZE': '4'}) == (2, 4)
    # an explicit --shard wins over torchrun's environment
    assert parse_shard('0/2', env={'RANK': '1', 'WORLD_SIZE': '2'}) == (0, 2)
    for bad in ('2/2', '1', 'a/b', '0/0'):
        with pytest.raises(ValueError, match='shard'):
            parse_shard(bad, env={})

    items = list(range(7))
    shards = [select_shard(items, i, 3) for i in range(3)]
    assert sorted(sum(shards, [])) == items
    assert shards[1] == [1, 4]
