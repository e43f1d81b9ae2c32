"""Remote hardware profiles, device labels and the ssh command line: no device, no network, no timing."""

from __future__ import annotations

import ast
import shlex

import pytest

from suite.core.errors import SuiteError
from suite.device import ssh
from suite.timing import hardware
from suite.timing.ondevice import device_identify as identify
from suite.timing.profiles import PROFILES


@pytest.mark.parametrize("model, label", [
    ("Raspberry Pi 4 Model B Rev 1.4", "rpi4"),
    ("Raspberry Pi 4 Model B Rev 1.1\x00", "rpi4"),
    ("Raspberry Pi 400 Rev 1.0", "remote-my-pi"),  # a Pi 4 SoC in a keyboard: other clock, other cooling
    ("Raspberry Pi Compute Module 4 Rev 1.0", "remote-my-pi"),
    ("Raspberry Pi 5 Model B Rev 1.0", "rpi5"),
    ("Raspberry Pi 3 Model B Rev 1.2", "rpi3b"),  # DP-Net's Table 7 device
    ("Raspberry Pi 3 Model B Plus Rev 1.3", "remote-my-pi"),  # the 3B+ is a faster board
    (None, "remote-my-pi"),
])
def test_labels(model, label):
    assert identify.label_for(model.strip("\x00") if model else None, "My_Pi") == label


def test_the_shipped_device_patterns_are_the_profiles_own():
    # device_identify runs on the board without the suite: its copy of the patterns must equal the declarations
    declared = tuple((pattern, p.name) for p in PROFILES.values() for pattern in p.device_models)
    assert declared and identify.PI_LABELS == declared


def test_device_model_file_is_injectable(tmp_path, monkeypatch):
    f = tmp_path / "model"
    f.write_bytes(b"Raspberry Pi 4 Model B Rev 1.4\x00")
    assert identify.read_device_model(str(f)) == "Raspberry Pi 4 Model B Rev 1.4"
    monkeypatch.setenv(identify.MODEL_FILE_ENV, str(f))
    info = identify.device_info()
    assert info["label"] == "rpi4" and info["device_model_file"] == str(f)
    assert hardware.raspberry_pi4_model(f) == "Raspberry Pi 4 Model B Rev 1.4"
    f.write_text("Raspberry Pi 400 Rev 1.0")
    assert hardware.raspberry_pi4_model(f) is None


def test_cpu_name_on_a_64_bit_pi(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nBogoMIPS\t: 108.00\nCPU implementer\t: 0x41\nCPU part\t: 0xd08\n\n"
                    "Hardware\t: BCM2835\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n")
    assert identify.cpu_name(str(info)) == "ARM Cortex-A72"


@pytest.mark.parametrize("spec, name, dest, port, expect, display", [
    ("rpi4@pi.local", "rpi4", "pi.local", None, "rpi4", "pi.local"),
    ("rpi4@pi@pi.local:2222", "rpi4", "pi@pi.local", 2222, "rpi4", "pi@pi.local:2222"),
    ("ssh://127.0.0.1:2222", "remote-127.0.0.1", "127.0.0.1", 2222, None, "127.0.0.1:2222"),
    ("ssh://Bob@Host/", "remote-host", "Bob@Host", None, None, "Bob@Host"),
    ("ssh://u@[::1]:22", "remote-1", "u@::1", 22, None, "u@[::1]:22"),
    ("rpi5@board", "rpi5", "board", None, "rpi5", "board"),
])
def test_remote_profiles(spec, name, dest, port, expect, display):
    (p,) = hardware.parse_profiles(spec)
    assert p.is_remote and not p.native and p.name == name
    assert (p.remote.destination, p.remote.port, p.remote.expect, p.remote.display) == (dest, port, expect, display)


def test_local_profiles_unchanged_beside_remote_ones():
    ps = hardware.parse_profiles("cpu, RPI4,ssh://pi@h:22,cpu,ssh://pi@h:22")
    assert [p.name for p in ps] == ["cpu", "rpi4", "remote-h"]
    assert [p.is_remote for p in ps] == [False, False, True]
    assert ps[1].remote is None and ps[1].name == "rpi4"  # plain rpi4: native on a Pi, predicted elsewhere
    assert hardware.get_profile("rpi4@pi", threads=2).threads == 2
    assert hardware.get_profile("rpi4@pi").threads == hardware.RPI4_THREADS


@pytest.mark.parametrize("spec, match", [
    ("ssh://h:0", "bad port"), ("ssh://h:70000", "bad port"), ("ssh://h:", "bad port"),
    ("ssh://", "bad remote"), ("ssh://a b", "bad remote"), ("tpu@host", "a remote device is written"),
    ("rpi5", "unknown hardware 'rpi5'; did you mean rpi4"),
])
def test_bad_remote_specs(spec, match):
    with pytest.raises(SuiteError, match=match):
        hardware.parse_profiles(spec)


def test_ssh_command_keeps_batchmode_first_and_the_user_config(monkeypatch, tmp_path):
    target = hardware.parse_remote("ssh://pi@h:2222")
    monkeypatch.setenv(ssh.SSH_OPTIONS_ENV, "-i '/k ey' -o UserKnownHostsFile=/kh")
    settings = ssh.SshSettings.from_env()
    cmd = ssh.ssh_command(target, settings, "true")
    assert cmd[:5] == ["ssh", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={settings.connect_timeout_s}"]
    assert "-F" not in cmd  # ~/.ssh/config applies as for any ssh
    assert cmd[cmd.index("-i") + 1] == "/k ey" and cmd[-4:] == ["2222", "--", "pi@h", "true"]
    cfg = tmp_path / "cfg"
    cfg.write_text("Host *\n")
    cmd = ssh.ssh_command(hardware.parse_remote("rpi4@pi"), ssh.SshSettings.from_env(ssh_config=str(cfg)), "x")
    assert cmd[cmd.index("-F") + 1] == str(cfg) and "-p" not in cmd  # no port: ~/.ssh/config decides
    with pytest.raises(SuiteError, match="does not exist"):
        ssh.SshSettings.from_env(ssh_config=str(tmp_path / "missing"))
    monkeypatch.setenv(ssh.SSH_OPTIONS_ENV, "-o 'unclosed")
    with pytest.raises(SuiteError, match="SUITE_SSH_OPTIONS"):
        ssh.SshSettings.from_env()


def test_remote_python_from_env(monkeypatch):
    monkeypatch.setenv(ssh.REMOTE_PYTHON_ENV, "/opt/py/bin/python3")
    assert ssh.SshSettings.from_env().python == "/opt/py/bin/python3"
    assert ssh.SshSettings.from_env(remote_python="python3.9").python == "python3.9"


def test_remote_script_quotes_and_is_posix_sh():
    script = ssh.remote_script("/opt/my python/bin/python3", ["--label", "it's"])
    inner = shlex.split(script)
    assert inner[:2] == ["sh", "-c"] and "'/opt/my python/bin/python3'" in inner[2]
    assert "--label 'it'\"'\"'s'" in inner[2] and 'rm -rf "$d"' in inner[2]


@pytest.mark.parametrize("stderr, match", [
    ("ssh: connect to host 127.0.0.1 port 1: Connection refused", "connection refused"),
    ("root@127.0.0.1: Permission denied (publickey).", "authentication failed .* `ssh -p 2222 root@h`"),
    ("Host key verification failed.", "host key of root@h:2222 is not trusted"),
    ("ssh: Could not resolve hostname nope: Name or service not known", "does not resolve"),
    ("ssh: connect to host 10.0.0.1 port 22: Connection timed out", "timed out after 10 s"),
    ("kex_exchange_identification: read: Connection reset by peer", "ssh to root@h:2222 failed: kex"),
])
def test_ssh_failures_are_one_line(stderr, match):
    line = ssh._ssh_failure(hardware.parse_remote("ssh://root@h:2222"), [stderr], 10)
    assert "\n" not in line
    import re

    assert re.search(match, line)


def test_shipped_files_parse_as_python_39():
    from suite.device.bundle import SHIPPED

    for name, source in SHIPPED.items():
        ast.parse(source.read_text(), filename=name, feature_version=(3, 9))  # no match, no except*, ...
