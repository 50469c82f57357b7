"""ember.save / ember.load and the file system: permission bits, symlinks, special files, fsync order, and
the temporary files of saves that were killed (removed by the next save, never while a save is live)."""
import errno
import os
import stat
import subprocess
import sys

import pytest

import ember
from ember.serialization import CheckpointError

fcntl = pytest.importorskip("fcntl", reason="POSIX file locking and permission bits")

pytestmark = pytest.mark.no_device


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def temp_files(directory) -> list:
    return sorted(name for name in os.listdir(directory) if ".ember-save-" in name)


# ---- permissions -----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664, 0o604], ids=oct)
def test_save_keeps_the_permission_bits_of_the_file_it_replaces(tmp_path, mode):
    path = tmp_path / "ckpt"
    ember.save({"v": 1}, path)
    os.chmod(path, mode)
    ember.save({"v": 2}, path)
    assert mode_of(path) == mode and ember.load(path) == {"v": 2}


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002], ids=oct)
def test_a_new_file_gets_the_mode_open_would_give(tmp_path, umask):
    old = os.umask(umask)
    try:
        ember.save({"v": 1}, tmp_path / "saved")
        with open(tmp_path / "opened", "wb"):
            pass
    finally:
        os.umask(old)
    assert mode_of(tmp_path / "saved") == mode_of(tmp_path / "opened")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write read-only files")
def test_a_read_only_checkpoint_is_refused_as_open_would_refuse_it(tmp_path):
    path = tmp_path / "ckpt"
    ember.save({"v": 1}, path)
    os.chmod(path, 0o400)
    with pytest.raises(PermissionError):
        ember.save({"v": 2}, path)
    assert ember.load(path) == {"v": 1} and temp_files(tmp_path) == []


# ---- symlinks and special files --------------------------------------------------------------------
def test_a_relative_symlink_writes_its_target_and_keeps_the_target_mode(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "links").mkdir()
    target = tmp_path / "real" / "ckpt"
    ember.save({"v": 1}, target)
    os.chmod(target, 0o600)
    link = tmp_path / "links" / "ckpt"
    link.symlink_to(os.path.join("..", "real", "ckpt"))
    ember.save({"v": 2}, link)
    assert link.is_symlink() and ember.load(target) == {"v": 2} and mode_of(target) == 0o600
    assert temp_files(tmp_path / "links") == [] and temp_files(tmp_path / "real") == []


def test_a_dangling_symlink_creates_its_target_as_open_would(tmp_path):
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "new.ckpt")
    ember.save({"v": 1}, link)
    assert link.is_symlink() and ember.load(tmp_path / "new.ckpt") == {"v": 1}


def test_a_symlink_loop_raises_the_error_open_would(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(OSError) as opened:
        open(tmp_path / "a", "wb")
    with pytest.raises(OSError) as saved:
        ember.save({"v": 1}, tmp_path / "a")
    assert saved.value.errno == opened.value.errno == errno.ELOOP
    assert (tmp_path / "a").is_symlink() and temp_files(tmp_path) == []


def test_saving_to_a_directory_raises_is_a_directory_error(tmp_path):
    with pytest.raises(IsADirectoryError):
        ember.save({"v": 1}, tmp_path)


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_saving_to_dev_null_writes_into_it_and_leaves_it_a_device():
    ember.save({"t": ember.ones(3, device="cpu")}, "/dev/null")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_loading_dev_zero_or_a_link_to_it_is_refused_before_reading(tmp_path):
    link = tmp_path / "zero.ckpt"
    link.symlink_to("/dev/zero")
    for path in ("/dev/zero", link):
        with pytest.raises(CheckpointError, match="character device, not a regular file") as info:
            ember.load(path)
        assert str(path) in str(info.value)


def test_loading_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "pipe.ckpt"
    os.mkfifo(fifo)
    with pytest.raises(CheckpointError, match="FIFO"):
        ember.load(fifo)


def test_loading_a_directory_raises_is_a_directory_error(tmp_path):
    with pytest.raises(IsADirectoryError):
        ember.load(tmp_path)


# ---- durability ------------------------------------------------------------------------------------
def test_data_is_fsynced_before_the_rename_and_the_directory_after_it(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        calls.append("fsync " + ("directory" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"))
        real_fsync(fd)

    def replace(src, dst):
        calls.append("rename")
        real_replace(src, dst)
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    ember.save({"t": ember.ones(3, device="cpu")}, tmp_path / "ckpt")
    assert calls == ["fsync file", "rename", "fsync directory"]


# ---- temporary files of killed saves ---------------------------------------------------------------
KILLED_SAVE = """
import os, sys, time
import ember
def hang(fd):
    print("data written", flush=True)
    time.sleep(120)
os.fsync = hang
ember.save({"w": ember.ones(250_000, device="cpu"), "epoch": 2}, sys.argv[1])
"""


def test_a_save_killed_midway_leaves_the_old_file_and_the_next_save_removes_its_temp_file(tmp_path):
    path = tmp_path / "ckpt"
    ember.save({"w": ember.zeros(10, device="cpu"), "epoch": 1}, path)
    child = subprocess.Popen([sys.executable, "-c", KILLED_SAVE, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "data written\n"
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    assert child.returncode == -9
    (leftover,) = temp_files(tmp_path)
    assert os.path.getsize(tmp_path / leftover) > 1_000_000
    old = ember.load(path)
    assert old["epoch"] == 1 and old["w"].shape == (10,)
    ember.save({"epoch": 3}, path)
    assert os.listdir(tmp_path) == ["ckpt"] and ember.load(path) == {"epoch": 3}


def test_the_next_save_removes_only_abandoned_temp_files_of_its_own_path(tmp_path):
    abandoned = tmp_path / ".ckpt.ember-save-0123456789ab.tmp"
    live = tmp_path / ".ckpt.ember-save-aaaaaaaaaaaa.tmp"
    others = [tmp_path / ".other.ember-save-0123456789ab.tmp", tmp_path / ".ckpt.tmp", tmp_path / "ckpt.tmp"]
    for path in [abandoned, live, *others]:
        path.write_bytes(b"partial")
    with open(live, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a save in progress in another process holds its file
        ember.save({"v": 1}, tmp_path / "ckpt")
        assert not abandoned.exists() and live.exists() and all(p.exists() for p in others)
    ember.save({"v": 2}, tmp_path / "ckpt")
    assert not live.exists() and all(p.exists() for p in others)


def test_a_temp_file_removed_before_its_save_locked_it_is_replaced_by_a_new_one(tmp_path, monkeypatch):
    from ember.serialization import atomic

    real_flock, removed = fcntl.flock, []

    def flock_after_a_concurrent_cleanup(fd, operation):
        if not removed:  # another save found the new file unlocked and removed it
            (name,) = temp_files(tmp_path)
            os.unlink(tmp_path / name)
            removed.append(name)
        real_flock(fd, operation)
    monkeypatch.setattr(atomic.fcntl, "flock", flock_after_a_concurrent_cleanup)
    ember.save({"v": 1}, tmp_path / "ckpt")
    assert removed and os.listdir(tmp_path) == ["ckpt"] and ember.load(tmp_path / "ckpt") == {"v": 1}
