"""Which QEMU to drive: the system's, a release vmcompat installed, or a path.

A :class:`Qemu` is one runnable binary plus what it needs to run beside another
release: a private prefix (``~/.cache/vmcompat/qemu/<name>/root``) whose module
directory replaces the system's in a private mount namespace (QEMU's module
loader falls back to the compiled-in directory, where another build's modules
abort it: "Only modules from the same build can be loaded"), and whose firmware
comes first on the search path (``-L``).

``--qemu NAME|PATH`` picks one; ``$VMCOMPAT_QEMU`` is the default, then the
system's ``qemu-system-x86_64``.

>>> RELEASES["10.0"].debian_version
'1:10.0.2+ds-2+deb13u1~bpo12+1'
>>> release_name("QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2+deb13u1~bpo12+1)")
'10.0'
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from vmcompat.errors import InputError
from vmcompat.values import immutable

ENV = "VMCOMPAT_QEMU"
DEFAULT = "qemu-system-x86_64"
#: where Debian's qemu-system packages put their modules (compiled into the binary)
MODULE_DIR = "/usr/lib/x86_64-linux-gnu/qemu"
#: firmware directories of a prefix, searched before the compiled-in ones
FIRMWARE_DIRS = ("usr/share/qemu", "usr/share/seabios", "usr/lib/ipxe/qemu")
#: written into a prefix when its install completes: the packages it holds
MANIFEST = "vmcompat-release.json"


@immutable(slots=True)
class Release:
    """A QEMU release vmcompat can install from Debian's archive into a private prefix."""

    name: str
    debian_version: str
    suite: str
    #: packages fetched at exactly ``debian_version``
    packages: tuple[str, ...]
    #: firmware packages, as apt names them (``seabios/bookworm-backports``: from that suite)
    firmware: tuple[str, ...]


RELEASES: dict[str, Release] = {
    "10.0": Release(
        name="10.0",
        debian_version="1:10.0.2+ds-2+deb13u1~bpo12+1",
        suite="bookworm-backports",
        # the module packages too: 7.2 ships the same modules in qemu-system-gui and the
        # main package, and a -dump-vmstate lists only the devices of modules that load
        packages=("qemu-system-x86", "qemu-system-common", "qemu-system-data",
                  "qemu-system-modules-opengl", "qemu-system-modules-spice"),
        firmware=("seabios/bookworm-backports", "ipxe-qemu"),
    ),
}


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/vmcompat/qemu`` (``~/.cache/vmcompat/qemu``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "vmcompat" / "qemu"


def prefix_of(name: str) -> Path:
    """The private prefix (unpacked package tree) of release ``name``."""
    return cache_root() / name / "root"


@immutable(slots=True)
class Qemu:
    """One runnable QEMU; ``argv(...)`` is how to start it with its own modules and firmware."""

    name: str
    binary: str
    #: the unpacked packages' root for an installed release, None for a system binary
    prefix: str | None = None

    def argv(self, *args: str) -> list[str]:
        """The command that starts this QEMU with ``args``."""
        if self.prefix is None:
            return [self.binary, *args]
        firmware = [opt for d in FIRMWARE_DIRS if os.path.isdir(os.path.join(self.prefix, d))
                    for opt in ("-L", os.path.join(self.prefix, d))]
        own_modules = os.path.join(self.prefix, MODULE_DIR.lstrip("/"))
        cmd = [self.binary, *firmware, *args]
        if not os.path.isdir(MODULE_DIR) or not os.path.isdir(own_modules):
            return cmd
        # a private mount namespace in which the compiled-in module directory is our own
        unshare = ["unshare", "--mount", "--propagation", "private"]
        if os.geteuid() != 0:
            unshare.append("--map-root-user")
        script = 'mount --bind "$1" "$2" || exit 125; shift 2; exec "$@"'
        return [*unshare, "sh", "-c", script, "vmcompat-qemu", own_modules, MODULE_DIR, *cmd]

    @property
    def version(self) -> str:
        """QEMU's own version line, e.g. ``QEMU emulator version 7.2.22 (Debian …)``."""
        return version_line(self.binary)

    def packages(self) -> dict[str, str]:
        """The Debian packages (name → version) this QEMU runs from."""
        if self.prefix is not None:
            manifest = Path(self.prefix).parent / MANIFEST
            try:
                return dict(json.loads(manifest.read_text())["packages"])
            except (OSError, ValueError, KeyError, TypeError):
                return {}
        return system_packages()


@functools.cache
def version_line(binary: str) -> str:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True,
                             timeout=30, check=False).stdout
    except OSError as e:
        raise InputError(f"cannot run QEMU: {e.strerror}", file=binary) from None
    first = out.splitlines()[0].strip() if out.strip() else ""
    if not first.startswith("QEMU emulator version"):
        raise InputError("not a QEMU binary (no version line)", file=binary)
    return first


def release_name(version: str) -> str:
    """``"7.2"`` from a version line (major.minor)."""
    m = re.search(r"version (\d+)\.(\d+)", version)
    return f"{m.group(1)}.{m.group(2)}" if m else version


def system_packages() -> dict[str, str]:
    """Installed Debian packages whose name starts with ``qemu-`` (and the firmware ones)."""
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f", "${db:Status-Abbrev} ${Package} ${Version}\\n",
             "qemu-*", "seabios", "ipxe-qemu"],
            capture_output=True, text=True, timeout=30, check=False).stdout
    except OSError:
        return {}
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].startswith("ii"):
            found[parts[1]] = parts[2]
    return found


def installed() -> list[Qemu]:
    """Every QEMU vmcompat knows here: the system's (if any), then installed releases."""
    found = []
    system = shutil.which(DEFAULT)
    if system:
        found.append(Qemu(release_name(version_line(system)), system))
    root = cache_root()
    for name in sorted(os.listdir(root)) if root.is_dir() else []:
        q = _installed_release(name)
        if q is not None and all(q.name != f.name for f in found):
            found.append(q)
    return found


def _installed_release(name: str) -> Qemu | None:
    prefix = prefix_of(name)
    binary = prefix / "usr" / "bin" / DEFAULT
    if (prefix.parent / MANIFEST).is_file() and binary.is_file():
        return Qemu(name, str(binary), str(prefix))
    return None


def resolve(spec: str | None = None) -> Qemu:
    """``--qemu NAME|PATH`` (default ``$VMCOMPAT_QEMU``, then the system's QEMU).

    A NAME is a release (``7.2``, ``10.0``): the system's QEMU when that is the
    release, else the one ``vmcompat qemu install NAME`` put in the cache.
    """
    origin = "--qemu"
    if spec is None:
        spec, origin = os.environ.get(ENV) or None, f"${ENV}"
    if spec is None:
        path = shutil.which(DEFAULT)
        if path is None:
            raise InputError(f"{DEFAULT} not found on PATH (install qemu-system-x86, "
                             f"or set ${ENV}, or give --qemu)")
        return Qemu(release_name(version_line(path)), path)
    if re.fullmatch(r"\d+\.\d+", spec):
        return _by_name(spec)
    path = shutil.which(spec)
    if path is None:
        raise InputError(f"no such QEMU binary (from {origin})", file=spec)
    path = os.path.abspath(path)
    for q in installed():  # a path inside an installed release keeps its prefix
        if q.prefix is not None and os.path.samefile(q.binary, path):
            return q
    return Qemu(release_name(version_line(path)), path)


def _by_name(name: str) -> Qemu:
    system = shutil.which(DEFAULT)
    if system and release_name(version_line(system)) == name:
        return Qemu(name, system)
    q = _installed_release(name)
    if q is not None:
        return q
    hint = (f"run 'vmcompat qemu install {name}'" if name in RELEASES
            else f"known releases: {', '.join(sorted(RELEASES))} and the system's QEMU")
    raise InputError(f"QEMU {name} is not installed: {hint}")


@functools.cache
def machine_types(qemu: Qemu) -> tuple[str, ...]:
    """The versioned ``pc-i440fx-*``/``pc-q35-*`` machine types ``qemu`` offers."""
    try:
        out = subprocess.run(qemu.argv("-machine", "help"), capture_output=True, text=True,
                             timeout=60, check=False).stdout
    except OSError as e:
        raise InputError(f"cannot run QEMU: {e.strerror}", file=qemu.binary) from None
    return tuple(sorted({ln.split()[0] for ln in out.splitlines()
                         if re.match(r"pc-(i440fx|q35)-\d", ln)}))


def find_binary() -> str:
    """The path of the default QEMU binary, or :class:`InputError`."""
    return resolve().binary


def available(name: str | None = None) -> bool:
    """True when QEMU ``name`` (default: the default QEMU) can be run (tests skip otherwise)."""
    try:
        resolve(name)
    except InputError:
        return False
    return True
