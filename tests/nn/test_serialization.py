"""nn.save and nn.load: atomic writes, str or PathLike paths, cheap refusal of hostile
files, and a save that always loads back equal (or is refused before the old file is touched)."""

import pytest

# -- nn.save is atomic; paths are str or os.PathLike ------------------------------------

_SAVE_IN_A_LIMITED_CHILD = r'''
import resource, signal, sys
from microgrid import nn
path, limit, ignore = sys.argv[1], int(sys.argv[2]), sys.argv[3] == 'ignore'
# Python ignores SIGXFSZ (the write fails with EFBIG); by default the kernel kills the writer
signal.signal(signal.SIGXFSZ, signal.SIG_IGN if ignore else signal.SIG_DFL)
model = nn.MLP(20, [40, 40, 1], seed=1)  # a file far larger than the limit
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    nn.save(model, path)
except OSError as e:
    print('refused:', e.errno)
    sys.exit(3)
sys.exit(0)
'''


@pytest.mark.parametrize('how', ['ignore', 'killed'])
def test_a_failed_save_leaves_the_old_file_byte_for_byte(tmp_path, how):
    pytest.importorskip('resource', reason='RLIMIT_FSIZE needs a POSIX system')
    import os
    import subprocess
    import sys

    from microgrid import nn

    path = tmp_path / 'model.json'
    nn.save(nn.MLP(2, [3, 1], seed=0), path)
    old = path.read_bytes()
    limit = len(old) * 3  # the old file fits, the new one does not
    env = {**os.environ, 'PYTHONDONTWRITEBYTECODE': '1'}
    child = subprocess.run(
        [sys.executable, '-c', _SAVE_IN_A_LIMITED_CHILD, str(path), str(limit), how],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    if how == 'ignore':
        assert child.returncode == 3, child.stderr
        assert 'refused: 27' in child.stdout  # EFBIG
        # the temporary file was removed too
        assert sorted(os.listdir(tmp_path)) == ['model.json']
    else:
        import signal

        assert child.returncode == -signal.SIGXFSZ, (child.returncode, child.stderr)
    assert path.read_bytes() == old
    assert nn.load(path).state_dict() == nn.MLP(2, [3, 1], seed=0).state_dict()


def test_save_replaces_the_file_and_keeps_its_mode(tmp_path):
    import os

    from microgrid import nn

    path = tmp_path / 'model.json'
    path.write_text('old')
    os.chmod(path, 0o640)
    model = nn.MLP(2, [2, 1], seed=3)
    nn.save(model, str(path))
    assert nn.load(path).state_dict() == model.state_dict()
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ['model.json']


def test_save_and_load_take_only_str_or_pathlike(tmp_path):
    import os

    from microgrid import nn

    target = tmp_path / 'fd.json'
    fd = os.open(target, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        with pytest.raises(TypeError, match='save: path must be a str or os.PathLike, got int'):
            nn.save(nn.MLP(2, [1], seed=0), fd)
        os.fstat(fd)  # still open: save neither wrote to nor closed the descriptor
    finally:
        os.close(fd)
    assert target.read_bytes() == b''
    for bad in (3, b'model.json', None, 2.5):
        with pytest.raises(TypeError, match='load: path must be a str or os.PathLike'):
            nn.load(bad)


# -- nn.load refuses hostile files cheaply ----------------------------------------------


def _hostile_text(nin, entries, key_digits=8):
    head = (
        '{"format": "microgrid.MLP", "version": 1, "nin": ' + str(nin) + ', "nouts": [1], '
        '"activation": "relu", "state": {'
    )
    body = ','.join(f'"k{i:0{key_digits}d}":0' for i in range(entries))
    return head + body + '}}'


def test_load_refuses_a_20mb_file_claiming_a_huge_architecture_cheaply(tmp_path):
    import time
    import tracemalloc

    from microgrid import nn

    path = tmp_path / 'huge.json'
    path.write_text(_hostile_text(5_999_999, 1_600_000))  # ~22 MB of wrong keys
    size = path.stat().st_size
    assert size > 20e6
    start = time.perf_counter()
    with pytest.raises(ValueError, match='LOAD_MAX_PARAMETERS'):
        nn.load(path)
    assert time.perf_counter() - start < 2.0
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match='LOAD_MAX_PARAMETERS'):
            nn.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * size, (peak, size)


def test_load_checks_the_state_before_building_any_value(tmp_path, monkeypatch):
    from microgrid import nn

    def no_model(*args, **kwargs):
        raise AssertionError('an MLP was built for a file that does not match')

    monkeypatch.setattr(nn, 'MLP', no_model)
    path = tmp_path / 'wrong.json'
    path.write_text(_hostile_text(49_999, 50_000))  # the right count, the wrong keys
    with pytest.raises(ValueError, match=r"'state' does not match the architecture nin=49999") as e:
        nn.load(path)
    assert "missing key(s) 'layers.0.neurons.0.w.0'" in str(e.value)
    assert "unexpected key(s) such as 'k00000000'" in str(e.value)
    text = _hostile_text(2_000_000, 3)
    path.write_text(text)
    with pytest.raises(ValueError, match='more than 1000000 parameters'):
        nn.load(path)


def test_save_and_load_share_the_parameter_limit(tmp_path, monkeypatch):
    from microgrid import nn

    model = nn.MLP(3, [4, 1], seed=0)  # 21 parameters
    nn.save(model, tmp_path / 'ok.json')
    monkeypatch.setattr(nn.serialization, 'LOAD_MAX_PARAMETERS', 20)
    with pytest.raises(ValueError, match=r'save: the model has 21 parameters, more than load'):
        nn.save(model, tmp_path / 'big.json')
    assert not (tmp_path / 'big.json').exists()
    with pytest.raises(ValueError, match=r'has more than 20 parameters \(LOAD_MAX_PARAMETERS\)'):
        nn.load(tmp_path / 'ok.json')
    monkeypatch.setattr(nn.serialization, 'LOAD_MAX_PARAMETERS', 21)
    assert nn.load(tmp_path / 'ok.json').state_dict() == model.state_dict()


def _refused_cheaply(path, words):
    import time
    import tracemalloc

    from microgrid import nn

    size = path.stat().st_size
    start = time.perf_counter()
    with pytest.raises(ValueError, match=words):
        nn.load(path)
    spent = time.perf_counter() - start
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=words):
            nn.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert spent < 2.0, spent
    assert peak < 3 * size, (peak, size)


def test_load_refuses_a_large_file_whose_keys_or_count_do_not_fit_before_parsing(tmp_path):
    # within the limit, with the right count but none of the right keys: ~21 MB
    path = tmp_path / 'wrong_keys.json'
    path.write_text(_hostile_text(999_999, 1_000_000, key_digits=15))
    assert path.stat().st_size > 20e6
    _refused_cheaply(path, r"'state' does not match the architecture nin=999999, nouts=\[1\]")
    # a count that does not fit the architecture
    path = tmp_path / 'wrong_count.json'
    path.write_text(_hostile_text(499_999, 900_000, key_digits=15))
    _refused_cheaply(path, r'has 500000 parameters but .* holds 900000 entries')


def test_a_large_saved_model_still_loads(tmp_path):
    from microgrid import nn

    model = nn.MLP(100, [150, 150, 1], seed=2)  # 37,951 parameters, a file over 1 MiB
    nn.save(model, tmp_path / 'big.json')
    assert (tmp_path / 'big.json').stat().st_size > 1 << 20
    assert nn.load(tmp_path / 'big.json').state_dict() == model.state_dict()
