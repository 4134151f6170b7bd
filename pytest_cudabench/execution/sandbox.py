"""Confinement of the child process that runs an answer: resource limits, and a seccomp filter that kills the
process on any attempt to start programs, create processes, open files, use the network or signal others.

The filter is installed by the child itself just before the first call into the answer, after everything it needs
is imported and opened (a filter that merely returned an error would let a cheat pass quietly, so it kills). It goes
on every thread of the process at once (SECCOMP_FILTER_FLAG_TSYNC): threads started earlier (the CPU runtime's
workers, the CUDA driver's helpers) are filtered too. x86-64 Linux only; elsewhere `seccomp_available()` is False and
the report says so.

Which filter a child gets (`choose`): on the CPU runtime, and wherever Landlock is missing, the strict one (opening
any file kills). On the GPU runtime with Landlock, the driver must open its device files (/dev/nvidia*) whenever it
maps new memory (streams, pinned and async allocations, graphs, printf buffers, the answer's first launches): the
filter lets opens through and Landlock confines them to those device nodes (read-write and ioctl) and a few
read-only descriptions of the hardware (DRIVER_READ_ONLY); the task, the harness and the user's files stay out of
reach. Landlock binds the calling thread (every thread from ABI 8); host callbacks, which the driver would run on
a thread of its own, are refused at static check.
"""

from __future__ import annotations

import ctypes
import platform
import resource
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from . import landlock

# x86-64 system call numbers
_SYSCALLS_KILLED = {
    "open": 2, "creat": 85, "openat": 257, "openat2": 437, "open_by_handle_at": 304,
    "execve": 59, "execveat": 322, "fork": 57, "vfork": 58,
    "socket": 41, "connect": 42, "bind": 49, "listen": 50, "accept": 43, "accept4": 288,
    "ptrace": 101, "kill": 62,
    "unlink": 87, "unlinkat": 263, "rename": 82, "renameat": 264, "renameat2": 316,
    "mkdir": 83, "mkdirat": 258, "rmdir": 84, "chmod": 90, "truncate": 76,
}
# With `allow_files` (a whole program that reads and writes its data files, confined by Landlock instead) these stay
# allowed; everything else in the list still kills.
_FILE_SYSCALLS = {"open", "creat", "openat", "openat2", "unlink", "unlinkat", "rename", "renameat", "renameat2",
                  "mkdir", "mkdirat", "rmdir", "chmod", "truncate"}
_CLONE = 56
_CLONE3 = 435
_CLONE_THREAD = 0x00010000

_AUDIT_ARCH_X86_64 = 0xC000003E
_SECCOMP_RET_KILL_PROCESS = 0x80000000
_SECCOMP_RET_ALLOW = 0x7FFF0000
_SECCOMP_RET_ERRNO = 0x00050000
_ENOSYS = 38
_PR_SET_NO_NEW_PRIVS = 38
_SECCOMP = 317  # seccomp(2): unlike prctl(PR_SET_SECCOMP) it can filter every thread at once
_SECCOMP_SET_MODE_FILTER = 1
_SECCOMP_FILTER_FLAG_TSYNC = 1

# BPF opcodes
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JSET_K = 0x45
_RET_K = 0x06

# offsets in struct seccomp_data
_NR = 0
_ARCH = 4
_ARG0_LOW = 16


def seccomp_available() -> bool:
    return platform.system() == "Linux" and platform.machine() in ("x86_64", "AMD64")


def _instruction(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


def filter_program(allow_files: bool = False) -> list[bytes]:
    prog = [
        _instruction(_LD_W_ABS, 0, 0, _ARCH),
        _instruction(_JEQ_K, 1, 0, _AUDIT_ARCH_X86_64),
        _instruction(_RET_K, 0, 0, _SECCOMP_RET_KILL_PROCESS),
        _instruction(_LD_W_ABS, 0, 0, _NR),
    ]
    killed = {n for name, n in _SYSCALLS_KILLED.items() if not (allow_files and name in _FILE_SYSCALLS)}
    for number in sorted(killed):
        prog.append(_instruction(_JEQ_K, 0, 1, number))
        prog.append(_instruction(_RET_K, 0, 0, _SECCOMP_RET_KILL_PROCESS))
    # clone3 hides its flags behind a pointer: make glibc fall back to clone, whose flags we can read.
    prog.append(_instruction(_JEQ_K, 0, 1, _CLONE3))
    prog.append(_instruction(_RET_K, 0, 0, _SECCOMP_RET_ERRNO | _ENOSYS))
    # clone: threads (CLONE_THREAD) are allowed, new processes are not.
    prog.append(_instruction(_JEQ_K, 0, 4, _CLONE))
    prog.append(_instruction(_LD_W_ABS, 0, 0, _ARG0_LOW))
    prog.append(_instruction(_JSET_K, 1, 0, _CLONE_THREAD))
    prog.append(_instruction(_RET_K, 0, 0, _SECCOMP_RET_KILL_PROCESS))
    prog.append(_instruction(_RET_K, 0, 0, _SECCOMP_RET_ALLOW))
    prog.append(_instruction(_RET_K, 0, 0, _SECCOMP_RET_ALLOW))
    return prog


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install_seccomp(allow_files: bool = False) -> None:
    """Installs the filter on every thread of this process (irreversible). Raises OSError if the kernel refuses."""
    prog = b"".join(filter_program(allow_files))
    count = len(prog) // 8
    buffer = ctypes.create_string_buffer(prog)
    fprog = _SockFprog(count, ctypes.cast(buffer, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    done = libc.syscall(ctypes.c_long(_SECCOMP), ctypes.c_ulong(_SECCOMP_SET_MODE_FILTER),
                        ctypes.c_ulong(_SECCOMP_FILTER_FLAG_TSYNC), ctypes.byref(fprog))
    if done < 0:
        raise OSError(ctypes.get_errno(), "seccomp(SECCOMP_SET_MODE_FILTER, TSYNC) failed")
    if done > 0:  # TSYNC names a thread it could not synchronize (one with a filter of its own)
        raise OSError(f"seccomp could not filter thread {done} of this process")


# What the CUDA driver may read when it maps new resources after the filter, besides its device nodes: its own
# parameters and the machine's PCI and NUMA description. Nothing of the harness, the task or the user.
DRIVER_READ_ONLY = ("/proc/self", "/proc/driver/nvidia", "/sys/devices", "/sys/bus/pci")


@dataclass(frozen=True)
class Confinement:
    """What a kernel child puts on before the first call into the answer."""

    seccomp: bool
    landlock_devices: tuple[str, ...] | None = None  # Landlock allowing only these nodes; None: no Landlock

    def describe(self) -> str:
        if not self.seccomp:
            return "rlimits only"
        return "seccomp+landlock+rlimits" if self.landlock_devices is not None else "seccomp+rlimits"


def choose(runtime: str, seccomp: bool, landlock_abi: int, devices: Sequence[str]) -> Confinement:
    """The kernel child's confinement (see the module's docstring): Landlock over the GPU's device nodes only on the
    GPU runtime, with seccomp on and a kernel that has Landlock; the strict filter everywhere else."""
    if seccomp and runtime == "gpu" and landlock_abi >= 1:
        return Confinement(seccomp=True, landlock_devices=tuple(devices))
    return Confinement(seccomp=seccomp)


def confine(confinement: Confinement) -> str:
    """Puts `confinement` on this process (irreversible) and says what it got (Confinement.describe): where
    Landlock refuses, the strict filter instead. Raises OSError if the kernel refuses seccomp."""
    if not confinement.seccomp:
        return confinement.describe()
    if confinement.landlock_devices is not None:
        try:
            landlock.restrict([], DRIVER_READ_ONLY, confinement.landlock_devices)
        except OSError:
            install_seccomp()
            return Confinement(seccomp=True).describe()
        install_seccomp(allow_files=True)  # opens are Landlock's to confine: the device nodes only
        return confinement.describe()
    install_seccomp()
    return confinement.describe()


def limit_resources(address_space_bytes: int | None, cpu_seconds: int | None) -> None:
    """Called by the child itself at startup, before it loads the answer: no core dumps, bounded memory and CPU
    time. (Its own session and process group come from the parent's start_new_session.)"""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if address_space_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (address_space_bytes, address_space_bytes))
    if cpu_seconds:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
