"""Landlock (Linux 5.13+): confine this process's file access to a few directories, irreversibly.

Used by a child that runs a whole answer program: it may read and write only its scratch directory (and read the
few system paths a runtime needs), with no TCP and, where the kernel's ABI has scoping (6+), no signals or
abstract sockets reaching outside. On the GPU runtime the driver's device nodes (/dev/nvidia*) are open to it
read-write with ioctls (ABI 5+ confines ioctls on devices too): libcuda drives the GPU through them. Rules apply to
files opened after `restrict`; what the child opened or mapped before (the answer's library, Python's modules) stays
usable. The rules hold for the calling thread and the threads it starts later; from ABI 8 (Linux 7.0) for every
thread of the process (LANDLOCK_RESTRICT_SELF_TSYNC). Syscalls by number through ctypes (x86-64: 444-446).
"""

from __future__ import annotations

import ctypes
import glob
import os
import platform
import struct
from collections.abc import Sequence

_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR, MAKE_REG = 1 << 4, 1 << 5, 1 << 6, 1 << 7, 1 << 8
MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
# Rights handled (denied unless a rule grants them) per ABI version.
_FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1, 5: (1 << 16) - 1}
_FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # the rights a rule on a non-directory may name
READ = READ_FILE | READ_DIR
READ_WRITE = (READ | WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_DIR | MAKE_REG | MAKE_SYM | REFER | TRUNCATE
              | IOCTL_DEV)
DEVICE = READ | WRITE_FILE | IOCTL_DEV  # open read-write and drive by ioctl; create or remove nothing
_RESTRICT_SELF_TSYNC = 1 << 3  # ABI 8: every thread of the process, not only the caller
# nvidiactl, nvidia0..N, nvidia-uvm(-tools), nvidia-modeset, nvidia-caps/, ...; dxg: the GPU under WSL2
GPU_DEVICE_PATTERNS = ("nvidia*", "dxg")
_NET_BIND_TCP, _NET_CONNECT_TCP = 1, 2
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1, 2


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def abi_version() -> int:
    """The kernel's Landlock ABI (0: none, or not x86-64 Linux)."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        return 0
    libc = _libc()
    version = libc.syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(int(version), 0)


def gpu_device_paths(dev: str = "/dev") -> list[str]:
    """The NVIDIA driver's device nodes under `dev` (none on a machine without the driver)."""
    return sorted(path for pattern in GPU_DEVICE_PATTERNS for path in glob.glob(os.path.join(glob.escape(dev), pattern)))


def rules(read_write: Sequence[str], read_only: Sequence[str] = (), devices: Sequence[str] = ()) -> list[tuple[str, int]]:
    """(path, rights) for each path, before the kernel's ABI and the file's type narrow the rights."""
    return [*((p, READ_WRITE) for p in read_write), *((p, READ) for p in read_only), *((p, DEVICE) for p in devices)]


def restrict(read_write: Sequence[str], read_only: Sequence[str] = (), devices: Sequence[str] = ()) -> int:
    """Confine this process (and threads it starts later; from ABI 8 every thread) to the given paths: read-write
    below `read_write`, read below `read_only`, open read-write with ioctls for the device nodes in `devices`.
    Returns the ABI used. Paths that do not exist are skipped. Raises OSError when the kernel has no Landlock or
    refuses."""
    return restrict_to(rules(read_write, read_only, devices))


def restrict_to(path_rights: Sequence[tuple[str, int]]) -> int:
    """`restrict` with the rights of each path given (this module's access bits)."""
    abi = abi_version()
    if abi < 1:
        raise OSError("Landlock is not available on this kernel (needs Linux 5.13+ with Landlock enabled)")
    handled_fs = _FS_BY_ABI.get(abi, _FS_BY_ABI[5])
    if abi >= 6:
        attr = struct.pack("QQQ", handled_fs, _NET_BIND_TCP | _NET_CONNECT_TCP,
                           _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL)
    elif abi >= 4:
        attr = struct.pack("QQ", handled_fs, _NET_BIND_TCP | _NET_CONNECT_TCP)
    else:
        attr = struct.pack("Q", handled_fs)
    libc = _libc()
    buffer = ctypes.create_string_buffer(attr, len(attr))
    ruleset = libc.syscall(_CREATE_RULESET, buffer, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        for path, rights in path_rights:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
            try:
                allowed = rights & handled_fs
                if not os.path.isdir(path):
                    allowed &= _FILE_RIGHTS
                rule = ctypes.create_string_buffer(struct.pack("=Qi", allowed, fd), 12)
                if libc.syscall(_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(_RULE_PATH_BENEATH), rule,
                                ctypes.c_uint32(0)) != 0:
                    raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
            finally:
                os.close(fd)
        libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        flags = _RESTRICT_SELF_TSYNC if abi >= 8 else 0
        if libc.syscall(_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(flags)) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
    return abi
