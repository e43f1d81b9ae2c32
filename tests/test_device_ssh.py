"""SSH end to end against a real OpenSSH server on 127.0.0.1 that this module starts and stops.

The server gets a temporary host key, one authorized key, a free high port and its own PidFile; it runs under
`timeout`, in its own process group that the teardown kills, so it never outlives the tests. The client side
reaches it through ``$SUITE_SSH_OPTIONS="-F <temp config>"`` (temporary key and known-hosts file): OpenSSH finds
``~/.ssh`` through the passwd entry, so the test cannot point ``$HOME`` elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from suite.timing.ondevice import device_identify as identify

SSHD = Path("/usr/sbin/sshd")
pytestmark = pytest.mark.skipif(not SSHD.is_file(), reason="/usr/sbin/sshd not found (Debian: openssh-server; "
                                                           ".ci/run installs it)")
SERVER_LIFETIME_S = 1500  # hard limit: the server exits after this even if the teardown never runs
HOST_LABEL = identify.host_label(socket.gethostname())
USER = __import__("pwd").getpwuid(os.getuid()).pw_name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "suite-test", "-f", str(path)], check=True,
                   capture_output=True, timeout=60)
    return path


def client_config(d: Path, name: str, key: Path) -> Path:
    cfg = d / name
    cfg.write_text(f"Host *\n  User {USER}\n  IdentityFile {key}\n  IdentitiesOnly yes\n"
                   f"  UserKnownHostsFile {d / 'known_hosts'}\n  GlobalKnownHostsFile /dev/null\n"
                   "  StrictHostKeyChecking yes\n  PasswordAuthentication no\n  LogLevel ERROR\n")
    return cfg


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    d = tmp_path_factory.mktemp("sshd")
    host_key, key, other = keygen(d / "host_key"), keygen(d / "client_key"), keygen(d / "wrong_key")
    (d / "authorized_keys").write_text((d / "client_key.pub").read_text())
    port = free_port()
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\nPidFile {d / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {d / 'authorized_keys'}\nStrictModes no\nPubkeyAuthentication yes\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nPermitRootLogin prohibit-password\n"
        f"AllowUsers {USER}\nX11Forwarding no\nAllowTcpForwarding no\nLogLevel VERBOSE\n")
    host_pub = " ".join((d / "host_key.pub").read_text().split()[:2])
    (d / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_pub}\n")
    if os.getuid() == 0 and not Path("/run/sshd").is_dir():
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # Debian's privilege-separation directory
    log = (d / "sshd.log").open("w")
    proc = subprocess.Popen(["timeout", "--kill-after=5", str(SERVER_LIFETIME_S), str(SSHD), "-D", "-e", "-f",
                             str(d / "sshd_config")], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"sshd exited at start: {(d / 'sshd.log').read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"sshd did not listen within 30 s: {(d / 'sshd.log').read_text()[-2000:]}")
                time.sleep(0.2)
        yield {"port": port, "dir": d, "good": client_config(d, "ssh_config", key),
               "wrong": client_config(d, "ssh_config_wrong", other)}
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # timeout, sshd and its per-connection children
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
        log.close()


def latency(argv: list[str], config: Path, capsys, monkeypatch) -> tuple[int, str, str]:
    from suite.cli import main

    monkeypatch.setenv("SUITE_SSH_OPTIONS", f"-F {config}")
    rc = main(["latency", "threshnet79", *argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def error_lines(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if ln.strip()]


@pytest.mark.slow
def test_ssh_latency_returns_measured_times_with_the_remotes_provenance(sshd, capsys, monkeypatch):
    rc, out, err = latency(["--hardware", f"ssh://127.0.0.1:{sshd['port']}", "--json", "--remote-python",
                            sys.executable, "--threads", "1", "--per-image-batch", "4"], sshd["good"], capsys,
                           monkeypatch)
    assert rc == 0, err
    d = json.loads(out)
    assert d["hardware"] == HOST_LABEL and d["predicted"] is False and d["model"] == "threshnet79"
    assert d["median_ms"] > 0 and d["per_image_ms"] > 0 and d["per_image_batch"] == 4 and d["threads"] == 1
    prov = d["provenance"]
    assert prov["source"] == "ssh" and prov["host"] == socket.gethostname() and prov["label_override"] is False
    assert prov["cpu"] == identify.cpu_name() and prov["device_model"] is None and prov["threads"] == 1
    assert prov["torch"] and prov["python"] == ".".join(map(str, sys.version_info[:3]))
    assert "threshnet79:" in err  # the device's progress, echoed


@pytest.mark.slow
def test_ssh_latency_with_runtimes_reports_what_the_device_timed(sshd, capsys, monkeypatch):
    rc, out, err = latency(["--hardware", f"ssh://127.0.0.1:{sshd['port']}", "--json", "--remote-python",
                            sys.executable, "--threads", "1", "--per-image-batch", "4", "--runtimes",
                            "eager,onnxruntime"], sshd["good"], capsys, monkeypatch)
    assert rc == 0, err
    d = json.loads(out)
    assert d["eager"]["status"] == "measured" and d["eager"]["median_ms"] > 0
    ort = d["onnxruntime"]
    assert ort["status"] == "measured" and ort["median_ms"] > 0 and ort["output_check"]["passed"] is True
    assert ort["hardware"] == HOST_LABEL and ort["provenance"]["source"] == "ssh"


def test_wrong_port_is_one_line(sshd, capsys, monkeypatch):
    port = free_port()
    rc, out, err = latency(["--hardware", f"ssh://127.0.0.1:{port}", "--json"], sshd["good"], capsys, monkeypatch)
    assert rc == 2 and out == ""
    assert error_lines(err) == [f"error: cannot reach 127.0.0.1:{port}: connection refused (no SSH server on "
                                f"port {port}?)"]


def test_wrong_key_is_one_line(sshd, capsys, monkeypatch):
    rc, _, err = latency(["--hardware", f"ssh://127.0.0.1:{sshd['port']}", "--json"], sshd["wrong"], capsys,
                         monkeypatch)
    assert rc == 2 and len(error_lines(err)) == 1
    assert err.startswith(f"error: authentication failed for 127.0.0.1:{sshd['port']}")


def _python_without_torch(tmp_path: Path) -> str:
    debian = Path("/usr/bin/python3")
    if debian.is_file() and subprocess.run([str(debian), "-c", "import torch"], capture_output=True,
                                           timeout=120).returncode != 0:
        return str(debian)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True,
                   timeout=300)
    return str(tmp_path / "venv" / "bin" / "python")


def test_remote_without_torch_is_one_line(sshd, capsys, monkeypatch, tmp_path):
    python = _python_without_torch(tmp_path)
    rc, _, err = latency(["--hardware", f"ssh://127.0.0.1:{sshd['port']}", "--json", "--remote-python", python],
                         sshd["good"], capsys, monkeypatch)
    assert rc == 2 and len(error_lines(err)) == 1
    assert f"error: 127.0.0.1:{sshd['port']}: {python} (Python" in err and "cannot import torch" in err


def test_missing_interpreter_is_one_line(sshd, capsys, monkeypatch):
    rc, _, err = latency(["--hardware", f"ssh://127.0.0.1:{sshd['port']}", "--remote-python", "/nonexistent/py3"],
                         sshd["good"], capsys, monkeypatch)
    assert rc == 2 and len(error_lines(err)) == 1 and "has no interpreter '/nonexistent/py3'" in err


@pytest.mark.slow
def test_rpi4_target_that_is_no_pi_is_refused_and_override_is_recorded(sshd, capsys, monkeypatch):
    target = f"rpi4@{USER}@127.0.0.1:{sshd['port']}"
    rc, out, err = latency(["--hardware", target, "--json", "--remote-python", sys.executable], sshd["good"], capsys,
                           monkeypatch)
    assert rc == 2 and out == "" and len(error_lines(err)) == 1
    assert f"is not a Raspberry Pi 4: it is {identify.cpu_name()}" in err and "--label rpi4" in err
    rc, out, err = latency(["--hardware", target, "--json", "--remote-python", sys.executable, "--label", "rpi4",
                            "--threads", "1", "--per-image-batch", "0"], sshd["good"], capsys, monkeypatch)
    assert rc == 0, err
    d = json.loads(out)
    assert d["hardware"] == "rpi4" and d["predicted"] is False and d["per_image_ms"] is None
    assert d["provenance"]["label_override"] is True and d["provenance"]["label_detected"] == HOST_LABEL


@pytest.mark.slow
def test_model_failing_on_the_device_is_one_line(sshd, capsys, monkeypatch):
    rc, _, err = latency(["--hardware", f"ssh://127.0.0.1:{sshd['port']}", "--remote-python", sys.executable,
                          "--input", "3x1x1", "--per-image-batch", "0"], sshd["good"], capsys, monkeypatch)
    errors = [ln for ln in err.splitlines() if ln.startswith("error:")]  # after the device's progress lines
    assert rc == 2 and len(errors) == 1 and err.count("RuntimeError") == 1
    assert errors[0].startswith(f"error: threshnet79 failed on 127.0.0.1:{sshd['port']}: RuntimeError")


def test_overall_timeout_is_one_line(sshd, capsys, monkeypatch):
    rc, _, err = latency(["--hardware", f"ssh://127.0.0.1:{sshd['port']}", "--remote-python", sys.executable,
                          "--remote-timeout", "1"], sshd["good"], capsys, monkeypatch)
    assert rc == 2 and len(error_lines(err)) == 1 and "no result within the overall timeout of 1 s" in err


@pytest.mark.slow
def test_measure_remote_for_suite_run(sshd, monkeypatch):
    """The function `suite run` calls: several models, one connection, a failing model reported beside the rest."""
    from suite.device.remote import identify_remote, measure_remote
    from suite.timing.hardware import parse_profiles
    from suite.timing.ondevice.timing_protocol import Protocol

    monkeypatch.setenv("SUITE_SSH_OPTIONS", f"-F {sshd['good']}")
    monkeypatch.setenv("SUITE_REMOTE_PYTHON", sys.executable)
    (profile,) = parse_profiles(f"ssh://127.0.0.1:{sshd['port']}")
    assert identify_remote(profile)["label"] == HOST_LABEL  # the profile name, before any timing
    fast = Protocol(warmup=1, min_runs=2, max_runs=2, target_s=0.0, batch_warmup=1, batch_min_runs=1,
                    batch_max_runs=1, batch_target_s=0.0).to_dict()
    cells: dict = {}
    out = measure_remote(profile, [("ghostnet", 10), ("mobilenetv2_cifar", 0)], input_size=(3, 32, 32), threads=1,
                         protocol=fast, per_image_batch=2, echo=lambda line: None, runtimes_out=cells)
    # onnxruntime imports there, so it is timed interleaved with eager: at least one call per round
    assert out["ghostnet"]["predicted"] is False and out["ghostnet"]["runs"] >= 2
    ort = cells["ghostnet"]["onnxruntime"]
    assert ort["status"] == "measured" and ort["median_ms"] > 0 and ort["provenance"]["source"] == "ssh"
    assert ort["output_check"]["passed"] is True and "mobilenetv2_cifar" not in cells
    assert out["ghostnet"]["provenance"]["source"] == "ssh" and out["ghostnet"]["hardware"] == HOST_LABEL
    assert out["mobilenetv2_cifar"]["status"] == "failed" and "num_classes" in out["mobilenetv2_cifar"]["error"]
    assert shutil.which("ssh")
