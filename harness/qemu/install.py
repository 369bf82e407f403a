"""``vmcompat qemu install NAME``: a second QEMU release beside the system's, from Debian.

Steps (each idempotent; the prefix appears only when complete):

1. enable the release's apt suite (a ``.sources`` file in ``/etc/apt/sources.list.d``,
   Debian's archive and keyring; default pin priority, so nothing installed is upgraded)
   and ``apt-get update`` — as root;
2. ``apt-get download`` its packages at exactly the release's Debian version, and its
   firmware packages from that suite;
3. install (as root, ``--no-install-recommends``) the shared libraries they depend on
   that the system lacks — Debian library packages, never another ``qemu-*``;
4. unpack every package with ``dpkg-deb -x`` into a temporary directory, write the
   manifest, and rename it into place.

The system's QEMU is never replaced or upgraded.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from vmcompat.errors import InputError
from vmcompat.qemu.releases import MANIFEST, RELEASES, Qemu, Release, prefix_of, resolve

SOURCES_DIR = "/etc/apt/sources.list.d"
ARCHIVE = "http://deb.debian.org/debian"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


class InstallError(InputError):
    """The release could not be installed (apt failed, not root, unknown release)."""


def install(name: str, *, log: Callable[[str], None] = lambda _m: None) -> Qemu:
    """Install release ``name`` into its private prefix (no-op when already there)."""
    release = RELEASES.get(name)
    if release is None:
        raise InstallError(f"unknown QEMU release {name!r}: known are {', '.join(RELEASES)}")
    prefix = prefix_of(name)
    if (prefix.parent / MANIFEST).is_file():
        return resolve(name)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".install-", dir=prefix.parent) as tmp:
        debs = Path(tmp) / "debs"
        debs.mkdir()
        _enable_suite(release, log)
        names = [f"{p}={release.debian_version}" for p in release.packages]
        names += list(release.firmware)
        log(f"fetching {len(names)} packages of QEMU {name}")
        _run(["apt-get", "download", "-q", *names], cwd=debs)
        files = sorted(debs.glob("*.deb"))
        _install_libraries(files, log)
        root = Path(tmp) / "root"
        packages = {}
        for deb in files:
            _run(["dpkg-deb", "-x", str(deb), str(root)])
            fields = _fields(deb, "Package", "Version")
            packages[fields["Package"]] = fields["Version"]
        (Path(tmp) / MANIFEST).write_text(json.dumps(
            {"release": name, "suite": release.suite, "packages": packages}, indent=2) + "\n")
        if prefix.exists():  # a half-finished earlier attempt
            shutil.rmtree(prefix)
        root.rename(prefix)
        (Path(tmp) / MANIFEST).rename(prefix.parent / MANIFEST)
    return resolve(name)


def _enable_suite(release: Release, log: Callable[[str], None]) -> None:
    path = os.path.join(SOURCES_DIR, f"vmcompat-{release.suite}.sources")
    if not _suite_known(release):
        if os.geteuid() != 0:
            raise InstallError(f"the apt suite {release.suite} is not enabled and enabling it "
                               f"needs root (run 'vmcompat qemu install {release.name}' as root)")
        log(f"enabling the apt suite {release.suite} ({path})")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(f"Types: deb\nURIs: {ARCHIVE}\nSuites: {release.suite}\n"
                     f"Components: main\nSigned-By: {KEYRING}\n")
        _run(["apt-get", "update", "-q"])
    if not _suite_known(release):
        raise InstallError(f"apt does not offer qemu-system-x86 {release.debian_version} "
                           f"from {release.suite}")


def _suite_known(release: Release) -> bool:
    out = subprocess.run(["apt-cache", "madison", "qemu-system-x86"], capture_output=True,
                         text=True, check=False).stdout
    return any(line.split("|")[1].strip() == release.debian_version
               for line in out.splitlines() if line.count("|") >= 2)


def _install_libraries(debs: list[Path], log: Callable[[str], None]) -> None:
    """Install the non-QEMU dependencies the fetched packages need and the system lacks."""
    wanted = set()
    for deb in debs:
        depends = _fields(deb, "Depends").get("Depends", "")
        for clause in filter(None, (c.strip() for c in depends.split(","))):
            first = re.split(r"[\s(|:]", clause, maxsplit=1)[0]
            if first.startswith(("qemu-", "seabios", "ipxe")):
                continue
            wanted.add(first)
    missing = sorted(p for p in wanted if not _installed(p))
    if not missing:
        return
    if os.geteuid() != 0:
        raise InstallError(f"QEMU needs libraries this system lacks ({', '.join(missing)}): "
                           f"install them as root")
    log(f"installing {len(missing)} libraries: {' '.join(missing)}")
    _run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing],
         env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def _installed(package: str) -> bool:
    out = subprocess.run(["dpkg-query", "-W", "-f", "${db:Status-Abbrev}", package],
                         capture_output=True, text=True, check=False).stdout
    return out.startswith("ii")


def _fields(deb: Path, *names: str) -> dict[str, str]:
    out = subprocess.run(["dpkg-deb", "-f", str(deb), *names], capture_output=True, text=True,
                         check=False).stdout
    if len(names) == 1:
        return {names[0]: out.strip()}
    found = {}
    for line in out.splitlines():
        key, _, value = line.partition(":")
        found[key.strip()] = value.strip()
    return found


def _run(cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    try:
        r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    except OSError as e:
        raise InstallError(f"cannot run {cmd[0]}: {e.strerror}") from None
    if r.returncode != 0:
        lines = [ln for ln in (r.stderr or r.stdout).splitlines() if ln.strip()]
        last = lines[-1].strip() if lines else f"exit status {r.returncode}"
        raise InstallError(f"{' '.join(cmd[:2])} failed: {last}")
