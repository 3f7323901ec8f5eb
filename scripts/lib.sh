# SPDX-License-Identifier: GPL-2.0
# Shared helpers for pinmdl's host-side scripts (sourced, not run).

PINMDL_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PINMDL_CACHE=${PINMDL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pinmdl}
PINMDL_JOBS=${PINMDL_JOBS:-$(nproc)}
PINMDL_KERNELS="debug-7.3 distro-6.1 distro-6.12"

# What in a guest's kernel log is a splat (scripts/vm-run).
PINMDL_SPLAT_RE='BUG:|WARNING:|Oops|KASAN|UBSAN|circular locking|lock held|inconsistent lock|possible recursive locking|blocked for more than|Kernel panic|general protection|kernel BUG|pin leak|Call Trace'

# splat_lines LOG: the lines of a kernel log that are splats. The stack
# dump in an OOM kill's report (from "invoked oom-killer:" to its end), the
# kernel's notice of a kill that a test provokes on purpose, is not one;
# anything else in the report is.
splat_lines() {
	awk -v re="$PINMDL_SPLAT_RE" '
		/invoked oom-killer:/ { oom = 1 }
		oom && /<\/TASK>/ { oom = 0; next }
		oom && /Call Trace/ { next }
		$0 ~ re' "$1"
}

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
		sparse coccinelle dkms liburing-dev
}

# pkg_version PKG: the installed version of a Debian package.
pkg_version() { dpkg-query -W -f='${Version}' "$1"; }

# newest_pkg REGEX: the newest package name matching REGEX in the apt lists.
newest_pkg() {
	apt-cache pkgnames 2>/dev/null | grep -E "$1" | sort -V | tail -n 1
}

# The kernels built from source (debug-7.3: KASAN, lockdep, DEBUG_VM,
# KUnit; kcsan-7.3: the race detector; bench-7.3) are all built from
# linux-source-7.3.
PINMDL_SRC_SERIES=7.3
# The suite that carries linux-source-7.3; never added to the machine's
# own package sources (see backports_apt).
PINMDL_SRC_SUITE=trixie-backports

# debian_uri: the URI of the machine's own Debian archive (not security),
# from its deb822 or one-line sources.
debian_uri() {
	local u
	u=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		sed -n 's/^URIs: *//p' | tr ' ' '\n' | grep -v security |
		grep -m 1 /debian) ||
		u=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
			2>/dev/null | awk '$1 == "deb" && $0 !~ /security/ {
				for (i = 2; i <= NF; i++)
					if ($i ~ /^[a-z]+:\/\//) { print $i; exit }
			}') || true
	echo "${u:-http://deb.debian.org/debian}"
}

# backports_apt CMD ARGS...: run apt-get or apt-cache (CMD) with a private
# state that knows only $PINMDL_SRC_SUITE: its own sources list, lists and
# cache under $PINMDL_CACHE/apt, so that the machine's package sources stay
# as they are and nothing else is upgraded.
backports_apt() {
	local cmd=$1 dir=$PINMDL_CACHE/apt
	shift
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
		"$(debian_uri) $PINMDL_SRC_SUITE main" >"$dir/sources.list"
	"$cmd" -o Dir::Etc::sourcelist="$dir/sources.list" \
		-o Dir::Etc::sourceparts=- -o Dir::State::lists="$dir/lists" \
		-o Dir::Cache="$dir/cache" -o APT::Sandbox::User=root "$@"
}

# kernel_src: the unpacked linux-source-7.3 under the cache, its directory
# printed. A machine that has none fetches the newest version in
# $PINMDL_SRC_SUITE and unpacks it once; later runs keep using it, so that
# a new upload never rebuilds the kernels in the middle of a run
# (PINMDL_SRC_REFRESH=1 looks for a newer one).
kernel_src() {
	mkdir -p "$PINMDL_CACHE/apt"
	# One fetch at a time: the kernels' builds may ask together.
	(
		flock 8
		kernel_src_locked
	) 8>"$PINMDL_CACHE/apt/.lock"
}

kernel_src_locked() {
	local pkg=linux-source-$PINMDL_SRC_SERIES ver dir dl
	dir=$(ls -d "$PINMDL_CACHE/src/$pkg"-*/.unpacked 2>/dev/null |
		sort -V | tail -n 1)
	if [ -n "$dir" ] && [ "${PINMDL_SRC_REFRESH:-0}" != 1 ]; then
		dirname "$dir"
		return
	fi
	backports_apt apt-get update -qq >&2 ||
		say "cannot refresh $PINMDL_SRC_SUITE; using the cached lists"
	ver=$(backports_apt apt-cache show "$pkg" 2>/dev/null |
		sed -n 's/^Version: //p' | sort -V | tail -n 1)
	[ -n "$ver" ] || die "$pkg is not in $PINMDL_SRC_SUITE"
	dir=$PINMDL_CACHE/src/$pkg-$ver
	if [ ! -e "$dir/.unpacked" ]; then
		say "fetching and unpacking $pkg $ver from $PINMDL_SRC_SUITE"
		rm -rf "$dir" && mkdir -p "$dir"
		dl=$(mktemp -d "$PINMDL_CACHE/src/dl.XXXXXX")
		(cd "$dl" && backports_apt apt-get download -q "$pkg=$ver" >&2) ||
			die "cannot download $pkg $ver"
		dpkg -x "$dl"/*.deb "$dl/x"
		tar -xJf "$dl/x/usr/src/$pkg.tar.xz" -C "$dir" \
			--strip-components=1 || die "cannot unpack $pkg"
		rm -rf "$dl"
		echo "$ver" >"$dir/.version"
		touch "$dir/.unpacked"
	fi
	echo "$dir"
}

