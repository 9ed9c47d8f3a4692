"""``atomic_dir``: a folder appears under its final name only when complete;
an error leaves what was there before and no temporary folder."""
import pytest

from lowlight.utils import atomic_dir


def test_complete_folder_replaces_the_old_one(tmp_path):
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'old.txt').write_text('old')
    with atomic_dir(str(out)) as tmp:
        assert not (out / 'new.txt').exists()
        with open(f'{tmp}/new.txt', 'w') as f:
            f.write('new')
    assert sorted(p.name for p in out.iterdir()) == ['new.txt']
    assert [p.name for p in tmp_path.iterdir()] == ['out']


def test_error_keeps_the_old_folder_and_removes_the_temporary(tmp_path):
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'old.txt').write_text('old')
    with pytest.raises(RuntimeError, match='interrupted'):
        with atomic_dir(str(out)) as tmp:
            with open(f'{tmp}/half.txt', 'w') as f:
                f.write('half')
            raise RuntimeError('interrupted')
    assert (out / 'old.txt').read_text() == 'old'
    assert [p.name for p in tmp_path.iterdir()] == ['out']
