#!/bin/sh
# Managed by bootstrap (barclamp base): oslo-config-validator with a memory.
#   bootstrap-validate-config VALIDATOR-ARGUMENTS…   (the same arguments oslo-config-validator takes)
# A config file's verdict depends on nothing but its content, the arguments and the installed code that
# declares the options: a verdict that passed for exactly these is kept (one line per check, in
# /var/lib/bootstrap/config-verdicts) and not computed again; anything else runs the validator, and only a
# pass is kept — a failed file is always checked again.
set -u
files=''
previous=''
for argument in "$@"; do
  [ "$previous" = '--input-file' ] && files="$files $argument"
  previous=$argument
done
digest=$({
  printf '%s\n' "$@"
  for f in $files; do sha256sum "$f" 2>&1; done
  dpkg-query -W -f '${Package} ${Version}\n' 2>&1
} | sha256sum | cut -c1-64)
verdicts=/var/lib/bootstrap/config-verdicts
key=$(printf '%s\n' "$@" | sha256sum | cut -c1-64)
[ "$(cat "$verdicts/$key" 2>/dev/null)" = "$digest" ] && exit 0
oslo-config-validator "$@" || exit $?
mkdir -p "$verdicts"
printf '%s\n' "$digest" > "$verdicts/$key.new" && mv "$verdicts/$key.new" "$verdicts/$key"
