"""Device sets to run real QEMU with (``--device`` specs, as ``-device`` takes them).

:data:`BROAD` is the optional-device set that the release comparison captures on top
of a machine's defaults: NICs, storage controllers, USB, sound, watchdog, panic.
Bus ids (``ehci``) tie dependent devices to their controller so the command line
means the same on every release.

>>> "usb-tablet,bus=ehci.0" in BROAD
True
"""

from __future__ import annotations

BROAD: tuple[str, ...] = (
    "e1000e", "e1000", "rtl8139", "pcnet", "vmxnet3", "virtio-net-pci",
    "virtio-scsi-pci", "virtio-serial-pci", "virtio-rng-pci", "virtio-balloon-pci",
    "ich9-ahci", "lsi53c895a", "megasas", "am53c974",
    "usb-ehci,id=ehci", "usb-tablet,bus=ehci.0", "piix3-usb-uhci", "qemu-xhci",
    "intel-hda", "hda-duplex", "sb16", "i6300esb", "pvpanic",
)

#: named device sets, for ``--devices NAME`` and golden manifests
DEVICE_SETS: dict[str, tuple[str, ...]] = {"default": (), "broad": BROAD}
