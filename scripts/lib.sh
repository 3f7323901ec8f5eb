# SPDX-License-Identifier: GPL-2.0
# Shared helpers for pinmdl's host-side scripts (sourced, not run).

PINMDL_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PINMDL_CACHE=${PINMDL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pinmdl}
PINMDL_JOBS=${PINMDL_JOBS:-$(nproc)}
PINMDL_KERNELS="debug-6.12 distro-6.1 distro-6.12"

# What in a guest's kernel log is a splat (scripts/vm-run).
PINMDL_SPLAT_RE='BUG:|WARNING:|Oops|KASAN|UBSAN|circular locking|lock held|inconsistent lock|possible recursive locking|blocked for more than|Kernel panic|general protection|kernel BUG|pin leak|Call Trace'

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# need_pkgs PKG...: install the Debian packages that are missing.
need_pkgs() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing packages (run as root): ${missing[*]}"
	say "installing ${missing[*]}"
	if [ ! -e "$PINMDL_CACHE/.apt-updated" ]; then
		apt-get update -qq >&2 || die "apt-get update failed"
		mkdir -p "$PINMDL_CACHE" && touch "$PINMDL_CACHE/.apt-updated"
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >&2 ||
		die "apt-get install ${missing[*]} failed"
}

# Packages every host-side step needs.
host_pkgs() {
	need_pkgs build-essential qemu-system-x86 busybox-static cpio bc bison \
		flex libelf-dev libssl-dev dwarves python3 kmod xz-utils rsync \
		linux-source-6.12 sparse coccinelle dkms liburing-dev
}

# pkg_version PKG: the installed version of a Debian package.
pkg_version() { dpkg-query -W -f='${Version}' "$1"; }

# newest_pkg REGEX: the newest package name matching REGEX in the apt lists.
newest_pkg() {
	apt-cache pkgnames 2>/dev/null | grep -E "$1" | sort -V | tail -n 1
}

# kernel_src: unpack linux-source-6.12 once and print its directory.
kernel_src() {
	local ver dir
	ver=$(pkg_version linux-source-6.12)
	dir=$PINMDL_CACHE/src/linux-source-6.12-$ver
	if [ ! -e "$dir/.unpacked" ]; then
		say "unpacking linux-source-6.12 $ver"
		rm -rf "$dir" && mkdir -p "$dir"
		tar -xJf /usr/src/linux-source-6.12.tar.xz -C "$dir" \
			--strip-components=1 || die "cannot unpack kernel source"
		touch "$dir/.unpacked"
	fi
	echo "$dir"
}
