#!/bin/bash
# bench/today-flow.sh: today's shell flow (the one `emts-iso build` replaces; /work/shared/design.md section 3),
# reimplemented as faithfully as the design describes it, for bench/compare.sh. Not a supported build path.
#
#   bench/today-flow.sh MODE KERNEL INITRAMFS DEB_LIST BUNDLE_DIR UNIT WORK_DIR OUT.iso
#
#   MODE        as-is:   the nested tarball is gzip'd back with `gzip -k`, so the uncompressed rootfs.tar stays
#                        beside the new rootfs.tar.gz and the repack carries it: the "second full copy of the OS
#                        in the initramfs" design.md names (it doubles the RAM the µOS needs at boot);
#               no-copy: `gzip` (the .tar is replaced by the .tar.gz): the same flow without that copy.
#   KERNEL      the µOS kernel (copied to /boot/vmlinuz of the ISO tree)
#   INITRAMFS   a gzip'd newc cpio that nests the root filesystem as */rootfs.tar.gz (a dracut or test bed image)
#   DEB_LIST    a file naming one .deb per line: the packages to add (extracted with dpkg-deb -x)
#   BUNDLE_DIR  the install-os bundle (install-os and its libraries), added as /usr/lib/emts/install-os/
#   UNIT        install-os.service, added as /usr/lib/systemd/system/install-os.service and enabled
#   WORK_DIR    created; holds everything unpacked (and TMPDIR for grub-mkrescue); left for the caller to remove
#   OUT.iso     the ISO grub-mkrescue writes
#
# The steps (design.md section 3): unpack the initramfs with `cpio -idm`; gunzip the nested rootfs.tar.gz (found
# by name in the unpacked tree); stage the payload (dpkg-deb -x of each package; the install-os bundle, its unit
# and the two links emts-iso makes; /bin, /sbin and /lib* of the packages folded into /usr as the usrmerged µOS
# has them, so the files land where emts-iso puts them) and append it with `tar -uf`; gzip the tarball; repack
# with `find . | cpio -o -H newc | gzip -9`; grub-mkrescue with a two-line menu. Like today's flow it does not
# disable the agent services, register the packages in dpkg's database, or rewrite install-os's rpath.
#
# Environment: CMDLINE (the kernel command line in grub.cfg; default the µOS's line with serial console).
set -Eeuo pipefail
umask 022

log() { printf 'today-flow.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $# -eq 8 ]] || die "usage: today-flow.sh as-is|no-copy KERNEL INITRAMFS DEB_LIST BUNDLE_DIR UNIT WORK_DIR OUT.iso"
mode=$1 kernel=$(realpath -- "$2") initramfs=$(realpath -- "$3") deb_list=$(realpath -- "$4")
bundle=$(realpath -- "$5") unit=$(realpath -- "$6") work=$7 out=$8
[[ $mode == as-is || $mode == no-copy ]] || die "MODE is as-is or no-copy, not $mode"
CMDLINE=${CMDLINE:-root=tmpfs rootflags=mode=0755 rd.skipfsck noresume modules-load=nbd console=tty0 console=ttyS0,115200n8}

mkdir -p "$work/initrd" "$work/stage" "$work/iso/boot/grub" "$work/tmp"
work=$(realpath -- "$work")
out=$(realpath -m -- "$out")
export TMPDIR=$work/tmp

# 1. unpack the initramfs
cd "$work/initrd"
zcat -- "$initramfs" | cpio -idm --quiet

# 2. gunzip the nested root filesystem archive
nested=$(find . -type f -name rootfs.tar.gz -print -quit)
[[ -n $nested ]] || die "no rootfs.tar.gz in $initramfs"
gunzip -- "$nested"
tarball=${nested%.gz}

# 3. the payload, appended with tar -uf
stage=$work/stage
while IFS= read -r deb; do
	[[ -n $deb ]] && dpkg-deb -x "$deb" "$stage"
done <"$deb_list"
for dir in bin sbin lib lib32 lib64 libx32; do
	if [[ -d $stage/$dir && ! -L $stage/$dir ]]; then
		mkdir -p "$stage/usr/$dir"
		cp -a -- "$stage/$dir/." "$stage/usr/$dir/"
		rm -rf -- "${stage:?}/$dir"
	fi
done
mkdir -p "$stage/usr/lib/emts" "$stage/usr/bin" "$stage/usr/lib/systemd/system" \
	"$stage/etc/systemd/system/multi-user.target.wants"
cp -a -- "$bundle" "$stage/usr/lib/emts/install-os"
ln -sfn ../lib/emts/install-os/install-os "$stage/usr/bin/install-os"
install -m 0644 -- "$unit" "$stage/usr/lib/systemd/system/install-os.service"
ln -sfn /usr/lib/systemd/system/install-os.service \
	"$stage/etc/systemd/system/multi-user.target.wants/install-os.service"
tar -uf "$tarball" -C "$stage" .

# 4. gzip it back (as-is keeps the uncompressed tarball in the tree)
if [[ $mode == as-is ]]; then
	gzip -k -- "$tarball"
else
	gzip -- "$tarball"
fi

# 5. repack the initramfs
find . | cpio -o -H newc --quiet | gzip -9 >"$work/iso/boot/initramfs.img"

# 6. grub-mkrescue
cp -- "$kernel" "$work/iso/boot/vmlinuz"
cat >"$work/iso/boot/grub/grub.cfg" <<EOF
set timeout=5
menuentry "Install EMT-S" {
	linux /boot/vmlinuz $CMDLINE
	initrd /boot/initramfs.img
}
EOF
grub-mkrescue -o "$out" "$work/iso" 2>"$work/grub-mkrescue.log" || { cat "$work/grub-mkrescue.log" >&2; die "grub-mkrescue failed"; }
