#!/usr/bin/env bash
# check-debs.sh - check the Debian packages scripts/build-debs.sh built.
#
#   scripts/check-debs.sh [--install] [DIR]     default DIR: build-deb
#
# By default the packages are unpacked (dpkg -x) into a throwaway root and
# run from there, which changes nothing on the machine. With --install they
# are really installed (apt-get install ./*.deb, as root), checked in place,
# and purged again; packages apt pulled in for them are removed too.
# Checked: the package list and contents, `hashspace --version`, the example
# compiled with `pkg-config --cflags --libs hashspace` and run, `import
# hashspace` by /usr/bin/python3, the man page, the bash completion, the
# example config accepted by `hashspace hub --check-config`, and
# `systemd-analyze verify` on the unit.
set -euo pipefail
cd "$(dirname "$0")/.."
install=0
if [ "${1:-}" = --install ]; then
  install=1
  shift
fi
dir=$(realpath "${1:-build-deb}")
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
version=$(dpkg-parsechangelog -S Version)
fail() {
  echo "check-debs: $*" >&2
  exit 1
}

debs=()
for p in hashspace libhashspace0 libhashspace-dev; do
  debs+=("$dir/${p}_${version}_${arch}.deb")
done
debs+=("$dir/python3-hashspace_${version}_all.deb")
for d in "${debs[@]}"; do
  [ -f "$d" ] || fail "missing $d (run scripts/build-debs.sh first)"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/hashspace-debcheck.XXXXXX")
installed=0
cleanup() {
  if [ "$installed" = 1 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq --autoremove \
      hashspace libhashspace0 libhashspace-dev python3-hashspace >/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# The commands of the packaged hashspace, from its --help (the command table).
build_commands() {
  local d
  d=$(mktemp -d "$work/cmds.XXXXXX")
  dpkg -x "${debs[0]}" "$d"
  dpkg -x "${debs[1]}" "$d"
  LD_LIBRARY_PATH="$d/usr/lib/$multiarch" "$d/usr/bin/hashspace" --help |
    awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }'
}

# What each package holds.
contents() { dpkg-deb -c "$1" | awk '{print $6}' | sed 's|^\./|/|'; }
expect() { # expect PACKAGE.deb PATH...
  local deb=$1 list
  shift
  list=$(contents "$deb")
  for f in "$@"; do
    grep -qx -- "$f" <<<"$list" || fail "$(basename "$deb") lacks $f"
  done
}
# One manual page per command (hashspace --help lists them), and the INI format.
man1=(/usr/share/man/man1/hashspace.1.gz)
for c in $(build_commands); do man1+=("/usr/share/man/man1/hashspace-$c.1.gz"); done
expect "${debs[0]}" /usr/bin/hashspace /lib/systemd/system/hashspace-hub@.service \
  "${man1[@]}" /usr/share/man/man5/hashspace.conf.5.gz \
  /usr/share/bash-completion/completions/hashspace /usr/share/doc/hashspace/examples/hub.ini
expect "${debs[1]}" "/usr/lib/$multiarch/libhashspace.so.0"
expect "${debs[2]}" /usr/include/hashspace/view.h "/usr/lib/$multiarch/libhashspace.so" \
  "/usr/lib/$multiarch/pkgconfig/hashspace.pc" /usr/share/doc/libhashspace-dev/examples/who_owns.c \
  /usr/share/man/man3/libhashspace.3.gz
expect "${debs[3]}" /usr/lib/python3/dist-packages/hashspace/__init__.py
if contents "${debs[3]}" | grep -q __pycache__; then
  fail "python3-hashspace ships compiled files"
fi

if [ "$install" = 1 ]; then
  [ "$(id -u)" = 0 ] || fail "--install needs root"
  installed=1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${debs[@]}" \
    >"$work/apt.log" 2>&1 || {
    cat "$work/apt.log" >&2
    fail "apt-get install failed"
  }
  root=
  env=(env)
else
  root=$work/root
  for d in "${debs[@]}"; do dpkg -x "$d" "$root"; done
  # Nothing from the machine's own hashspace (if any) nor from a build tree.
  env=(env -u HASHSPACE_LIB LD_LIBRARY_PATH="$root/usr/lib/$multiarch"
    PKG_CONFIG_PATH="$root/usr/lib/$multiarch/pkgconfig"
    PYTHONPATH="$root/usr/lib/python3/dist-packages" PATH="$root/usr/bin:$PATH")
fi

echo "check-debs: hashspace --version" >&2
got=$("${env[@]}" hashspace --version)
[ "$got" = "hashspace ${version%%-*}" ] || fail "hashspace --version printed '$got'"
[ "$(command -v hashspace)" = "$root/usr/bin/hashspace" ] ||
  [ "$install" = 0 ] || fail "hashspace is not /usr/bin/hashspace"

echo "check-debs: the example, compiled with pkg-config" >&2
example="$root/usr/share/doc/libhashspace-dev/examples/who_owns.c"
# shellcheck disable=SC2046
"${env[@]}" cc -std=c11 -Wall -Werror "$example" -o "$work/who_owns" \
  $("${env[@]}" pkg-config --cflags --libs hashspace)
want=$("${env[@]}" hashspace route --members cache-a,cache-b,cache-c=2 user-1 user-2 user-3)
got=$("${env[@]}" "$work/who_owns" user-1 user-2 user-3)
[ "$got" = "$want" ] || fail "who_owns printed '$got', hashspace route '$want'"

echo "check-debs: /usr/bin/python3 -c 'import hashspace'" >&2
(cd "$work" && "${env[@]}" /usr/bin/python3 -c '
import sys, hashspace
# The library the package loaded is the packaged one.
maps = [l.split()[-1] for l in open("/proc/self/maps") if "libhashspace.so" in l]
assert maps and all(m.startswith(sys.argv[1]) for m in maps), maps
print(hashspace.View(["a", "b", "c"]).owner("user-17"))' "$root/usr/lib/$multiarch/" >"$work/py.txt")
want=$("${env[@]}" hashspace route --members a,b,c user-17 | cut -f2)
[ "$(cat "$work/py.txt")" = "$want" ] || fail "python owner $(cat "$work/py.txt"), route $want"

echo "check-debs: man pages, completion, example config" >&2
for page in "${man1[@]}" /usr/share/man/man5/hashspace.conf.5.gz /usr/share/man/man3/libhashspace.3.gz; do
  MANWIDTH=80 man --warnings -l "$root$page" >"$work/man.txt" 2>"$work/man.err"
  [ ! -s "$work/man.err" ] || fail "man reports problems with $page: $(cat "$work/man.err")"
done
MANWIDTH=80 man -l "$root/usr/share/man/man1/hashspace-hub.1.gz" >"$work/man.txt"
grep -q "check-config" "$work/man.txt" || fail "hashspace-hub(1) does not describe --check-config"
if [ "$install" = 1 ]; then
  for page in hashspace hashspace-hub hashspace.conf libhashspace; do
    man -w "$page" >/dev/null || fail "man $page: no entry"
  done
fi
"${env[@]}" bash -c "source '$root/usr/share/bash-completion/completions/hashspace'
  COMP_WORDS=(hashspace ro); COMP_CWORD=1; _hashspace; [ \"\${COMPREPLY[*]}\" = route ]" ||
  fail "bash completion does not complete 'ro' to route"
(cd "$work" && "${env[@]}" hashspace hub --check-config \
  "$root/usr/share/doc/hashspace/examples/hub.ini" >/dev/null) ||
  fail "the example config is not accepted"

echo "check-debs: systemd-analyze verify" >&2
unit="$root/lib/systemd/system/hashspace-hub@.service"
grep -qx 'ExecStart=/usr/bin/hashspace hub --config /etc/hashspace/%i.ini' "$unit" ||
  fail "the unit does not start /usr/bin/hashspace"
if [ -z "$root" ]; then
  systemd-analyze verify "$unit"
else
  # The unit names /usr/bin/hashspace, which is in the throwaway root only.
  mkdir -p "$work/unit"
  # Documentation=man:hashspace(1) is looked up in the root's man pages.
  sed "s|/usr/bin/hashspace|$root/usr/bin/hashspace|" "$unit" >"$work/unit/hashspace-hub@.service"
  MANPATH="$root/usr/share/man" systemd-analyze verify "$work/unit/hashspace-hub@.service"
fi
echo "check-debs: systemd-analyze security" >&2
[ -f "$root/usr/lib/sysusers.d/hashspace.conf" ] || fail "no sysusers.d/hashspace.conf (the unit's user)"
# The sandbox must rate "OK" or better (SAFE); --offline needs no running systemd.
rating=$(systemd-analyze security --offline=yes "$unit" 2>/dev/null | tail -n 1)
echo "check-debs: $rating" >&2
case $rating in
*"level for"*": "*" SAFE"* | *"level for"*": "*" OK"*) ;;
*) fail "systemd-analyze security: $rating (want OK or better)" ;;
esac
echo "check-debs: all checks passed" >&2
