#!/bin/bash
# Rebuilds the seed corpora in fuzz/corpus/ from scratch: small real inputs for every fuzz target, made with
# the real tools (cpio, tar, gzip/zstd/xz/lz4/bzip2, rpmbuild, dpkg-deb, xorriso). The committed corpus is
# what this script wrote; run it again only to change the seeds. Needs: cpio python3 gzip zstd xz lz4 bzip2
# rpmbuild dpkg-deb xorriso (Debian: cpio zstd xz-utils lz4 bzip2 rpm dpkg-dev xorriso).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
corpus=$here/corpus
main=$(dirname "$here")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1700000000 TZ=UTC LC_ALL=C

for tool in cpio python3 gzip zstd xz lz4 bzip2 rpmbuild dpkg-deb xorriso; do
    command -v "$tool" >/dev/null || { echo "make-seeds.sh: $tool is missing" >&2; exit 1; }
done
rm -rf "$corpus"
mkdir -p "$corpus"/{FuzzInitramfs,FuzzRootfsArchive,FuzzRPM,FuzzDeb,FuzzISO,FuzzInstallerYAML,FuzzLegacyConfig}

# --- A tiny µOS root: usrmerge links, the agent units enabled, a mask, a hard link, an xattr, emts records.
python3 - "$work" <<'PY'
import io, os, sys, tarfile
work = sys.argv[1]
unit = b"[Unit]\nDescription=%s\n\n[Service]\nExecStart=/usr/bin/%s\n\n[Install]\nWantedBy=multi-user.target\nAlias=%s-alias.service\n"
def members(prefix):
    out = []
    def add(name, kind, data=b"", target="", mode=0o644, pax=None):
        info = tarfile.TarInfo(prefix + name)
        info.mtime = 1700000000
        info.mode = mode
        info.type = kind
        if kind == tarfile.SYMTYPE or kind == tarfile.LNKTYPE:
            info.linkname = target
        if kind == tarfile.REGTYPE:
            info.size = len(data)
        if pax:
            info.pax_headers = pax
        out.append((info, io.BytesIO(data) if kind == tarfile.REGTYPE else None))
    add("", tarfile.DIRTYPE, mode=0o755)
    for d in ["usr", "usr/bin", "usr/lib", "usr/lib/systemd", "usr/lib/systemd/system", "etc", "etc/systemd",
              "etc/systemd/system", "etc/systemd/system/multi-user.target.wants", "etc/emts", "var", "var/lib",
              "var/lib/dpkg", "tmp", "dev"]:
        add(d, tarfile.DIRTYPE, mode=0o755)
    add("bin", tarfile.SYMTYPE, target="usr/bin")
    add("lib", tarfile.SYMTYPE, target="usr/lib")
    add("sbin", tarfile.SYMTYPE, target="usr/bin")
    add("usr/bin/busybox", tarfile.REGTYPE, b"\x7fELF busybox", mode=0o755,
        pax={"SCHILY.xattr.security.selinux": "system_u:object_r:bin_t:s0\x00"})
    add("usr/bin/sh", tarfile.LNKTYPE, target=prefix + "usr/bin/busybox")
    for name in ["tink-worker", "caddy", "fluent-bit", "device-discovery"]:
        add("usr/lib/systemd/system/%s.service" % name, tarfile.REGTYPE, unit % (name.encode(), name.encode(), name.encode()))
        add("etc/systemd/system/multi-user.target.wants/%s.service" % name, tarfile.SYMTYPE,
            target="/usr/lib/systemd/system/%s.service" % name)
    add("etc/systemd/system/getty@.service", tarfile.REGTYPE, b"[Service]\nExecStart=-/sbin/agetty %I\n[Install]\nDefaultInstance=tty1\n")
    add("etc/systemd/system/serial-getty@ttyS0.service", tarfile.SYMTYPE, target="/dev/null")
    add("etc/emts/installer.yaml", tarfile.REGTYPE, b"target: auto\nimage: /images/emt.raw.gz\n")
    add("var/lib/dpkg/status", tarfile.REGTYPE,
        b"Package: base-files\nStatus: install ok installed\nVersion: 12.4\nArchitecture: amd64\n\n")
    add("usr/lib/os-release", tarfile.REGTYPE, b"NAME=\"Edge Microvisor Toolkit\"\nID=emt\n")
    add("etc/os-release", tarfile.SYMTYPE, target="../usr/lib/os-release")
    return out
def write(path, fmt, prefix="./", extra=()):
    with tarfile.open(path, "w", format=fmt) as tar:
        for info, data in members(prefix) + list(extra):
            tar.addfile(info, data)
write(work + "/rootfs-pax.tar", tarfile.PAX_FORMAT)
write(work + "/rootfs-gnu.tar", tarfile.GNU_FORMAT, prefix="")
write(work + "/rootfs-ustar.tar", tarfile.USTAR_FORMAT)
# A µOS image tarball: its kernel files and tmp/ are left out of the nested archive.
boot = []
for name, data in [("boot/vmlinuz-6.1.0", b"MZ kernel"), ("boot/initramfs-6.1.0.img", b"070701"), ("tmp/x", b"x")]:
    info = tarfile.TarInfo("./" + name); info.size = len(data); info.mtime = 1700000000
    boot.append((info, io.BytesIO(data)))
write(work + "/uos.tar", tarfile.PAX_FORMAT, extra=boot)
PY
r=$corpus/FuzzRootfsArchive
gzip -9n <"$work/rootfs-pax.tar" >"$r/rootfs-pax.tar.gz"
cp "$work/rootfs-gnu.tar" "$r/rootfs-gnu.tar"
zstd -q -19 <"$work/rootfs-ustar.tar" >"$r/rootfs-ustar.tar.zst"
xz -9 --check=crc32 <"$work/rootfs-pax.tar" >"$r/rootfs-pax.tar.xz"
bzip2 -9 <"$work/rootfs-gnu.tar" >"$r/rootfs-gnu.tar.bz2"
gzip -9n <"$work/uos.tar" >"$r/uos-image.tar.gz"

# --- Initramfs: newc segments, plain and compressed, back to back with zero padding.
root=$work/initramfs-root
mkdir -p "$root"/{bin,etc,dev,kernel/x86/microcode}
printf '#!/bin/sh\nexec /bin/sh\n' >"$root/init"; chmod 755 "$root/init"
printf 'root:x:0:0::/root:/bin/sh\n' >"$root/etc/passwd"
ln -s busybox "$root/bin/sh"; printf 'busybox' >"$root/bin/busybox"; ln "$root/bin/busybox" "$root/bin/ls"
printf 'GenuineIntel.bin' >"$root/kernel/x86/microcode/GenuineIntel.bin"
cp "$r/rootfs-pax.tar.gz" "$root/rootfs.tar.gz"
newc() { (cd "$1" && find . -mindepth 1 ! -path './kernel*' | sort | cpio -o -H newc --quiet --reproducible); }
early() { (cd "$1" && find kernel | sort | cpio -o -H newc --quiet --reproducible); }
i=$corpus/FuzzInitramfs
newc "$root" >"$i/plain.newc"
newc "$root" | gzip -9n >"$i/gzip.newc.gz"
newc "$root" | zstd -q -19 >"$i/zstd.newc.zst"
newc "$root" | xz -9 --check=crc32 >"$i/xz.newc.xz"
newc "$root" | lz4 -l -q -9 >"$i/lz4-legacy.newc.lz4"
newc "$root" | bzip2 -9 >"$i/bzip2.newc.bz2"
# Early microcode (plain) then the main archive (gzip), padded to 512 bytes between them, as dracut writes.
{ early "$root" | python3 -c 'import sys; d=sys.stdin.buffer.read(); sys.stdout.buffer.write(d + bytes(-len(d) % 512))'
  newc "$root" | gzip -9n; } >"$i/early-plus-gzip"
# Two gzip members back to back, and two cpio archives in one gzip stream.
{ early "$root" | gzip -9n; newc "$root" | gzip -9n; } >"$i/two-gzip-members"
{ early "$root"; newc "$root"; } | gzip -9n >"$i/two-archives-one-gzip"

# --- RPM: one package per payload compression, with requires/provides, a symlink and a hard link.
spec=$work/seed.spec
cat >"$spec" <<'SPEC'
Name: seed
Version: 1.2
Release: 3
Epoch: 1
Summary: seed test package
License: MIT
BuildArch: x86_64
AutoReqProv: no
Requires: libc.so.6()(64bit), bash >= 5.0, /bin/sh
Provides: seed-tool = 1.2
%description
seed test package
%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/usr/share/seed %{buildroot}/etc
echo 'seed 1.2' > %{buildroot}/usr/share/seed/README
printf '#!/bin/sh\necho seed\n' > %{buildroot}/usr/bin/seed
ln -s seed %{buildroot}/usr/bin/seed-link
ln %{buildroot}/usr/share/seed/README %{buildroot}/usr/share/seed/README.hard
echo 'conf=1' > %{buildroot}/etc/seed.conf
%files
%attr(0755,root,root) /usr/bin/seed
/usr/bin/seed-link
%attr(0644,root,root) /usr/share/seed/README
%attr(0644,root,root) /usr/share/seed/README.hard
%config(noreplace) %attr(0640,root,adm) /etc/seed.conf
SPEC
for payload in w9.gzdio w6.xzdio w19.zstdio w9.bzdio w.ufdio; do
    top=$work/rpm-$payload
    rpmbuild -bb --nodeps --quiet --define "_topdir $top" --define "_tmppath $top/tmp" \
        --define "_binary_payload $payload" --define "__os_install_post %{nil}" --define "debug_package %{nil}" \
        --define "_buildhost seed" --define "use_source_date_epoch_as_buildtime 1" "$spec" >/dev/null
    cp "$top/RPMS/x86_64/seed-1.2-3.x86_64.rpm" "$corpus/FuzzRPM/seed-$payload.rpm"
done

# --- DEB: Debian's own small packages, and one built per data.tar compression.
for deb in /var/cache/emts-iso/packages/*/lsb-base_*.deb; do cp "$deb" "$corpus/FuzzDeb/"; break; done
pkg=$work/deb
mkdir -p "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/etc" "$pkg/usr/share/doc/seed"
cat >"$pkg/DEBIAN/control" <<'CTL'
Package: seed
Version: 1:1.2-3
Architecture: amd64
Maintainer: Seed <seed@example.com>
Pre-Depends: init-system-helpers (>= 1.54~)
Depends: libc6 (>= 2.34), bash | dash, debconf (>= 0.5) | debconf-2.0
Provides: seed-tool (= 1.2)
Description: seed test package
 A package for the fuzz corpus.
CTL
printf '#!/bin/sh\necho seed\n' >"$pkg/usr/bin/seed"; chmod 755 "$pkg/usr/bin/seed"
ln -s seed "$pkg/usr/bin/seed-link"
echo 'conf=1' >"$pkg/etc/seed.conf"; echo /etc/seed.conf >"$pkg/DEBIAN/conffiles"
echo 'seed' >"$pkg/usr/share/doc/seed/README"
(cd "$pkg" && find usr etc -type f | sort | xargs md5sum) >"$pkg/DEBIAN/md5sums"
for z in gzip xz zstd none; do
    dpkg-deb --root-owner-group -Z"$z" --build "$pkg" "$corpus/FuzzDeb/seed-$z.deb" >/dev/null
done

# --- ISO: Rock Ridge + Joliet, El Torito, the medium's kargs map and a tiny µOS initramfs. No padding.
iso=$work/iso
mkdir -p "$iso/boot/grub" "$iso/images" "$iso/.disk" "$iso/EFI/BOOT"
cp "$i/early-plus-gzip" "$iso/boot/initramfs.img"
printf 'MZ kernel' >"$iso/boot/vmlinuz"
head -c 2048 /dev/zero >"$iso/boot/grub/eltorito.img"
printf 'emt-s' >"$iso/.disk/info"; : >"$iso/.disk/emts-iso-seed"
printf 'raw image' >"$iso/images/emt.raw.gz"
printf '%s  emt.raw.gz\n' "$(sha256sum <"$iso/images/emt.raw.gz" | cut -d' ' -f1)" >"$iso/images/emt.raw.gz.sha256"
line='root=tmpfs rootflags=mode=0755 rd.skipfsck noresume modules-load=nbd console=tty0 console=ttyS0,115200n8'
python3 - "$iso/boot/grub/kargs.json" "$line" <<'PY'
import json, sys
path, line = sys.argv[1], sys.argv[2]
m = json.dumps({"default": line, "size": 256, "files": [{"path": "/boot/grub/kargs.cfg"}]})
open(path, "w").write(m + " " * (1023 - len(m)) + "\n")
PY
printf 'set emts_kargs="%s"%*s\n' "$line" $((255 - 18 - ${#line})) '' >"$iso/boot/grub/kargs.cfg"
ln -s vmlinuz "$iso/boot/vmlinuz-link"
xorriso -as mkisofs -quiet -no-pad -R -J -V EMTS_SEED -b boot/grub/eltorito.img -no-emul-boot \
    -boot-load-size 4 -boot-info-table -o "$work/seed.iso" "$iso" 2>/dev/null
cp "$work/seed.iso" "$corpus/FuzzISO/seed-rr-joliet-eltorito"
xorriso -as mkisofs -quiet -no-pad -V PLAIN -o "$corpus/FuzzISO/seed-plain" "$iso/.disk" 2>/dev/null
# The kargs map with its offsets filled in, as emts-iso writes it.
python3 - "$corpus/FuzzISO/seed-rr-joliet-eltorito" <<'PY'
import json, subprocess, sys
path = sys.argv[1]
def lba(name):
    out = subprocess.run(["xorriso", "-indev", path, "-find", name, "-exec", "report_lba", "--"],
                         capture_output=True, text=True).stdout
    for row in out.splitlines():
        if row.startswith("Report layout:") is False and "File data lba:" in row:
            return int(row.split(":")[1].split(",")[1]) * 2048
    return None
cfg, kmap = lba("/boot/grub/kargs.cfg"), lba("/boot/grub/kargs.json")
if cfg is None or kmap is None:
    sys.exit("make-seeds.sh: could not locate the kargs files in the seed ISO")
data = bytearray(open(path, "rb").read())
m = json.loads(data[kmap:kmap + 1024])
m["files"][0]["offset"] = cfg + len('set emts_kargs="')
text = json.dumps(m)
data[kmap:kmap + 1024] = (text + " " * (1023 - len(text)) + "\n").encode()
open(path, "wb").write(data)
PY

# --- installer.yaml and today's config-file: the documented samples and the installer tests' fixtures.
python3 - "$main" "$corpus" <<'PY'
import os, re, sys
main, corpus = sys.argv[1], sys.argv[2]
readme = open(os.path.join(main, "installer/README.md")).read()
blocks = re.findall(r"```(yaml|sh|text)?\n(.*?)```", readme, re.S)
n = 0
for lang, body in blocks:
    if lang == "yaml" and ":" in body:
        n += 1
        open(os.path.join(corpus, "FuzzInstallerYAML", "readme-%d.yaml" % n), "w").write(body)
    elif re.search(r'^[a-zA-Z_]+="', body, re.M):
        n += 1
        open(os.path.join(corpus, "FuzzLegacyConfig", "readme-%d" % n), "w").write(body)
PY
cat >"$corpus/FuzzInstallerYAML/full.yaml" <<'YAML'
# every key
target: auto
target_preference: smallest
image: emt.raw.gz
after_install: reboot
min_disk_gb: 16
progress_interval_seconds: 5
hostname: edge-node-1
user:
  name: edge
  password_hash: "$6$rounds=100000$0vQ3mJ1lZ0aYbKQe$abc"
  ssh_authorized_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGK2/1fo+3QJRf6hzXnuYCsP7W3dx8m/Lqfzl+6yfNbv edge@example"]
  passwordless_sudo: true
proxy:
  http: http://user:secret@proxy.example.com:3128
  https: https://proxy.example.com
  no_proxy: localhost,127.0.0.1,.example.com,10.0.0.0/8
network:
  mode: dhcp
  interface: en*
  mac: aa:bb:cc:dd:ee:ff
  dns: [1.1.1.1, "fd00::53"]
  pin_to_install_nic: false
ntp: [pool.ntp.org, 192.168.1.1]
hugepages: 512
host_type: container
cloud_init:
  services:
    enable: [docker]
    disable: [ufw.service]
  write_files:
    - path: /etc/motd
      permissions: "0644"
      owner: root:root
      content: |
        hello
  runcmd: ["echo done"]
storage:
  layout: vm
  lvm_size_gb: 20
  swap_gb: auto
  reserved_mb: 5120
  lvm_disks: [/dev/sdb, nvme1n1]
YAML
printf '\xef\xbb\xbftarget: /dev/nvme0n1\nnetwork:\n  mode: static\n  address: fd00::10/64\n  gateway: fd00::1\n' \
    >"$corpus/FuzzInstallerYAML/bom-static.yaml"
printf '' >"$corpus/FuzzInstallerYAML/empty.yaml"
printf 'target: [\n' >"$corpus/FuzzInstallerYAML/broken.yaml"
cat >"$corpus/FuzzLegacyConfig/config-file" <<'CFG'
# today's config-file
http_proxy="http://proxy.example.com:3128"
https_proxy="http://proxy.example.com:3128"
no_proxy="localhost,127.0.0.1"
HTTP_PROXY=""
ssh_key="ssh-ed25519 AAAAC3Nza edge@example"
user_name="edge"
host_type="container"
static_ip="192.168.1.10"
subnet_mask="255.255.255.0"
default_gate_way="192.168.1.1"
dns_name_server="1.1.1.1,8.8.8.8"
lvm_size_ingb="20"
huge_page_config="512"
USER_CUSTOM_NTP_SERVERS="pool.ntp.org"
deploy_envmt="ven"
unknown_key="kept as a warning"
services:
  enable: [docker]
  disable: [ufw]
write_files:
  - path: /etc/motd
    permissions: "0644"
    content: "hello"
runcmd: ["echo done"]
CFG
printf 'user_name="edge"\r\nhost_type="kubernetes"\r\n' >"$corpus/FuzzLegacyConfig/crlf"
# The installer tests' inline samples are in Swift strings; the ones above cover their keys.

du -sh "$corpus"
find "$corpus" -type f -size +64k -printf '%s %p (over 64 KiB)\n'
