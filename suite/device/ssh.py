"""Run a bundle on a remote machine over OpenSSH: one connection copies it (tar on stdin), runs it, prints the JSON.

The user's ``~/.ssh/config`` applies as for any ``ssh HOST`` (nothing overrides it). ``BatchMode=yes`` makes a
missing key fail at once instead of waiting for a password, ``ConnectTimeout`` bounds the connection, and the
whole command has an overall timeout. Extra options for unusual set-ups (and for tests, since OpenSSH finds
``~`` through the passwd entry, not ``$HOME``): ``--ssh-config FILE`` (``ssh -F``) or ``$SUITE_SSH_OPTIONS``
(split like a shell line). Neither is written into any result.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import subprocess
import sys
import tarfile
import threading
from dataclasses import dataclass
from pathlib import Path

from suite.core.errors import SuiteError
from suite.timing.hardware import RemoteTarget

SSH_OPTIONS_ENV = "SUITE_SSH_OPTIONS"
REMOTE_PYTHON_ENV = "SUITE_REMOTE_PYTHON"
EXIT_NO_PYTHON = 90  # the remote shell script's own code: the interpreter is not there
PROGRESS = "[suite-runner] "


@dataclass(frozen=True)
class SshSettings:
    config: str | None = None  # ssh -F FILE
    options: tuple[str, ...] = ()  # extra ssh arguments, e.g. ("-i", "key", "-o", "UserKnownHostsFile=kh")
    connect_timeout_s: int = 10
    python: str = "python3"  # the remote interpreter

    @classmethod
    def from_env(cls, *, ssh_config: str | None = None, remote_python: str | None = None,
                 connect_timeout_s: int = 10) -> SshSettings:
        try:
            options = tuple(shlex.split(os.environ.get(SSH_OPTIONS_ENV, "")))
        except ValueError as exc:
            raise SuiteError(f"${SSH_OPTIONS_ENV} cannot be split like a shell line: {exc}") from None
        python = remote_python or os.environ.get(REMOTE_PYTHON_ENV) or "python3"
        if ssh_config and not Path(ssh_config).expanduser().is_file():
            raise SuiteError(f"--ssh-config {ssh_config} does not exist")
        return cls(str(Path(ssh_config).expanduser()) if ssh_config else None, options, connect_timeout_s, python)


def ssh_command(target: RemoteTarget, settings: SshSettings, remote_command: str) -> list[str]:
    # The first value of an option wins in OpenSSH, so BatchMode and ConnectTimeout cannot be undone by a config.
    cmd = ["ssh", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={settings.connect_timeout_s}",
           "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4"]
    if settings.config:
        cmd += ["-F", settings.config]
    cmd += list(settings.options)
    if target.port is not None:
        cmd += ["-p", str(target.port)]
    return [*cmd, "--", target.destination, remote_command]


def remote_script(python: str, runner_args: list[str]) -> str:
    """POSIX sh run by the remote login shell: unpack stdin into a temporary folder, run, print, clean up."""
    py, args = shlex.quote(python), " ".join(shlex.quote(a) for a in runner_args)
    script = f"""\
d=$(mktemp -d "${{TMPDIR:-/tmp}}/suite-bundle.XXXXXX") || exit 91
trap 'rm -rf "$d"' EXIT
tar -xzf - -C "$d" || exit 92
command -v {py} >/dev/null 2>&1 || {{ printf 'suite-remote: no interpreter %s\\n' {py} >&2; exit {EXIT_NO_PYTHON}; }}
{py} "$d/run.py" --out "$d/times.json" {args} >&2
rc=$?
[ -f "$d/times.json" ] && cat "$d/times.json"
exit $rc
"""
    return "sh -c " + shlex.quote(script)


def tar_bundle(bundle: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path in sorted(bundle.rglob("*")):
            if "__pycache__" not in path.parts:
                tar.add(path, arcname=str(path.relative_to(bundle)), recursive=False)
    return buf.getvalue()


def login_hint(target: RemoteTarget) -> str:
    """The plain ssh command that reaches ``target``: what the user should try by hand."""
    return "ssh " + (f"-p {target.port} " if target.port is not None else "") + target.destination


def _ssh_failure(target: RemoteTarget, stderr_lines: list[str], timeout_s: int) -> str:
    """One line for an ssh error (exit 255), from what ssh printed."""
    dest, hint = target.display, login_hint(target)
    text = "\n".join(stderr_lines)
    last = next((ln for ln in reversed(stderr_lines) if ln.strip()), "no message")
    low = text.lower()
    if "permission denied" in low or "too many authentication failures" in low:
        return (f"authentication failed for {dest}: the server refused every key (key-based login only, "
                f"BatchMode: no password prompt); check that `{hint}` logs in without a password")
    if "host key verification failed" in low or "remote host identification has changed" in low:
        return f"host key of {dest} is not trusted (unknown or changed); connect once with `{hint}` to check it"
    if "could not resolve hostname" in low or "name or service not known" in low:
        return f"cannot reach {dest}: the host name does not resolve"
    if "connection refused" in low:
        return f"cannot reach {dest}: connection refused (no SSH server on port {target.port or 22}?)"
    if "timed out" in low:
        return f"cannot reach {dest}: the connection timed out after {timeout_s} s"
    if "no route to host" in low or "network is unreachable" in low:
        return f"cannot reach {dest}: no route to the host"
    return f"ssh to {dest} failed: {last.strip()}"


def _error_line(lines: list[str]) -> str | None:
    for ln in reversed(lines):
        if "error:" in ln or ln.startswith("suite-remote:"):
            return ln.split("error:", 1)[-1].strip() if "error:" in ln else ln.split(":", 1)[1].strip()
    return None


def run_bundle(target: RemoteTarget, bundle: Path, *, settings: SshSettings, runner_args: list[str],
               timeout_s: int = 3600, echo=None) -> tuple[int, dict]:
    """Copy, run and fetch; (runner exit code, its JSON document). SSH failures and no document raise a SuiteError.

    ``echo(line)`` receives the runner's progress lines as they arrive (default: printed to stderr).
    """
    echo = echo or (lambda line: print(f"{target.display}: {line}", file=sys.stderr, flush=True))
    payload = tar_bundle(bundle)
    cmd = ssh_command(target, settings, remote_script(settings.python, runner_args))
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise SuiteError("no `ssh` client found; install OpenSSH (Debian: apt-get install openssh-client)") from None
    stdin_pipe, stdout_pipe, stderr_pipe = proc.stdin, proc.stdout, proc.stderr
    assert stdin_pipe is not None and stdout_pipe is not None and stderr_pipe is not None  # all three are PIPE
    stderr_lines: list[str] = []

    def read_stderr() -> None:
        for raw in stderr_pipe:
            line = raw.decode(errors="replace").rstrip("\n")
            if line.startswith(PROGRESS):
                if ": failed: " not in line:  # a model's failure comes back as the caller's own error line
                    echo(line[len(PROGRESS):])
            else:
                stderr_lines.append(line)

    def write_stdin() -> None:
        try:
            stdin_pipe.write(payload)
            stdin_pipe.close()
        except (BrokenPipeError, OSError):  # ssh exited early (refused, auth): its stderr says why
            pass

    threads = [threading.Thread(target=read_stderr, daemon=True), threading.Thread(target=write_stdin, daemon=True)]
    for t in threads:
        t.start()
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        proc.kill()

    timer = threading.Timer(timeout_s, kill)
    timer.start()
    try:
        stdout = stdout_pipe.read()
        rc = proc.wait()
    except BaseException:  # Ctrl-C: never leave the ssh client behind
        proc.kill()
        proc.wait()
        raise
    finally:
        timer.cancel()
        for t in threads:
            t.join(timeout=5)
    if timed_out.is_set():
        raise SuiteError(f"{target.display}: no result within the overall timeout of {timeout_s} s; the device may "
                         "still be busy (raise --remote-timeout, or time fewer models)")
    if rc == 255:
        raise SuiteError(_ssh_failure(target, stderr_lines, settings.connect_timeout_s))
    if rc == EXIT_NO_PYTHON:
        raise SuiteError(f"{target.display} has no interpreter {settings.python!r}; name one with --remote-python "
                         f"or ${REMOTE_PYTHON_ENV} (it needs Python >= 3.9 and torch >= 1.11)")
    if rc == 4:
        reason = _error_line(stderr_lines) or "torch is missing or too old"
        raise SuiteError(f"{target.display}: {reason}")
    if rc in (91, 92):
        raise SuiteError(f"{target.display}: could not unpack the bundle in a temporary folder "
                         f"({_error_line(stderr_lines) or (stderr_lines[-1] if stderr_lines else 'no message')})")
    doc = None
    if stdout.strip():
        try:
            doc = json.loads(stdout)
        except json.JSONDecodeError:
            doc = None
    if doc is None:
        reason = _error_line(stderr_lines) or next((ln for ln in reversed(stderr_lines) if ln.strip()), "")
        raise SuiteError(f"{target.display}: the runner wrote no result (exit {rc}" + (f": {reason})" if reason
                                                                                       else ")"))
    return rc, doc
