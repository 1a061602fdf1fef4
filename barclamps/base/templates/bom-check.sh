#!/bin/sh
# Managed by bootstrap (barclamp base): is every version /etc/apt/preferences.d/bootstrap-bom pins installed
# already, or offered by the mirror? apt would silently install another one otherwise. Read-only, except that
# --refresh updates the package lists first. Exit 1 naming each pinned version that is neither.
set -eu
prefs=/etc/apt/preferences.d/bootstrap-bom
pins=$(awk '$1 == "Package:" { p = $2 } $1 == "Pin:" && $2 == "version" { print p "=" $3 }' "$prefs" 2>/dev/null || true)
[ -n "$pins" ] || exit 0
if [ "${1:-}" = --refresh ]; then apt-get -q -o DPkg::Lock::Timeout=120 update >/dev/null; fi
# the pins not installed at their version, then the versions the package lists offer for them
wanted=$({ dpkg-query -W -f 'I ${Package}=${Version}\n' 2>/dev/null || true; printf 'P %s\n' $pins; } |
  awk '$1 == "I" { have[$2] = 1 } $1 == "P" && !($2 in have) { print $2 }')
[ -n "$wanted" ] || exit 0
offered=$(apt-cache madison $(printf '%s\n' $wanted | cut -d= -f1) 2>/dev/null | awk -F ' *[|] *' '{ gsub(/^ +/, "", $1); print $1 "=" $2 }')
status=0
for pin in $wanted; do
  if ! printf '%s\n' "$offered" | grep -qxF "$pin"; then
    package=${pin%%=*}
    others=$(printf '%s\n' "$offered" | sed -n "s/^$package=//p" | tr '\n' ' ')
    echo "package $package: version ${pin#*=} is pinned by the bill of materials but is neither installed nor on the mirror (the mirror offers: ${others:-nothing})" >&2
    status=1
  fi
done
exit "$status"
