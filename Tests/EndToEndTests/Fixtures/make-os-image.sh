#!/bin/bash
# Build (and cache) an "EMT-like OS raw image" from the test bed's Debian pieces: what install-os
# writes to a disk in the end-to-end tests (see /work/shared/design.md, sections 6 and 8).
#
#   Tests/EndToEndTests/Fixtures/make-os-image.sh [--force] [--prune] [--packages DIR] TESTBED_DIR
#
# TESTBED_DIR: a test bed from testbed/build.sh (vmlinuz, kernel-version, rootfs.tar.gz).
# --packages DIR: .deb files (from fetch-packages.sh) unpacked into the root as well, e.g. lvm2 and
# cryptsetup-bin so that the installed OS can show its storage layout (not registered with dpkg).
# Output: ${EMTS_CACHE:-/var/cache/emts-iso}/os-image/<key>/ with
#   emt-os.raw.gz         the 512 MiB GPT disk image, gzip -n
#   emt-os.raw.gz.sha256  "<hex>  emt-os.raw.gz" (sha256sum format)
#   os-image.json         facts: sizes, partitions, markers, hostname, kernel command line
# <key> = first 16 hex of sha256 over this script, every file in os-image/, and the sha256 of the
# test bed's vmlinuz and rootfs.tar.gz and of the host's systemd-boot EFI binary (and the names of the
# --packages files).
#
# The image, like EMT's:
#   p1 "esp"             EF00  64 MiB  FAT32 "ESP": EFI/BOOT/BOOTX64.EFI (systemd-boot), loader/loader.conf,
#                                      loader/entries/emt.conf, /vmlinuz (test bed kernel), /initrd.img
#   p2 "rootfs"          8300 320 MiB  ext4 "rootfs": the test bed rootfs without the agents and the test
#                                      bed ready unit; hostname emt-installed; emts-os-ready.service
#   p3 "edge_persistent" 8300  rest    ext4 "edge_persistent", empty
# /initrd.img: busybox-static + os-image/init + the storage/USB/ext4 modules; finds PARTLABEL=rootfs.
# Serial console markers: "EMTS-OS-INITRD root=<dev>" (or "EMTS-OS-INITRD-ERROR <reason>"), then after
# multi-user.target "EMTS-OS-DISKS", "EMTS-OS-LSBLK <lsblk line>"..., and
# "EMTS-OS-BOOTED hostname=emt-installed root=<dev>"; then the OS powers off.
# No mounts and no loop devices: mkfs.ext4 -d, mtools and dd at partition offsets.
#
# Logs go to stderr; the LAST line of stdout is the absolute output directory:
#   dir=$(Tests/EndToEndTests/Fixtures/make-os-image.sh "$testbed" | tail -1)
#
#   --force   rebuild even if the keyed directory exists
#   --prune   remove the cache's other (older) keyed OS image directories
#
# Environment: EMTS_CACHE (cache root).
set -Eeuo pipefail
umask 022

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF=$HERE/$(basename "${BASH_SOURCE[0]}")
FIXTURE_DIR=$HERE/os-image
CACHE_DIR=${EMTS_CACHE:-/var/cache/emts-iso}/os-image
SDBOOT_EFI=/usr/lib/systemd/boot/efi/systemd-bootx64.efi

MIB=1048576
SECTOR=512
RAW_MIB=512
ESP_MIB=64
ROOT_MIB=320
PERSIST_MIN_MIB=64
OS_HOSTNAME=emt-installed
CMDLINE="root=PARTLABEL=rootfs rw console=ttyS0,115200n8 panic=-1"
ESP_LABEL=ESP
TYPE_ESP=C12A7328-F81F-11D2-BA4B-00A0C93EC93B   # sgdisk EF00
TYPE_LINUX=0FC63DAF-8483-4772-8E79-3D69D8477DE4 # sgdisk 8300
# Test bed units the installed OS must not start (enablement links removed).
REMOVED_WANTS=(tink-worker.service caddy.service fluent-bit.service device-discovery.service
	emts-testbed-ready.service)
READY_UNIT=emts-os-ready.service
READY_SCRIPT=/usr/libexec/emts-os-ready
MASKED_UNITS=(serial-getty@ttyS0.service)
# The initrd must see an NVMe, SATA (AHCI), virtio or USB (xhci + usb-storage/uas) disk and mount ext4.
INITRD_MODULES=(nvme ahci sd_mod virtio_blk virtio_scsi virtio_pci xhci_pci usb-storage uas ext4 crc32c)
BUSYBOX_APPLETS=(sh mkdir mount insmod sleep switch_root cat ls tr sync)
OUTPUT_FILES=(emt-os.raw.gz emt-os.raw.gz.sha256 os-image.json)

FORCE=0 PRUNE=0 TESTBED= PACKAGES=
SCRATCH= TMP_OUT= STEP= T0=$SECONDS

# --- logging and cleanup -------------------------------------------------------

# stdout is reserved for the final path: everything else goes to stderr.
exec 3>&1 1>&2

log() { printf '%s os-image: %s\n' "$(date '+%F %T')" "$*" >&2; }
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
	# Children get neither the real stdout (fd 3) nor the lock (fd 9).
	"$@" 3>&- 9>&-
	log "step $name done ($((SECONDS - t)) s)"
}

cleanup() {
	local rc=$?
	trap - ERR
	set +e
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
		--prune) PRUNE=1 ;;
		--packages)
			[ $# -ge 2 ] && [ -d "$2" ] || die "--packages takes a directory of .deb files"
			PACKAGES=$(cd "$2" && pwd)
			shift
			;;
		-h | --help)
			sed -n '2,/^set -E/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"
			exit 0
			;;
		-*) die "unknown option: $1 (try --help)" ;;
		*)
			[ -z "$TESTBED" ] || die "one TESTBED_DIR only (try --help)"
			TESTBED=$1
			;;
		esac
		shift
	done
	[ -n "$TESTBED" ] || die "usage: make-os-image.sh [--force] [--prune] [--packages DIR] TESTBED_DIR"
	[ -d "$TESTBED" ] || die "no test bed directory $TESTBED"
	TESTBED=$(cd "$TESTBED" && pwd)
	local f
	for f in vmlinuz kernel-version rootfs.tar.gz; do
		[ -s "$TESTBED/$f" ] || die "test bed $TESTBED has no $f (build it with testbed/build.sh)"
	done
	KVER=$(cat "$TESTBED/kernel-version")
	[ -n "$KVER" ] || die "$TESTBED/kernel-version is empty"
}

check_host() {
	[ "$(id -u)" = 0 ] || die "must run as root (tar -p keeps the rootfs owners, mknod /dev/console)"
	local spec missing=() pkgs=()
	# command:package
	for spec in sgdisk:gdisk mkfs.ext4:e2fsprogs e2fsck:e2fsprogs mkfs.vfat:dosfstools fsck.vfat:dosfstools \
		mcopy:mtools mmd:mtools mtype:mtools dumpe2fs:e2fsprogs modprobe:kmod cpio:cpio gzip:gzip tar:tar python3:python3 flock:util-linux \
		sha256sum:coreutils truncate:coreutils dd:coreutils mknod:coreutils ldd:libc-bin cmp:diffutils; do
		if ! command -v "${spec%%:*}" >/dev/null; then
			missing+=("${spec%%:*}")
			pkgs+=("${spec#*:}")
		fi
	done
	if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
		# The initrd has no libc: busybox must be the static build.
		missing+=("static /bin/busybox")
		pkgs+=(busybox-static)
	fi
	if [ ! -f "$SDBOOT_EFI" ]; then
		missing+=("$SDBOOT_EFI")
		pkgs+=(systemd-boot-efi)
	fi
	[ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]} (apt-get install $(printf '%s\n' "${pkgs[@]}" | sort -u | tr '\n' ' '))"
	# Read the list once: "busybox --list | grep -q" under pipefail fails when grep quits early (SIGPIPE).
	local a applets
	applets=$(/bin/busybox --list)
	for a in "${BUSYBOX_APPLETS[@]}"; do
		grep -qx "$a" <<<"$applets" || die "/bin/busybox has no $a applet"
	done
	# Prefer the system python (pyenv shims may pick another one).
	PY=$(command -v /usr/bin/python3 || command -v python3)
}

sha256_of() { sha256sum <"$1" | cut -d' ' -f1; }

compute_key() {
	VMLINUZ_SHA=$(sha256_of "$TESTBED/vmlinuz")
	ROOTFS_SHA=$(sha256_of "$TESTBED/rootfs.tar.gz")
	SDBOOT_SHA=$(sha256_of "$SDBOOT_EFI")
	KEY=$({
		printf 'script %s\n' "$(sha256_of "$SELF")"
		(cd "$FIXTURE_DIR" && find . -type f -print0 | LC_ALL=C sort -z | while IFS= read -r -d '' f; do
			printf 'file %s %s\n' "$f" "$(sha256sum <"$f" | cut -d' ' -f1)"
		done)
		printf 'vmlinuz %s\nrootfs.tar.gz %s\nsystemd-boot %s\n' "$VMLINUZ_SHA" "$ROOTFS_SHA" "$SDBOOT_SHA"
		if [ -n "$PACKAGES" ]; then (cd "$PACKAGES" && ls -1 -- *.deb | LC_ALL=C sort | sed 's/^/package /'); fi
	} | sha256sum | cut -c1-16)
	OUT=$CACHE_DIR/$KEY
}

is_complete() {
	local d=$1 f
	[ -d "$d" ] || return 1
	for f in "${OUTPUT_FILES[@]}"; do [ -s "$d/$f" ] || return 1; done
	grep -q "\"key\": \"$KEY\"" "$d/os-image.json"
}

# --- step 1: root filesystem ---------------------------------------------------------

unpack_rootfs() {
	ROOTFS=$SCRATCH/rootfs
	mkdir "$ROOTFS"
	# As root: owners kept (numeric), modes kept; security.* xattrs too (mkfs.ext4 -d copies them).
	tar --numeric-owner --xattrs --xattrs-include='security.*' -xpzf "$TESTBED/rootfs.tar.gz" -C "$ROOTFS"
	[ -L "$ROOTFS/sbin/init" ] || [ -e "$ROOTFS/sbin/init" ] || die "the test bed rootfs has no /sbin/init"
	[ -d "$ROOTFS/usr/lib/modules/$KVER" ] || die "the test bed rootfs has no usr/lib/modules/$KVER"
	ROOTFS_BYTES=$(du -sb "$ROOTFS" | cut -f1)
	log "rootfs unpacked: $ROOTFS_BYTES bytes"
}

configure_rootfs() {
	local wants=$ROOTFS/etc/systemd/system/multi-user.target.wants unit removed=()
	for unit in "${REMOVED_WANTS[@]}"; do
		if [ -L "$wants/$unit" ] || [ -e "$wants/$unit" ]; then
			rm -f "$wants/$unit"
			removed+=("$unit")
		else
			log "warning: $unit was not enabled in the test bed rootfs"
		fi
	done
	log "disabled: ${removed[*]:-nothing}"

	# Rewritten in place: the test bed's security.selinux label on /etc/hostname stays.
	echo "$OS_HOSTNAME" >"$ROOTFS/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
		"$OS_HOSTNAME" >"$ROOTFS/etc/hosts"
	# The initrd mounts / read-write already: systemd only remounts it (fsck is skipped on a rw root).
	printf '# EMT-like OS image (test fixture)\nPARTLABEL=rootfs / ext4 defaults 0 1\n' >"$ROOTFS/etc/fstab"
	chmod 0644 "$ROOTFS/etc/hostname" "$ROOTFS/etc/hosts" "$ROOTFS/etc/fstab"

	install -D -m 0644 "$FIXTURE_DIR/$READY_UNIT" "$ROOTFS/usr/lib/systemd/system/$READY_UNIT"
	install -D -m 0755 "$FIXTURE_DIR/emts-os-ready" "$ROOTFS$READY_SCRIPT"
	mkdir -p "$wants"
	ln -sfn "/usr/lib/systemd/system/$READY_UNIT" "$wants/$READY_UNIT"
	# A login prompt on ttyS0 would interleave with the markers (the test bed masks it already).
	for unit in "${MASKED_UNITS[@]}"; do
		if [ "$(readlink "$ROOTFS/etc/systemd/system/$unit" 2>/dev/null)" != /dev/null ]; then
			log "masking $unit"
			ln -sfn /dev/null "$ROOTFS/etc/systemd/system/$unit"
		fi
	done
	# systemd-gpt-auto-generator would automount the ESP on /boot (systemd-boot tells it the boot
	# partition) and fail: vfat's default iocharset=ascii needs nls_ascii, which the test bed lacks.
	# The image mounts nothing but / (as the fstab says): switch the generator off.
	mkdir -p "$ROOTFS/etc/systemd/system-generators"
	ln -sfn /dev/null "$ROOTFS/etc/systemd/system-generators/systemd-gpt-auto-generator"
	# /etc/machine-id stays as the test bed has it (empty: a transient id at every boot).
}

# The --packages .debs, unpacked over the root; the usrmerge links (/bin -> usr/bin ...) are kept.
inject_packages() {
	local deb count=0
	for deb in "$PACKAGES"/*.deb; do
		[ -f "$deb" ] || continue
		dpkg-deb --fsys-tarfile "$deb" | tar -x --keep-directory-symlink --numeric-owner -p -C "$ROOTFS"
		count=$((count + 1))
	done
	[ "$count" -gt 0 ] || die "--packages $PACKAGES holds no .deb files"
	for link in bin sbin lib; do
		[ -L "$ROOTFS/$link" ] || die "unpacking the packages replaced the /$link link"
	done
	log "unpacked $count packages from $PACKAGES"
}

# --- step 2: initrd ------------------------------------------------------------------

# newc cpio of a directory, names without "./", owned by root, sorted.
make_cpio() {
	(cd "$1" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
		cpio --quiet -o -H newc --owner=0:0 --reproducible)
}

make_initrd() {
	local stage=$SCRATCH/initrd kmods=$ROOTFS/usr/lib/modules/$KVER m out line path rel dst
	local -A seen=()
	INITRD_KOS=() INITRD_BUILTIN=() COMPRESSED_KOS=0
	mkdir -p "$stage"/{bin,dev,proc,sys,run,tmp,newroot,lib/modules}
	install -m 0755 /bin/busybox "$stage/bin/busybox"
	ln -s busybox "$stage/bin/sh" # the rest: busybox --install -s at boot
	install -m 0755 "$FIXTURE_DIR/init" "$stage/init"
	mknod -m 0600 "$stage/dev/console" c 5 1

	# Dependency closure, dependencies first (softdeps included), as modprobe would load them.
	: >"$stage/lib/modules/load-order"
	for m in "${INITRD_MODULES[@]}"; do
		out=$(modprobe -C /dev/null -d "$ROOTFS" -S "$KVER" --show-depends "$m" 2>&1) ||
			die "module $m does not resolve in the test bed rootfs: $out"
		while read -r line; do
			case "$line" in
			"builtin "*) INITRD_BUILTIN+=("${line#builtin }") ;;
			"insmod "*)
				path=${line#insmod }
				path=${path%% *}
				rel=${path#*/lib/modules/"$KVER"/}
				[ -f "$kmods/$rel" ] || die "modprobe named $path, not under usr/lib/modules/$KVER"
				[ -z "${seen[$rel]:-}" ] || continue
				seen[$rel]=1
				# busybox insmod hands the file to the kernel as is: store plain .ko files.
				dst=${rel%.xz}
				dst=${dst%.zst}
				dst=${dst%.gz}
				mkdir -p "$(dirname "$stage/lib/modules/$dst")"
				case "$rel" in
				*.ko) cp "$kmods/$rel" "$stage/lib/modules/$dst" ;;
				*.ko.xz)
					command -v xz >/dev/null || die "$rel is xz-compressed: apt-get install xz-utils"
					xz -dc "$kmods/$rel" >"$stage/lib/modules/$dst"
					;;
				*.ko.zst)
					command -v zstd >/dev/null || die "$rel is zstd-compressed: apt-get install zstd"
					zstd -dcq "$kmods/$rel" >"$stage/lib/modules/$dst"
					;;
				*.ko.gz) gzip -dc "$kmods/$rel" >"$stage/lib/modules/$dst" ;;
				*) die "unexpected module file $rel" ;;
				esac
				[ "$dst" = "$rel" ] || COMPRESSED_KOS=$((COMPRESSED_KOS + 1))
				echo "$dst" >>"$stage/lib/modules/load-order"
				INITRD_KOS+=("$dst")
				;;
			esac
		done <<<"$out"
	done
	[ ${#INITRD_KOS[@]} -gt 0 ] || die "no module files for the initrd"
	make_cpio "$stage" | gzip -n -9 >"$SCRATCH/initrd.img"
	INITRD_BYTES=$(stat -c %s "$SCRATCH/initrd.img")
	log "initrd: ${#INITRD_KOS[@]} modules ($COMPRESSED_KOS decompressed), built in: ${INITRD_BUILTIN[*]:-none}; $INITRD_BYTES bytes"
}

# --- step 3: filesystems ---------------------------------------------------------------

make_esp() {
	ESP_IMG=$SCRATCH/esp.img
	local conf=$SCRATCH/esp-conf p
	mkdir -p "$conf"
	printf 'default emt.conf\ntimeout 0\neditor no\n' >"$conf/loader.conf"
	printf 'title Edge Microvisor Toolkit (test fixture)\nlinux /vmlinuz\ninitrd /initrd.img\noptions %s\n' \
		"$CMDLINE" >"$conf/emt.conf"
	ESP_VOLID=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
	truncate -s $((ESP_MIB * MIB)) "$ESP_IMG"
	mkfs.vfat -F 32 -n "$ESP_LABEL" -i "$ESP_VOLID" "$ESP_IMG" >/dev/null
	# mtools carry on after "Disk full" on a too-small FAT: check each exit status and read every file back.
	export MTOOLS_SKIP_CHECK=1
	for p in ::/EFI ::/EFI/BOOT ::/loader ::/loader/entries; do
		mmd -i "$ESP_IMG" "$p" || die "mmd $p failed"
	done
	ESP_FILES=(
		"$SDBOOT_EFI=/EFI/BOOT/BOOTX64.EFI"
		"$conf/loader.conf=/loader/loader.conf"
		"$conf/emt.conf=/loader/entries/emt.conf"
		"$TESTBED/vmlinuz=/vmlinuz"
		"$SCRATCH/initrd.img=/initrd.img"
	)
	local spec src dst
	for spec in "${ESP_FILES[@]}"; do
		src=${spec%%=*} dst=${spec#*=}
		mcopy -i "$ESP_IMG" -o "$src" "::$dst" || die "mcopy $src -> $dst failed"
	done
	for spec in "${ESP_FILES[@]}"; do
		src=${spec%%=*} dst=${spec#*=}
		mtype -i "$ESP_IMG" "::$dst" | cmp -s - "$src" || die "ESP $dst does not read back as $src (FAT full?)"
	done
	fsck.vfat -n "$ESP_IMG" >/dev/null || die "fsck.vfat finds errors in the ESP"
	log "ESP: ${#ESP_FILES[@]} files written and read back; volume id $ESP_VOLID"
}

make_ext4() {
	local img=$1 label=$2 bytes=$3 uuid=$4 dir=${5:-}
	truncate -s "$bytes" "$img"
	# -T default: 4 KiB blocks as on a real disk (mke2fs would pick 1 KiB "small" for < 512 MiB).
	mkfs.ext4 -q -T default -L "$label" -U "$uuid" ${dir:+-d "$dir"} "$img" >&2
	e2fsck -fn "$img" >/dev/null 2>&1 || die "e2fsck finds errors in the $label filesystem"
}

make_rootfs_fs() {
	ROOT_UUID=$(cat /proc/sys/kernel/random/uuid)
	ROOT_IMG=$SCRATCH/rootfs.ext4
	make_ext4 "$ROOT_IMG" rootfs $((ROOT_MIB * MIB)) "$ROOT_UUID" "$ROOTFS"
	# Intermediates go as soon as they are used: deleted before the page cache writes them back
	# (30 s), they cost nothing; deleted after, each file costs a discard on a "discard"-mounted
	# /tmp (10 s for the rootfs tree here).
	rm -rf --one-file-system "$ROOTFS" "$SCRATCH/initrd"
	ROOT_FREE=$(dumpe2fs -h "$ROOT_IMG" 2>/dev/null | awk -F: '/^Free blocks/ { f = $2 } /^Block size/ { b = $2 } END { print f * b }')
	log "rootfs ext4: $ROOT_MIB MiB, $ROOT_FREE bytes free"
}

# --- step 4: disk ---------------------------------------------------------------------

# Read the GPT of $1 back (independently of sgdisk) and print a JSON object.
read_gpt() {
	"$PY" - "$1" <<'EOF'
import json, struct, sys, uuid, zlib
path = sys.argv[1]
with open(path, "rb") as f:
    f.seek(512)
    hdr = f.read(92)
    sig, rev, hsize, hcrc, _, cur, backup, first, last, dguid, ent_lba, nent, esize, ecrc = \
        struct.unpack("<8sIIIIQQQQ16sQIII", hdr)
    assert sig == b"EFI PART", "no GPT header"
    assert zlib.crc32(hdr[:16] + b"\0\0\0\0" + hdr[20:hsize]) == hcrc, "GPT header CRC"
    f.seek(ent_lba * 512)
    ents = f.read(nent * esize)
    assert zlib.crc32(ents) == ecrc, "GPT entries CRC"
    f.seek(0, 2)
    total = f.tell()
parts = []
for i in range(nent):
    e = ents[i * esize:(i + 1) * esize]
    tguid, pguid, s, l, attrs = struct.unpack("<16s16sQQQ", e[:56])
    if tguid == b"\0" * 16:
        continue
    parts.append({
        "number": i + 1,
        "name": e[56:128].decode("utf-16-le").rstrip("\0"),
        "type_guid": str(uuid.UUID(bytes_le=tguid)).upper(),
        "partition_guid": str(uuid.UUID(bytes_le=pguid)).upper(),
        "first_lba": s, "last_lba": l,
        "start_bytes": s * 512, "size_bytes": (l - s + 1) * 512,
    })
json.dump({"raw_bytes": total, "disk_guid": str(uuid.UUID(bytes_le=dguid)).upper(),
           "first_usable_lba": first, "last_usable_lba": last, "backup_header_lba": backup,
           "partitions": parts}, sys.stdout)
EOF
}

make_disk() {
	RAW=$SCRATCH/emt-os.raw
	local esp_start=$((MIB / SECTOR)) esp_end root_start root_end persist_start
	esp_end=$((esp_start + ESP_MIB * MIB / SECTOR - 1))
	root_start=$((esp_end + 1))
	root_end=$((root_start + ROOT_MIB * MIB / SECTOR - 1))
	persist_start=$((root_end + 1))
	truncate -s $((RAW_MIB * MIB)) "$RAW"
	# p3 ends at the last usable sector (sgdisk's 0 = the rest, before the backup GPT).
	# sgdisk's chatter (and its "kernel is still using the old partition table") only on failure.
	local out
	out=$(sgdisk -a 2048 \
		-n "1:$esp_start:$esp_end" -t 1:EF00 -c 1:esp \
		-n "2:$root_start:$root_end" -t 2:8300 -c 2:rootfs \
		-n "3:$persist_start:0" -t 3:8300 -c 3:edge_persistent \
		"$RAW" 2>&1) || die "sgdisk failed: $out"
	GPT_JSON=$(read_gpt "$RAW")
	# Check the table is what we asked for; learn p3's size from it.
	local facts
	facts=$("$PY" - "$GPT_JSON" "$MIB" "$ESP_MIB" "$ROOT_MIB" "$PERSIST_MIN_MIB" "$TYPE_ESP" "$TYPE_LINUX" <<'EOF'
import json, sys
g = json.loads(sys.argv[1])
mib, esp, root, pmin = (int(x) for x in sys.argv[2:6])
t_esp, t_linux = sys.argv[6:8]
p = g["partitions"]
want = [("esp", t_esp, esp * mib), ("rootfs", t_linux, root * mib), ("edge_persistent", t_linux, None)]
if len(p) != 3: sys.exit("expected 3 partitions, got %d" % len(p))
for (name, t, size), q in zip(want, p):
    if q["name"] != name or q["type_guid"] != t: sys.exit("partition %d: %s %s" % (q["number"], q["name"], q["type_guid"]))
    if q["start_bytes"] % mib: sys.exit("partition %s is not 1 MiB aligned" % name)
    if size is not None and q["size_bytes"] != size: sys.exit("partition %s is %d bytes" % (name, q["size_bytes"]))
if p[2]["size_bytes"] < pmin * mib: sys.exit("edge_persistent is only %d bytes" % p[2]["size_bytes"])
if p[2]["last_lba"] != g["last_usable_lba"]: sys.exit("edge_persistent does not end at the last usable sector")
print(p[0]["start_bytes"], p[1]["start_bytes"], p[2]["start_bytes"], p[2]["size_bytes"])
EOF
	) || die "the partition table is not as intended"
	read -r ESP_OFF ROOT_OFF PERSIST_OFF PERSIST_BYTES <<<"$facts"

	PERSIST_UUID=$(cat /proc/sys/kernel/random/uuid)
	PERSIST_IMG=$SCRATCH/persist.ext4
	# A whole number of 4 KiB blocks (the partition ends 17 KiB before the backup GPT).
	make_ext4 "$PERSIST_IMG" edge_persistent $((PERSIST_BYTES / 4096 * 4096)) "$PERSIST_UUID"

	local img off
	for img in "$ESP_IMG:$ESP_OFF" "$ROOT_IMG:$ROOT_OFF" "$PERSIST_IMG:$PERSIST_OFF"; do
		off=${img##*:} img=${img%:*}
		dd if="$img" of="$RAW" bs=1M seek=$((off / MIB)) conv=notrunc,sparse status=none
		rm -f "$img"
	done
	[ "$(stat -c %s "$RAW")" = $((RAW_MIB * MIB)) ] || die "the raw image grew past $RAW_MIB MiB"
	# The table must have survived (the file systems fit their partitions).
	[ "$(read_gpt "$RAW")" = "$GPT_JSON" ] || die "the GPT changed while the file systems were written"
	log "disk: p1 esp @$ESP_OFF, p2 rootfs @$ROOT_OFF, p3 edge_persistent @$PERSIST_OFF ($PERSIST_BYTES bytes)"
}

compress() {
	RAW_SHA=$(sha256_of "$RAW")
	local alloc_kib
	alloc_kib=$(du -k "$RAW" | cut -f1)
	gzip -n -6 -c "$RAW" >"$TMP_OUT/emt-os.raw.gz"
	rm -f "$RAW"
	GZ_SHA=$(sha256_of "$TMP_OUT/emt-os.raw.gz")
	printf '%s  emt-os.raw.gz\n' "$GZ_SHA" >"$TMP_OUT/emt-os.raw.gz.sha256"
	GZ_BYTES=$(stat -c %s "$TMP_OUT/emt-os.raw.gz")
	log "emt-os.raw.gz: $GZ_BYTES bytes (raw $((RAW_MIB * MIB)), $alloc_kib KiB allocated)"
}

# --- step 5: facts ---------------------------------------------------------------------

write_facts() {
	KEY="$KEY" GPT_JSON="$GPT_JSON" TESTBED="$TESTBED" KVER="$KVER" VMLINUZ_SHA="$VMLINUZ_SHA" \
		ROOTFS_SHA="$ROOTFS_SHA" SDBOOT_SHA="$SDBOOT_SHA" SDBOOT_EFI="$SDBOOT_EFI" RAW_SHA="$RAW_SHA" \
		GZ_SHA="$GZ_SHA" GZ_BYTES="$GZ_BYTES" CMDLINE="$CMDLINE" OS_HOSTNAME="$OS_HOSTNAME" \
		ESP_VOLID="$ESP_VOLID" ESP_LABEL="$ESP_LABEL" ROOT_UUID="$ROOT_UUID" PERSIST_UUID="$PERSIST_UUID" \
		ROOT_FREE="$ROOT_FREE" ROOTFS_BYTES="$ROOTFS_BYTES" INITRD_BYTES="$INITRD_BYTES" \
		INITRD_KOS="${INITRD_KOS[*]}" INITRD_MODULES="${INITRD_MODULES[*]}" INITRD_BUILTIN="${INITRD_BUILTIN[*]}" \
		REMOVED="${REMOVED_WANTS[*]}" READY_UNIT="$READY_UNIT" READY_SCRIPT="$READY_SCRIPT" \
		MASKED="${MASKED_UNITS[*]}" ESP_FILES="$(printf '%s\n' "${ESP_FILES[@]#*=}")" \
		"$PY" - >"$TMP_OUT/os-image.json" <<'EOF'
import json, os, sys, time
e = os.environ
words = lambda k: e[k].split()
g = json.loads(e["GPT_JSON"])
fs = {
    "esp": {"filesystem": "vfat", "fat_bits": 32, "label": e["ESP_LABEL"],
            "uuid": "%s-%s" % (e["ESP_VOLID"][:4].upper(), e["ESP_VOLID"][4:].upper()),
            "files": e["ESP_FILES"].split("\n")},
    "rootfs": {"filesystem": "ext4", "label": "rootfs", "uuid": e["ROOT_UUID"], "free_bytes": int(e["ROOT_FREE"])},
    "edge_persistent": {"filesystem": "ext4", "label": "edge_persistent", "uuid": e["PERSIST_UUID"], "empty": True},
}
type_codes = {"C12A7328-F81F-11D2-BA4B-00A0C93EC93B": "EF00", "0FC63DAF-8483-4772-8E79-3D69D8477DE4": "8300"}
parts = []
for p in g["partitions"]:
    p = dict(p)
    p["type_code"] = type_codes.get(p["type_guid"], "")
    p.update(fs[p["name"]])
    parts.append(p)
host = e["OS_HOSTNAME"]
facts = {
    "schema": 1,
    "key": e["KEY"],
    "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "image": {
        "file": "emt-os.raw.gz", "compression": "gzip", "gz_bytes": int(e["GZ_BYTES"]), "gz_sha256": e["GZ_SHA"],
        "sha256_file": "emt-os.raw.gz.sha256",
        "raw_bytes": g["raw_bytes"], "raw_sha256": e["RAW_SHA"], "sector_bytes": 512,
    },
    "gpt": {k: g[k] for k in ("disk_guid", "first_usable_lba", "last_usable_lba", "backup_header_lba")},
    "partitions": parts,
    "boot": {
        "loader": "systemd-boot", "loader_path": "/EFI/BOOT/BOOTX64.EFI (removable path; no NVRAM entry)",
        "loader_source": e["SDBOOT_EFI"], "loader_sha256": e["SDBOOT_SHA"],
        "loader_conf": "default emt.conf / timeout 0 / editor no", "entry": "/loader/entries/emt.conf",
        "kernel": "/vmlinuz", "kernel_version": e["KVER"], "initrd": "/initrd.img",
        "initrd_bytes": int(e["INITRD_BYTES"]),
        "initrd_modules_requested": words("INITRD_MODULES"),
        "initrd_module_files": words("INITRD_KOS"),
        "initrd_modules_builtin": words("INITRD_BUILTIN"),
    },
    "cmdline": e["CMDLINE"],
    "hostname": host,
    "rootfs": {
        "source": "test bed rootfs.tar.gz", "unpacked_bytes": int(e["ROOTFS_BYTES"]),
        "fstab": "PARTLABEL=rootfs / ext4 defaults 0 1",
        "disabled_units": words("REMOVED"),
        "ready_unit": e["READY_UNIT"], "ready_script": e["READY_SCRIPT"],
        "masked_units": words("MASKED"),
        "machine_id": "empty file (as in the test bed)",
        "disabled_generators": ["systemd-gpt-auto-generator"],
        "wants_dir": "/etc/systemd/system/multi-user.target.wants",
    },
    "markers": {
        "initrd_root_prefix": "EMTS-OS-INITRD root=",
        "initrd_error_prefix": "EMTS-OS-INITRD-ERROR ",
        "initrd_warning_prefix": "EMTS-OS-INITRD-WARN ",
        "disks": "EMTS-OS-DISKS",
        "lsblk_prefix": "EMTS-OS-LSBLK ",
        "lsblk_command": "lsblk -l -o NAME,SIZE,TYPE,PARTLABEL",
        "booted_prefix": "EMTS-OS-BOOTED hostname=%s root=" % host,
        "booted_format": "EMTS-OS-BOOTED hostname=<hostname> root=<source of />",
        "after_booted": "systemctl --no-block poweroff (QEMU exits with -no-reboot or not)",
    },
    "testbed": {"dir": e["TESTBED"], "key": os.path.basename(e["TESTBED"]),
                "vmlinuz_sha256": e["VMLINUZ_SHA"], "rootfs_sha256": e["ROOTFS_SHA"]},
    "qemu": {
        "firmware": "OVMF_CODE_4M.fd + a fresh copy of OVMF_VARS_4M.fd (pflash); UEFI only, no BIOS boot",
        "machine": "q35", "accel": "tcg",
        "disks": {"nvme": "-device nvme,drive=d0,serial=os0", "virtio": "-device virtio-blk-pci,drive=d0",
                  "sata": "-device ide-hd,drive=d0,bus=ide.0",
                  "usb": "-device qemu-xhci -device usb-storage,drive=d0"},
    },
}
json.dump(facts, sys.stdout, indent=2)
print()
EOF
}

# --- publishing ---------------------------------------------------------------------------

# Leftovers of killed builds (<key>.tmp.<pid>, <key>.old.<pid> whose pid is gone); --prune: old keys.
clean_cache() {
	local d pid
	for d in "$CACHE_DIR"/*.tmp.* "$CACHE_DIR"/*.old.*; do
		[ -d "$d" ] || continue
		pid=${d##*.}
		if ! kill -0 "$pid" 2>/dev/null; then
			log "removing leftover $d"
			rm -rf --one-file-system "$d"
		fi
	done
	if [ "$PRUNE" = 1 ]; then
		for d in "$CACHE_DIR"/????????????????; do
			[ -d "$d" ] && [ "$d" != "$OUT" ] || continue
			log "pruning old OS image $d"
			rm -rf --one-file-system "$d"
		done
	fi
}

publish() {
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
	SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/emts-os-image.XXXXXX")
	step rootfs-unpack unpack_rootfs
	step rootfs-configure configure_rootfs
	if [ -n "$PACKAGES" ]; then step rootfs-packages inject_packages; fi
	step initrd make_initrd
	step esp make_esp
	step rootfs-ext4 make_rootfs_fs
	step disk make_disk
	step compress compress
	step facts write_facts
	publish
	log "published; removing the scratch directory"
	rm -rf --one-file-system "$SCRATCH"
	SCRATCH=
}

main() {
	parse_args "$@"
	check_host
	compute_key
	mkdir -p "$CACHE_DIR"
	if [ "$FORCE" = 0 ] && [ "$PRUNE" = 0 ] && is_complete "$OUT"; then
		log "reusing $OUT (key $KEY)"
	else
		# One build at a time per cache: a second caller waits, then reuses the result.
		# (--prune also takes the lock: it must not delete a directory being published.)
		exec 9>"$CACHE_DIR/.lock"
		if ! flock -n 9; then
			log "another OS image build is running: waiting for it"
			flock 9
		fi
		clean_cache
		if [ "$FORCE" = 0 ] && is_complete "$OUT"; then
			log "reusing $OUT (built meanwhile)"
		else
			log "building $OUT (key $KEY, test bed $TESTBED, kernel $KVER)"
			build
			log "built $OUT in $((SECONDS - T0)) s"
		fi
	fi
	echo "$OUT" >&3
}

main "$@"
