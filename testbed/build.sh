#!/bin/bash
# Build the EMT-S test bed: a stand-in for the Edge Microvisor Toolkit µOS made
# from Debian bookworm packages only (see /work/shared/design.md, sections 2 and 6).
#
#   testbed/build.sh [--force] [--verify] [--prune]
#
# Output: ${EMTS_CACHE:-/var/cache/emts-iso}/testbed/<key>/ with
#   vmlinuz  kernel-version  kernel-config  rootfs.tar.gz  rootfs-packages.txt
#   initramfs-gzip.img  initramfs-zstd.img  initramfs-early.img  testbed.json  SHA256SUMS
# <key> = first 16 hex of sha256 over every file in testbed/ plus the candidate
# version of linux-image-amd64, so editing this directory or a kernel update
# rebuilds; anything else reuses the cached directory at once.
#
# Logs go to stderr; the LAST line of stdout is the absolute output directory:
#   dir=$(testbed/build.sh | tail -1)
#
#   --force   rebuild even if the keyed directory exists
#   --verify  boot every initramfs variant in QEMU (TCG) and check the markers
#             (testbed/boot.sh --check; two VMs at a time)
#   --prune   remove the cache's other (older) keyed test bed directories
#
# Environment: EMTS_CACHE (cache root), EMTS_TESTBED_MIRROR,
# EMTS_TESTBED_SECURITY_MIRROR (Debian mirrors for mmdebstrap).
set -Eeuo pipefail
umask 022

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE_DIR=${EMTS_CACHE:-/var/cache/emts-iso}/testbed
SUITE=bookworm
MIRROR=${EMTS_TESTBED_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${EMTS_TESTBED_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

# The µOS kernel command line (design.md §2) plus the serial console and a visible panic.
CMDLINE="root=tmpfs rootflags=mode=0755 rd.skipfsck noresume modules-load=nbd console=ttyS0,115200n8 panic=-1"
AGENTS=(tink-worker caddy fluent-bit device-discovery)
READY_UNIT=emts-testbed-ready.service
MASKED_UNITS=(serial-getty@ttyS0.service)
TESTBED_HOSTNAME=emts-testbed
# Newer µOS builds contain these, older ones do not: the test bed plays an older one.
ABSENT_PACKAGES=(efibootmgr gawk lvm2 net-tools parted)
# Modules the µOS boot and the installer need (with their dependency closure).
REQUIRED_MODULES=(
	sr_mod cdrom                                # CD-ROM
	usb-storage uas xhci_pci xhci_hcd ehci_pci  # USB sticks
	nvme ahci sd_mod                            # internal disks
	virtio_blk virtio_pci virtio_scsi virtio_net
	isofs vfat nls_cp437 nls_iso8859_1 nls_utf8 ext4
	nbd loop dm_mod dm_verity efivarfs
)
OPTIONAL_MODULES=(dm_crypt autofs4) # autofs4: systemd asks for it at startup
# security.selinux fixtures (path in rootfs -> label); stored NUL-terminated as on a labelled system.
XATTR_FIXTURES=(
	"usr/bin/bash=system_u:object_r:shell_exec_t:s0"
	"usr/lib/systemd/systemd=system_u:object_r:init_exec_t:s0"
	"etc/hostname=system_u:object_r:etc_t:s0"
	"usr/share/emts-testbed=system_u:object_r:usr_t:s0"
	"usr/share/emts-testbed/hardlink-a=system_u:object_r:usr_t:s0" # the inode: hardlink-b shares it
)
HARDLINK_A=usr/share/emts-testbed/hardlink-a
HARDLINK_B=usr/share/emts-testbed/hardlink-b
OUTPUT_FILES=(vmlinuz kernel-version kernel-config rootfs.tar.gz rootfs-packages.txt
	initramfs-gzip.img initramfs-zstd.img initramfs-early.img uos-image.tar.gz testbed.json SHA256SUMS)

FORCE=0 VERIFY=0 PRUNE=0
SCRATCH= TMP_OUT= STEP= T0=$SECONDS

# --- logging and cleanup -------------------------------------------------------

# stdout is reserved for the final path: everything else goes to stderr.
exec 3>&1 1>&2

log() { printf '%s testbed: %s\n' "$(date '+%F %T')" "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}
on_err() { log "ERROR: command failed (exit $1) in step '${STEP:-setup}', line $2: $3"; }
trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR

# Run one build step with a timestamped start/finish line.
step() {
	local name=$1 t=$SECONDS
	shift
	STEP=$name
	log "step $name ..."
	# Children get neither the real stdout (fd 3) nor the lock (fd 9): a lingering
	# helper process must not hold up "$(build.sh | tail -1)" or the lock.
	"$@" 3>&- 9>&-
	log "step $name done ($((SECONDS - t)) s)"
}

# Unmount anything still mounted below $1 (mmdebstrap mounts /proc, /dev... in its chroot).
umount_below() {
	local dir=$1 mp
	[ -n "$dir" ] || return 0
	awk -v p="$dir/" 'index($2, p) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r mp; do
		umount -l "$mp" 2>/dev/null || true
	done
}

cleanup() {
	local rc=$?
	trap - ERR
	set +e
	umount_below "$SCRATCH"
	umount_below "$TMP_OUT"
	[ -n "$SCRATCH" ] && rm -rf --one-file-system "$SCRATCH"
	if [ "$rc" -ne 0 ]; then
		[ -n "$TMP_OUT" ] && [ -d "$TMP_OUT" ] && rm -rf --one-file-system "$TMP_OUT"
		log "FAILED (exit $rc) after $((SECONDS - T0)) s"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- preconditions -------------------------------------------------------------

parse_args() {
	while [ $# -gt 0 ]; do
		case "$1" in
		--force) FORCE=1 ;;
		--verify) VERIFY=1 ;;
		--prune) PRUNE=1 ;;
		-h | --help)
			sed -n '2,/^set -E/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"
			exit 0
			;;
		*) die "unknown argument: $1 (try --help)" ;;
		esac
		shift
	done
}

check_host() {
	[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap, mknod, chown and security.* xattrs need it)"
	local t missing=()
	for t in mmdebstrap apt-get apt-cache dpkg-deb dpkg-query depmod modprobe cpio gzip zstd xz tar \
		sha256sum flock python3 chroot ldd mknod; do
		command -v "$t" >/dev/null || missing+=("$t")
	done
	[ -x /bin/busybox ] || missing+=("/bin/busybox (busybox-static)")
	[ -d /usr/share/mmdebstrap/hooks/merged-usr ] || missing+=("mmdebstrap merged-usr hook dir")
	[ ${#missing[@]} -eq 0 ] || die "missing tools: ${missing[*]} (apt-get install mmdebstrap busybox-static cpio zstd xz-utils kmod dpkg-dev python3)"
	# The initramfs has no libc for busybox: it must be the static build.
	if ldd /bin/busybox >/dev/null 2>&1; then die "/bin/busybox is dynamically linked: install busybox-static"; fi
	# Prefer the system python (pyenv shims may pick another one).
	PY=$(command -v /usr/bin/python3 || command -v python3)
}

# Candidate version of linux-image-amd64; refresh apt lists only if they are unusable.
kernel_meta_candidate() {
	local c
	c=$(apt-cache policy linux-image-amd64 2>/dev/null | awk '/Candidate:/ { print $2 }')
	if [ -z "$c" ] || [ "$c" = "(none)" ]; then
		log "apt lists have no linux-image-amd64 candidate: running apt-get update"
		apt-get update >&2 || log "warning: apt-get update reported errors"
		c=$(apt-cache policy linux-image-amd64 2>/dev/null | awk '/Candidate:/ { print $2 }')
	fi
	[ -n "$c" ] && [ "$c" != "(none)" ] || die "apt knows no candidate for linux-image-amd64 (check /etc/apt/sources.list*)"
	KMETA_VERSION=$c
}

compute_key() {
	KEY=$({
		(cd "$HERE" && find . -type f -print0 | LC_ALL=C sort -z | while IFS= read -r -d '' f; do
			printf 'file %s %s\n' "$f" "$(sha256sum <"$f" | cut -d' ' -f1)"
		done)
		printf 'linux-image-amd64 %s\n' "$KMETA_VERSION"
	} | sha256sum | cut -c1-16)
	OUT=$CACHE_DIR/$KEY
}

is_complete() {
	local d=$1 f
	[ -d "$d" ] || return 1
	for f in "${OUTPUT_FILES[@]}"; do [ -s "$d/$f" ] || return 1; done
	grep -q "\"key\": \"$KEY\"" "$d/testbed.json"
}

# --- step 1: kernel --------------------------------------------------------------

fetch_kernel() {
	local dl=$SCRATCH/dl deb
	# linux-image-amd64 is a meta package: its Depends names the real image package.
	read -r KPKG KPKG_VERSION < <(apt-cache show "linux-image-amd64=$KMETA_VERSION" |
		sed -n 's/^Depends:.*\b\(linux-image-[0-9][^ ,]*-amd64\) (= \([^)]*\)).*/\1 \2/p' | head -1) || true
	[ -n "${KPKG:-}" ] || die "cannot find the kernel image package linux-image-amd64=$KMETA_VERSION depends on"
	log "kernel package $KPKG $KPKG_VERSION (linux-image-amd64 $KMETA_VERSION)"
	mkdir -p "$dl"
	# As root, apt's _apt sandbox user cannot write to our mktemp dir: download as root.
	(cd "$dl" && apt-get -q -o APT::Sandbox::User=root download "$KPKG=$KPKG_VERSION" >&2)
	deb=$(ls "$dl"/*.deb)
	KROOT=$SCRATCH/kernel
	dpkg-deb -x "$deb" "$KROOT"

	local kvers=("$KROOT"/lib/modules/*/)
	[ ${#kvers[@]} -eq 1 ] && [ -d "${kvers[0]}" ] || die "expected one /lib/modules/<kver> in $KPKG"
	KVER=$(basename "${kvers[0]}")
	KMODS=$KROOT/lib/modules/$KVER
	[ -f "$KROOT/boot/vmlinuz-$KVER" ] || die "no /boot/vmlinuz-$KVER in $KPKG"
	install -m 0644 "$KROOT/boot/vmlinuz-$KVER" "$TMP_OUT/vmlinuz"
	install -m 0644 "$KROOT/boot/config-$KVER" "$TMP_OUT/kernel-config"
	echo "$KVER" >"$TMP_OUT/kernel-version"

	# What the /init and the initramfs variants rely on.
	local opt
	for opt in BLK_DEV_INITRD RD_GZIP RD_ZSTD RD_XZ DEVTMPFS TMPFS SERIAL_8250_CONSOLE; do
		grep -qx "CONFIG_$opt=y" "$TMP_OUT/kernel-config" || die "kernel $KVER lacks CONFIG_$opt=y"
	done
	# The .deb ships no modules.dep: make one so modprobe can resolve dependencies.
	depmod -b "$KROOT" "$KVER"
	log "kernel $KVER ($(stat -c %s "$TMP_OUT/vmlinuz") bytes bzImage)"
}

# --- step 2: root filesystem -------------------------------------------------------

make_rootfs() {
	ROOTFS=$SCRATCH/rootfs
	local ex dpkgopts=()
	# Keep it small (~120 MB): no docs (but copyrights), man/info pages, locales, hwdb sources.
	for ex in /usr/share/doc/'*' /usr/share/man/'*' /usr/share/info/'*' /usr/share/locale/'*' \
		/usr/share/lintian/'*' /usr/lib/udev/hwdb.d/'*'; do
		dpkgopts+=("--dpkgopt=path-exclude=$ex")
	done
	dpkgopts+=("--dpkgopt=path-include=/usr/share/doc/*/copyright" "--dpkgopt=path-include=/usr/share/locale/locale.alias")
	mmdebstrap --mode=root --format=directory --variant=minbase \
		--include=systemd-sysv,udev,kmod \
		--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
		--aptopt='Acquire::Languages "none"' \
		"${dpkgopts[@]}" \
		"$SUITE" "$ROOTFS" \
		"deb $MIRROR $SUITE main" \
		"deb $MIRROR $SUITE-updates main" \
		"deb $SECURITY_MIRROR $SUITE-security main" >&2
}

check_rootfs_packages() {
	local d p bad=()
	# The µOS is usrmerged: these must be symlinks into /usr, never directories.
	for d in bin sbin lib lib64; do
		[ -L "$ROOTFS/$d" ] && [ "$(readlink "$ROOTFS/$d")" = "usr/$d" ] ||
			die "rootfs is not usrmerged: /$d is not a symlink to usr/$d"
	done
	dpkg-query --admindir="$ROOTFS/var/lib/dpkg" -W -f '${db:Status-Abbrev}\t${Package}\t${Version}\n' |
		awk -F'\t' '$1 ~ /^ii/ { print $2 "\t" $3 }' | LC_ALL=C sort >"$TMP_OUT/rootfs-packages.txt"
	for p in "${ABSENT_PACKAGES[@]}"; do
		if awk -F'\t' -v p="$p" '$1 == p { f = 1 } END { exit !f }' "$TMP_OUT/rootfs-packages.txt"; then bad+=("$p"); fi
	done
	[ ${#bad[@]} -eq 0 ] || die "rootfs must not contain: ${bad[*]}"
	PKG_COUNT=$(wc -l <"$TMP_OUT/rootfs-packages.txt")
	log "rootfs has $PKG_COUNT packages, none of: ${ABSENT_PACKAGES[*]}"
}

# Units and their enablement exactly as the µOS image setup does it: wants symlinks.
configure_rootfs() {
	local sysdir=$ROOTFS/usr/lib/systemd/system wants=$ROOTFS/etc/systemd/system/multi-user.target.wants
	local a unit
	for a in "${AGENTS[@]}"; do [ -f "$HERE/units/$a.service" ] || die "missing testbed/units/$a.service"; done
	[ -f "$HERE/units/$READY_UNIT" ] || die "missing testbed/units/$READY_UNIT"
	mkdir -p "$wants"
	for unit in "${AGENTS[@]/%/.service}" "$READY_UNIT"; do
		install -m 0644 "$HERE/units/$unit" "$sysdir/$unit"
		ln -sfn "/usr/lib/systemd/system/$unit" "$wants/$unit"
	done
	# A login prompt on ttyS0 would interleave with the markers.
	for unit in "${MASKED_UNITS[@]}"; do ln -sfn /dev/null "$ROOTFS/etc/systemd/system/$unit"; done

	# mmdebstrap copies the host's hostname (with the host's mode): replace, not overwrite.
	rm -f "$ROOTFS/etc/hostname" "$ROOTFS/etc/hosts"
	echo "$TESTBED_HOSTNAME" >"$ROOTFS/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
		"$TESTBED_HOSTNAME" >"$ROOTFS/etc/hosts"
	chmod 0644 "$ROOTFS/etc/hostname" "$ROOTFS/etc/hosts"
	: >"$ROOTFS/etc/machine-id" # empty: systemd makes a transient id, no first-boot setup
	rm -f "$ROOTFS/etc/resolv.conf" # mmdebstrap copied the host's

	# Metadata fixtures: a hardlink pair (same inode) and security.selinux labels.
	mkdir -p "$ROOTFS/usr/share/emts-testbed"
	echo "EMT-S test bed hardlink fixture: hardlink-a and hardlink-b are one inode" >"$ROOTFS/$HARDLINK_A"
	ln -f "$ROOTFS/$HARDLINK_A" "$ROOTFS/$HARDLINK_B"
	set_xattr_fixtures
}

set_xattr_fixtures() {
	# No setfattr here (attr is not installed); python's os.setxattr does the same.
	# Without an SELinux LSM, root may still store security.* xattrs on ext4/xfs/tmpfs;
	# where the scratch filesystem refuses them, pack_rootfs adds them to the tarball instead.
	XATTR_ROUTE=${EMTS_TESTBED_XATTR_ROUTE:-files}
	if [ "$XATTR_ROUTE" = files ]; then
		local rc=0
		"$PY" - "$ROOTFS" "${XATTR_FIXTURES[@]}" <<'EOF' || rc=$?
import errno, os, sys
root = sys.argv[1]
for spec in sys.argv[2:]:
    path, label = spec.split("=", 1)
    p = os.path.join(root, path)
    try:
        os.setxattr(p, "security.selinux", label.encode() + b"\0", follow_symlinks=False)
    except OSError as e:
        if e.errno in (errno.ENOTSUP, errno.EPERM, errno.EACCES):
            print("setxattr %s: %s" % (p, e), file=sys.stderr)
            sys.exit(3)
        raise
    got = os.getxattr(p, "security.selinux", follow_symlinks=False)
    assert got == label.encode() + b"\0", (p, got)
EOF
		case "$rc" in
		0) ;;
		3)
			log "this filesystem refuses security.* xattrs: adding them to the tarball instead"
			XATTR_ROUTE=tar
			;;
		*) die "setting security.selinux fixtures failed" ;;
		esac
	fi
	log "security.selinux fixtures: set on the $([ "$XATTR_ROUTE" = files ] && echo files || echo tar entries)"
}

# Fallback: rewrite the tar (pax format) adding SCHILY.xattr.security.selinux records,
# exactly what GNU tar --xattrs would have written for labelled files.
add_xattrs_to_tar() {
	"$PY" - "$1" "${XATTR_FIXTURES[@]}" <<'EOF'
import os, sys, tarfile
src, specs = sys.argv[1], sys.argv[2:]
want = {"./" + p: v for p, v in (s.split("=", 1) for s in specs)}
dst = src + ".new"
with tarfile.open(src, "r:") as tin, tarfile.open(dst, "w:", format=tarfile.PAX_FORMAT) as tout:
    for m in tin:
        name = m.name if m.name.startswith(".") else "./" + m.name
        if name.rstrip("/") in want:
            label = want.pop(name.rstrip("/"))
            m.pax_headers["SCHILY.xattr.security.selinux"] = (label.encode() + b"\0").decode("utf-8", "surrogateescape")
        tout.addfile(m, tin.extractfile(m) if m.isreg() else None)
if want:
    sys.exit("not in the tarball: %s" % ", ".join(want))
os.replace(dst, src)
EOF
}

# Only the modules the boot needs, with their dependency closure, then depmod.
install_modules() {
	local m out line path rel dest=$ROOTFS/usr/lib/modules/$KVER
	local -A files=()
	MOD_BUILTIN=() MOD_MISSING=()
	mkdir -p "$dest"
	for m in "${REQUIRED_MODULES[@]}" "${OPTIONAL_MODULES[@]}"; do
		# -C /dev/null: ignore the host's modprobe.d; the kernel's modules.softdep still counts.
		if ! out=$(modprobe -C /dev/null -d "$KROOT" -S "$KVER" --show-depends "$m" 2>/dev/null); then
			if [[ " ${OPTIONAL_MODULES[*]} " == *" $m "* ]]; then
				log "optional module $m not in kernel $KVER: skipped"
				MOD_MISSING+=("$m")
				continue
			fi
			die "module $m is neither a module nor built into kernel $KVER"
		fi
		while read -r line; do
			case "$line" in
			"builtin "*) MOD_BUILTIN+=("${line#builtin }") ;;
			"insmod "*)
				path=${line#insmod }
				path=${path%% *}
				files[$path]=1
				;;
			esac
		done <<<"$out"
	done
	for path in "${!files[@]}"; do
		rel=${path#"$KMODS"/}
		install -D -m 0644 "$path" "$dest/$rel"
	done
	cp "$KMODS"/modules.order "$KMODS"/modules.builtin "$KMODS"/modules.builtin.modinfo "$dest/"
	depmod -b "$ROOTFS" "$KVER"
	# Check the result resolves on its own.
	for m in "${REQUIRED_MODULES[@]}"; do
		modprobe -C /dev/null -d "$ROOTFS" -S "$KVER" --show-depends "$m" >/dev/null 2>&1 ||
			die "module $m does not resolve inside the rootfs"
	done
	MOD_FILES=$(cd "$dest" && find . -name '*.ko*' -printf '%P\n' | LC_ALL=C sort)
	log "$(wc -l <<<"$MOD_FILES") module files ($(du -sh "$dest" | cut -f1)); built in: ${MOD_BUILTIN[*]:-none}"
}

# GNU tar with xattrs (pax SCHILY.xattr.*), numeric owners, sorted, relative ./ names.
pack_rootfs() {
	ROOTFS_UNPACKED_BYTES=$(du -sb "$ROOTFS" | cut -f1)
	tar --xattrs --xattrs-include='*' --numeric-owner --sort=name -C "$ROOTFS" -cf "$SCRATCH/rootfs.tar" .
	if [ "$XATTR_ROUTE" = tar ]; then add_xattrs_to_tar "$SCRATCH/rootfs.tar"; fi
	ROOTFS_TAR_BYTES=$(stat -c %s "$SCRATCH/rootfs.tar")
	gzip -n -c "$SCRATCH/rootfs.tar" >"$TMP_OUT/rootfs.tar.gz"
	ROOTFS_GZ_BYTES=$(stat -c %s "$TMP_OUT/rootfs.tar.gz")
	log "rootfs: $ROOTFS_UNPACKED_BYTES bytes unpacked, tar $ROOTFS_TAR_BYTES, gzip $ROOTFS_GZ_BYTES"
}

# Check the tarball really carries what tests rely on, as read by python's tarfile.
verify_rootfs_tar() {
	ROOTFS_ENTRIES=$("$PY" - "$TMP_OUT/rootfs.tar.gz" "$HARDLINK_A" "$HARDLINK_B" "${XATTR_FIXTURES[@]}" <<'EOF'
import sys, tarfile
tarpath, hl_a, hl_b, *fixtures = sys.argv[1:]
members = {}
with tarfile.open(tarpath, "r:gz") as t:
    for m in t:
        members[m.name] = m
def fail(msg):
    sys.exit("rootfs.tar.gz: " + msg)
bad = [n for n in members if n != "." and not n.startswith("./")]
if bad: fail("entries not relative to ./: %r" % bad[:5])
for d in ("bin", "sbin", "lib", "lib64"):
    m = members.get("./" + d)
    if m is None or not m.issym() or m.linkname != "usr/" + d: fail("./%s is not a symlink to usr/%s" % (d, d))
b = members.get("./" + hl_b)
if b is None or not b.islnk() or b.linkname != "./" + hl_a: fail("./%s is not a hardlink to ./%s" % (hl_b, hl_a))
for spec in fixtures:
    path, label = spec.split("=", 1)
    m = members.get("./" + path)
    if m is None: fail("missing ./" + path)
    got = m.pax_headers.get("SCHILY.xattr.security.selinux")
    if got is None or got.encode("utf-8", "surrogateescape") != label.encode() + b"\0":
        fail("./%s: security.selinux is %r, want %r" % (path, got, label))
for unit in ("tink-worker", "caddy", "fluent-bit", "device-discovery", "emts-testbed-ready"):
    m = members.get("./etc/systemd/system/multi-user.target.wants/%s.service" % unit)
    if m is None or m.linkname != "/usr/lib/systemd/system/%s.service" % unit: fail("%s.service is not enabled" % unit)
print(len(members))
EOF
	)
	# The µOS /init unpacks with busybox tar: make sure the pax headers do not trip it.
	local bbx=$SCRATCH/busybox-untar n
	mkdir "$bbx"
	busybox tar -xzf "$TMP_OUT/rootfs.tar.gz" -C "$bbx"
	n=$(find "$bbx" | wc -l)
	[ "$n" = "$ROOTFS_ENTRIES" ] || die "busybox tar extracted $n entries, the tarball has $ROOTFS_ENTRIES"
	[ "$(stat -c %i "$bbx/$HARDLINK_A")" = "$(stat -c %i "$bbx/$HARDLINK_B")" ] || die "busybox tar broke the hardlink pair"
	[ -L "$bbx/sbin" ] && [ -L "$bbx/sbin/init" ] || die "busybox tar broke /sbin or /sbin/init"
	rm -rf --one-file-system "$bbx"
	log "rootfs.tar.gz: $ROOTFS_ENTRIES entries; xattrs, hardlink and usrmerge checked; busybox tar extracts it"
}

# --- step 3: initramfs variants ------------------------------------------------------

# Copy a dynamic binary and the libraries it loads into the initramfs tree $1.
copy_with_libs() {
	local stage=$1 bin=$2 lib
	install -D -m 0755 "$bin" "$stage/bin/$(basename "$bin")"
	for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
		install -D -m 0755 "$(readlink -f "$lib")" "$stage$lib"
	done
}

# newc cpio of a directory, names without "./", owned by root, sorted.
make_cpio() {
	(cd "$1" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
		cpio --quiet -o -H newc --owner=0:0 --reproducible)
}

make_initramfs() {
	local stage=$SCRATCH/initramfs early=$SCRATCH/early
	mkdir -p "$stage"/{bin,dev,proc,sys,newroot,run,tmp}
	install -m 0755 /bin/busybox "$stage/bin/busybox"
	ln -s busybox "$stage/bin/sh" # the rest: busybox --install -s at boot
	install -m 0755 "$HERE/init" "$stage/init"
	mknod -m 0600 "$stage/dev/console" c 5 1
	# busybox has no zstd applet: carry Debian's zstd so a zstd rootfs still unpacks.
	RD_ROOTFS_FORMATS="gzip xz bzip2 lzma zstd tar"
	if ! busybox --list | grep -x zstd >/dev/null; then
		copy_with_libs "$stage" "$(command -v zstd)"
		chroot "$stage" /bin/zstd -V >/dev/null || die "zstd copied into the initramfs does not run"
	fi
	cp "$TMP_OUT/rootfs.tar.gz" "$stage/rootfs.tar.gz"
	make_cpio "$stage" >"$SCRATCH/initramfs.cpio"

	gzip -n -9 -c "$SCRATCH/initramfs.cpio" >"$TMP_OUT/initramfs-gzip.img"
	zstd -q -15 -T0 -c "$SCRATCH/initramfs.cpio" >"$TMP_OUT/initramfs-zstd.img" # dracut's default level

	# Early-microcode style: an uncompressed cpio, zero padding to 512 bytes, then the main one.
	mkdir -p "$early/kernel/x86/microcode"
	echo 1 >"$early/early_cpio" # dracut marks its early cpio so
	printf 'EMTS-TESTBED dummy microcode, not a real update\n' >"$early/kernel/x86/microcode/GenuineIntel.bin"
	make_cpio "$early" >"$SCRATCH/early.cpio"
	local size pad
	size=$(stat -c %s "$SCRATCH/early.cpio")
	pad=$(((512 - size % 512) % 512))
	head -c "$pad" /dev/zero >>"$SCRATCH/early.cpio"
	EARLY_BYTES=$(stat -c %s "$SCRATCH/early.cpio")
	cat "$SCRATCH/early.cpio" "$TMP_OUT/initramfs-gzip.img" >"$TMP_OUT/initramfs-early.img"
	CPIO_BYTES=$(stat -c %s "$SCRATCH/initramfs.cpio")
	log "initramfs: cpio $CPIO_BYTES bytes; gzip $(stat -c %s "$TMP_OUT/initramfs-gzip.img"), zstd $(stat -c %s "$TMP_OUT/initramfs-zstd.img"), early $(stat -c %s "$TMP_OUT/initramfs-early.img") (early segment $EARLY_BYTES)"
}

# The other form the µOS comes in: the image tarball generate-tink-initramfs.sh consumes. The whole root,
# plus boot/vmlinuz-*, a dracut-style boot/initramfs-*.img (the outer initramfs without rootfs.tar.gz),
# System.map and config, and leftovers in tmp/ that the nesting must drop.
make_uos_tarball() {
	local stage=$SCRATCH/initramfs added=()
	rm -f "$stage/rootfs.tar.gz"
	make_cpio "$stage" | gzip -n -9 >"$SCRATCH/uos-initramfs.img"
	install -m 0644 "$SCRATCH/uos-initramfs.img" "$ROOTFS/boot/initramfs-$KVER.img"
	install -m 0644 "$TMP_OUT/vmlinuz" "$ROOTFS/boot/vmlinuz-$KVER"
	install -m 0644 "$TMP_OUT/kernel-config" "$ROOTFS/boot/config-$KVER"
	printf 'ffffffff81000000 T _text\n' >"$ROOTFS/boot/System.map-$KVER"
	mkdir -p "$ROOTFS/tmp/image-build"
	printf 'left over by the image build\n' >"$ROOTFS/tmp/image-build/leftover.txt"
	added=("boot/initramfs-$KVER.img" "boot/vmlinuz-$KVER" "boot/config-$KVER" "boot/System.map-$KVER" tmp/image-build)
	tar --xattrs --xattrs-include='*' --numeric-owner --sort=name -C "$ROOTFS" -cf "$SCRATCH/uos-image.tar" .
	if [ "$XATTR_ROUTE" = tar ]; then add_xattrs_to_tar "$SCRATCH/uos-image.tar"; fi
	gzip -n -c "$SCRATCH/uos-image.tar" >"$TMP_OUT/uos-image.tar.gz"
	(cd "$ROOTFS" && rm -rf -- "${added[@]}")
	log "uos-image.tar.gz: $(stat -c %s "$TMP_OUT/uos-image.tar.gz") bytes (root + boot/ kernel files + tmp/)"
}

# --- step 4: facts -------------------------------------------------------------------

write_facts() {
	(cd "$TMP_OUT" && sha256sum vmlinuz rootfs.tar.gz initramfs-*.img uos-image.tar.gz >SHA256SUMS.tmp)
	local f
	declare -A sizes
	for f in vmlinuz rootfs.tar.gz initramfs-gzip.img initramfs-zstd.img initramfs-early.img; do
		sizes[$f]=$(stat -c %s "$TMP_OUT/$f")
	done
	KEY="$KEY" KVER="$KVER" KPKG="$KPKG" KPKG_VERSION="$KPKG_VERSION" KMETA_VERSION="$KMETA_VERSION" \
		CMDLINE="$CMDLINE" AGENTS="${AGENTS[*]}" READY_UNIT="$READY_UNIT" MASKED="${MASKED_UNITS[*]}" \
		HOSTNAME_="$TESTBED_HOSTNAME" ABSENT="${ABSENT_PACKAGES[*]}" PKG_COUNT="$PKG_COUNT" \
		UNPACKED="$ROOTFS_UNPACKED_BYTES" TARB="$ROOTFS_TAR_BYTES" GZB="$ROOTFS_GZ_BYTES" ENTRIES="$ROOTFS_ENTRIES" \
		CPIO_BYTES="$CPIO_BYTES" EARLY_BYTES="$EARLY_BYTES" RD_FORMATS="$RD_ROOTFS_FORMATS" \
		SZ_VMLINUZ="${sizes[vmlinuz]}" SZ_GZIP="${sizes[initramfs-gzip.img]}" SZ_ZSTD="${sizes[initramfs-zstd.img]}" \
		SZ_EARLY="${sizes[initramfs-early.img]}" \
		MODS_REQ="${REQUIRED_MODULES[*]}" MODS_OPT="${OPTIONAL_MODULES[*]}" MODS_BUILTIN="${MOD_BUILTIN[*]}" \
		MODS_MISSING="${MOD_MISSING[*]}" MOD_FILES="$MOD_FILES" HL_A="$HARDLINK_A" HL_B="$HARDLINK_B" \
		XATTRS="$(printf '%s\n' "${XATTR_FIXTURES[@]}")" SUITE="$SUITE" \
		"$PY" - >"$TMP_OUT/testbed.json" <<'EOF'
import json, os, sys, time
e = os.environ
words = lambda k: e[k].split()
agents = words("AGENTS")
unpacked, cpio = int(e["UNPACKED"]), int(e["CPIO_BYTES"])
facts = {
    "schema": 1,
    "key": e["KEY"],
    "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "debian_suite": e["SUITE"],
    "kernel": {
        "version": e["KVER"], "package": e["KPKG"], "package_version": e["KPKG_VERSION"],
        "meta_package": "linux-image-amd64", "meta_package_version": e["KMETA_VERSION"],
        "file": "vmlinuz", "config_file": "kernel-config", "bytes": int(e["SZ_VMLINUZ"]),
    },
    "cmdline": e["CMDLINE"],
    "variants": {
        "gzip": {"file": "initramfs-gzip.img", "bytes": int(e["SZ_GZIP"]),
                 "segments": [{"offset": 0, "compression": "gzip"}]},
        "zstd": {"file": "initramfs-zstd.img", "bytes": int(e["SZ_ZSTD"]),
                 "segments": [{"offset": 0, "compression": "zstd"}]},
        "early": {"file": "initramfs-early.img", "bytes": int(e["SZ_EARLY"]),
                  "segments": [{"offset": 0, "compression": "none", "bytes": int(e["EARLY_BYTES"]),
                                "files": ["early_cpio", "kernel/x86/microcode/GenuineIntel.bin"],
                                "note": "padded with zeros to a 512-byte boundary"},
                               {"offset": int(e["EARLY_BYTES"]), "compression": "gzip"}]},
    },
    "variant_files": ["initramfs-gzip.img", "initramfs-zstd.img", "initramfs-early.img"],
    "initramfs": {
        "cpio_bytes": cpio, "format": "newc",
        "rootfs_path": "/rootfs.tar.gz",
        "init": "/init (busybox sh)",
        "rootfs_formats_unpacked_by_init": words("RD_FORMATS"),
        "ram_needed_bytes_estimate": cpio + unpacked,
    },
    "rootfs": {
        "file": "rootfs.tar.gz", "compression": "gzip",
        "compressed_bytes": int(e["GZB"]), "tar_bytes": int(e["TARB"]), "unpacked_bytes": unpacked,
        "entries": int(e["ENTRIES"]),
        "packages": int(e["PKG_COUNT"]), "packages_file": "rootfs-packages.txt",
        "absent_packages": words("ABSENT"),
        "usrmerged_symlinks": {"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64"},
        "hostname": e["HOSTNAME_"],
        "hardlink_fixture": ["./" + e["HL_A"], "./" + e["HL_B"]],
        "notes": [
            "entries are named ./...; GNU tar gives directory entries a trailing /",
            "the hardlink-b entry is a tar hardlink (type 1) to hardlink-a and carries no xattrs itself: the label is on hardlink-a's entry (one inode)",
            "xattrs are pax records SCHILY.xattr.<name>; /var/log/journal also carries system.posix_acl_* records",
            "busybox tar in /init ignores xattrs: the booted test bed has no labels, only the tarball does",
        ],
        "xattr_fixtures": [
            {"path": "./" + p, "name": "security.selinux", "value": v, "nul_terminated": True}
            for p, v in (l.split("=", 1) for l in e["XATTRS"].splitlines())
        ],
    },
    "units": {
        "agents": [a + ".service" for a in agents],
        "ready": e["READY_UNIT"],
        "masked": words("MASKED"),
        "unit_dir": "/usr/lib/systemd/system",
        "wants_dir": "/etc/systemd/system/multi-user.target.wants",
    },
    "markers": {
        "init_unpacked": "EMTS-INIT rootfs unpacked",
        "init_error_prefix": "EMTS-INIT-ERROR",
        "agent_started": {a + ".service": "EMTS-AGENT-STARTED " + a for a in agents},
        "modules": "EMTS-TESTBED-MODULES nbd=yes",
        "modules_no": "EMTS-TESTBED-MODULES nbd=no",
        "ready": "EMTS-TESTBED-READY multi-user",
    },
    "modules": {
        "requested": words("MODS_REQ"), "optional": words("MODS_OPT"),
        "builtin": words("MODS_BUILTIN"), "missing_optional": words("MODS_MISSING"),
        "files": e["MOD_FILES"].split("\n"),
    },
    "qemu": {
        "machine": "q35", "accel": "tcg", "memory_mib": 2048, "smp": 1,
        "note": "KVM does not work on this machine: always -accel tcg",
    },
}
json.dump(facts, sys.stdout, indent=2)
print()
EOF
	mv "$TMP_OUT/SHA256SUMS.tmp" "$TMP_OUT/SHA256SUMS"
}

# --- verification and publishing -----------------------------------------------------

verify_boot() {
	local dir=$1 rc=0
	log "booting the variants under TCG (two VMs at a time) ..."
	"$HERE/boot.sh" --check --dir "$dir" gzip &
	local p1=$!
	"$HERE/boot.sh" --check --dir "$dir" zstd &
	local p2=$!
	wait "$p1" || rc=1
	wait "$p2" || rc=1
	"$HERE/boot.sh" --check --dir "$dir" early || rc=1
	[ "$rc" = 0 ] || die "boot verification failed (see the logs above)"
}

# Leftovers of killed builds (<key>.tmp.<pid>, <key>.old.<pid> whose pid is gone); --prune: old keys.
clean_cache() {
	local d pid
	for d in "$CACHE_DIR"/*.tmp.* "$CACHE_DIR"/*.old.*; do
		[ -d "$d" ] || continue
		pid=${d##*.}
		if ! kill -0 "$pid" 2>/dev/null; then
			log "removing leftover $d"
			umount_below "$d"
			rm -rf --one-file-system "$d"
		fi
	done
	if [ "$PRUNE" = 1 ]; then
		for d in "$CACHE_DIR"/????????????????; do
			[ -d "$d" ] && [ "$d" != "$OUT" ] || continue
			log "pruning old test bed $d"
			rm -rf --one-file-system "$d"
		done
	fi
}

publish() {
	# Another build (or --force) may have produced it meanwhile: replace atomically enough.
	if [ -e "$OUT" ]; then
		local old=$OUT.old.$$
		mv -T "$OUT" "$old"
		mv -T "$TMP_OUT" "$OUT"
		rm -rf --one-file-system "$old"
	else
		mv -T "$TMP_OUT" "$OUT"
	fi
	TMP_OUT=
}

build() {
	TMP_OUT=$OUT.tmp.$$
	rm -rf --one-file-system "$TMP_OUT"
	mkdir -p "$TMP_OUT"
	SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/emts-testbed.XXXXXX")
	step kernel fetch_kernel
	step rootfs make_rootfs
	step rootfs-check check_rootfs_packages
	step rootfs-configure configure_rootfs
	step rootfs-modules install_modules
	step rootfs-pack pack_rootfs
	step rootfs-verify verify_rootfs_tar
	step initramfs make_initramfs
	step uos-tarball make_uos_tarball
	step facts write_facts
	if [ "$VERIFY" = 1 ]; then step boot-verify verify_boot "$TMP_OUT"; fi
	publish
	rm -rf --one-file-system "$SCRATCH"
	SCRATCH=
}

main() {
	parse_args "$@"
	check_host
	kernel_meta_candidate
	compute_key
	mkdir -p "$CACHE_DIR"
	if [ "$FORCE" = 0 ] && is_complete "$OUT"; then
		log "reusing $OUT (key $KEY)"
	else
		# One build at a time per cache: a second caller waits, then reuses the result.
		exec 9>"$CACHE_DIR/.lock"
		if ! flock -n 9; then
			log "another test bed build is running: waiting for it"
			flock 9
		fi
		clean_cache
		if [ "$FORCE" = 0 ] && is_complete "$OUT"; then
			log "reusing $OUT (built meanwhile)"
		else
			log "building $OUT (key $KEY, linux-image-amd64 $KMETA_VERSION)"
			build
			log "built $OUT in $((SECONDS - T0)) s"
			VERIFY=${VERIFY/1/done}
		fi
	fi
	if [ "$VERIFY" = 1 ]; then step boot-verify verify_boot "$OUT"; fi
	echo "$OUT" >&3
}

main "$@"
