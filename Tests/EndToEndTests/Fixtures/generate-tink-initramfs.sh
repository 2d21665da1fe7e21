#!/bin/bash
# Reference for the µOS tarball input form: what EMT's generate-tink-initramfs.sh does, step by step, with
# temporary files. emts-iso must produce an equivalent initramfs in one pass without them.
#   generate-tink-initramfs.sh IMAGE.tar.gz OUTDIR   -> OUTDIR/vmlinuz, OUTDIR/initramfs.img
set -euo pipefail
image=$(readlink -f "$1")
out=$(readlink -f "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# Kernel and initramfs out of the image.
tar -xzf "$image" --wildcards './boot/vmlinuz-*' './boot/initramfs-*.img'
cp boot/vmlinuz-* "$out/vmlinuz"

# The image without ./tmp and the kernel files becomes the nested rootfs.
gzip -dc "$image" >rootfs.tar
tar --delete -f rootfs.tar --wildcards './tmp' './boot/vmlinuz-*' './boot/initramfs-*' './boot/System.map-*' './boot/config-*'
gzip -n rootfs.tar

# Into the initramfs, repacked.
mkdir initrd
(cd initrd && gzip -dc ../boot/initramfs-*.img | cpio -idm --quiet)
cp rootfs.tar.gz initrd/rootfs.tar.gz
(cd initrd && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -9 >"$out/initramfs.img")
