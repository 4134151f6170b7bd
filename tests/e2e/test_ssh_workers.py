"""xdist workers over a real ssh connection (`--tx ssh=...`, docs/multihost.md): a throwaway sshd on 127.0.0.1
(Debian's openssh-server; `.ci/run` installs it) with throwaway host and client keys. Skipped, saying why, where
sshd cannot be found or started."""

import getpass
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

TASK = "basics/vector_add"


@dataclass
class LocalSshd:
    client_key: Path
    port: int
    user: str

    def ssh_options(self) -> str:
        return (f"-i {self.client_key} -p {self.port} -o BatchMode=yes -o StrictHostKeyChecking=no "
                f"-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR {self.user}@127.0.0.1")

    def tx(self, chdir: Path) -> str:
        return f"ssh={self.ssh_options()}//python={sys.executable}//chdir={chdir}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def local_sshd(tmp_path_factory):
    sshd = shutil.which("sshd") or next((p for p in ("/usr/sbin/sshd", "/usr/local/sbin/sshd") if os.access(p, os.X_OK)),
                                        None)
    if sshd is None or not shutil.which("ssh") or not shutil.which("ssh-keygen"):
        pytest.skip("no sshd/ssh/ssh-keygen (Debian: apt-get install openssh-server openssh-client)")
    privsep = Path("/run/sshd")  # sshd refuses to start without its privilege separation directory
    if not privsep.is_dir():
        try:
            privsep.mkdir(mode=0o755, parents=True)
        except OSError as exc:
            pytest.skip(f"sshd needs {privsep}, which is missing and cannot be created: {exc}")
    home = tmp_path_factory.mktemp("sshd")
    for key in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(home / key)], check=True)
    shutil.copy(home / "client_key.pub", home / "authorized_keys")
    port, root = _free_port(), os.geteuid() == 0
    # The remote shell gets the test's PATH and PYTHONPATH, as a worker machine's own profile would set them
    # (nvcc and g++ on PATH; a checkout on PYTHONPATH).
    env = " ".join(f'"{name}={os.environ[name]}"' for name in ("PATH", "PYTHONPATH") if os.environ.get(name))
    (home / "sshd_config").write_text(f"""\
Port {port}
ListenAddress 127.0.0.1
HostKey {home / "host_key"}
AuthorizedKeysFile {home / "authorized_keys"}
PidFile {home / "sshd.pid"}
StrictModes no
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin {"yes" if root else "no"}
{"SetEnv " + env if env else ""}
""")
    with open(home / "sshd.log", "w") as log:  # the child holds its own descriptor
        process = subprocess.Popen([sshd, "-D", "-e", "-f", str(home / "sshd_config")], stdout=log, stderr=log)
    server = LocalSshd(home / "client_key", port, "root" if root else getpass.getuser())
    try:
        deadline = time.monotonic() + 15
        while True:
            probe = subprocess.run(["ssh", *server.ssh_options().split(), "true"], capture_output=True, text=True)
            if probe.returncode == 0:
                break
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.skip(f"sshd did not start or refused the test's key: {(home / 'sshd.log').read_text()[-500:]}"
                            f"{probe.stderr[-300:]}")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)


def run(pytester, shared_cache, out, *args):
    # No path arguments: for ssh (and chdir) specs xdist rewrites paths that exist on the controller relative to
    # --rsyncdir roots, and refuses them without one ("not relative to an rsync root"); the ini names the tasks.
    return pytester.runpytest_subprocess(
        "--cudabench-model=reference", "--cudabench-runtime=cpu", "--cudabench-seed=3", "--cudabench-levels=1,2",
        f"--cudabench-cache-dir={shared_cache}", f"--cudabench-report-dir={out}", "-p", "no:cacheprovider", *args)


def load_report(pytester, out) -> dict:
    (path,) = sorted((pytester.path / out).glob("*.json"))
    return json.loads(path.read_text())


def verdicts(report: dict) -> dict:
    return {(i["task"], i["level"], i["sample"]): (i["outcome"], i["compiled"], i["correct"], i["failed_stage"])
            for i in report["items"]}


def test_ssh_workers_judge_as_a_local_run_and_report_their_machines(pytester, suite_copy, shared_cache, local_sshd):
    suite_copy(TASK)
    pytester.makeini("[pytest]\ntestpaths = task_suite\n")
    run(pytester, shared_cache, "local", "-p", "no:xdist").assert_outcomes(passed=2)
    # Each spec pins its worker's GPU, as docs/multihost.md shows; execnet sets the variable in the remote process.
    specs = [f"{local_sshd.tx(pytester.path)}//env:CUDA_VISIBLE_DEVICES={gpu}" for gpu in ("0", "1")]
    result = run(pytester, shared_cache, "ssh", "-d", "--tx", specs[0], "--tx", specs[1])
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["created: 2/2 workers", "2 workers [[]2 items[]]"])
    local, remote = load_report(pytester, "local"), load_report(pytester, "ssh")
    assert verdicts(remote) == verdicts(local)
    assert remote["aggregates"] == local["aggregates"]
    assert remote["run"]["workers"] == 2
    machines = remote["run"]["worker_machines"]
    assert set(machines) == {"gw0", "gw1"}
    assert {item["worker"] for item in remote["items"]} <= set(machines)  # each item names its worker's machine
    assert {worker: machine["cuda_visible_devices"] for worker, machine in machines.items()} == {"gw0": "0", "gw1": "1"}
    for machine in machines.values():
        assert machine["spec"] == f"ssh={local_sshd.user}@127.0.0.1"  # the destination, not the key file
        assert machine["hostname"] == socket.gethostname() and machine["cpu_count"] == os.cpu_count()
        assert machine["platform"]
