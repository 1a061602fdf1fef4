import { shellQuote, shellWords } from '../transport/shell-quote.js';
import type { DesiredResource } from '../plan/desired-types.js';
import type { PlanStep } from '../plan/plan-types.js';
import { PENDING_RESTART_DIR } from '../plan/gather-script.js';

/** Exit code a file write uses when the node changed since the plan (compare-and-swap failed). */
export const DRIFT_EXIT_CODE = 86;
const HEREDOC_END = '__BOOTSTRAP_CONTENT_END__';

/**
 * The remote script that performs one planned step. Every value is quoted; content travels as a
 * base64 here-document inside the script (stdin), never as an argument.
 */
export function stepScript(
  step: PlanStep,
  resource: DesiredResource | undefined,
  options: { compareBefore: boolean },
): string {
  if (step.kind === 'handler') {
    // The owed-restart note is the truth: a start after the last trigger already loaded the new configuration
    // and cleared it, so a second restart (which on a forming pacemaker cluster hangs in shutdown) is skipped.
    const owed = shellQuote(`${PENDING_RESTART_DIR}/${step.service!}`);
    return `if [ -e ${owed} ]; then\n${serviceAction('restart', step.service!)}\nfi\nrm -f -- ${owed}`;
  }
  if (!resource) throw new Error(`no desired resource for step ${step.id}`);
  switch (resource.type) {
    case 'package':
      return packageScript(step.changes);
    case 'directory':
      return [
        'set -e',
        `p=${shellQuote(resource.path)}`,
        'if [ -e "$p" ] && [ ! -d "$p" ]; then echo "$p exists and is not a directory" >&2; exit 1; fi',
        'mkdir -p -- "$p"',
        `chown ${shellQuote(`${resource.owner}:${resource.group}`)} -- "$p"`,
        `chmod ${resource.mode} -- "$p"`,
      ].join('\n');
    case 'file':
      return fileScript(
        resource,
        options.compareBefore ? (step.before?.sha256 ?? 'absent') : undefined,
        step.after!.sha256!,
      );
    case 'service':
      return [
        ...(step.changes.includes('enable') ? [`systemctl enable ${shellQuote(resource.name)}`] : []),
        // only a real start (from stopped) settles restarts owed so far; triggers after it owe a new one
        ...(step.changes.includes('start')
          ? [
              `systemctl is-active -q ${shellQuote(resource.name)} || { ${serviceAction('start', resource.name)}; rm -f -- ${shellQuote(`${PENDING_RESTART_DIR}/${resource.name}`)}; }`,
            ]
          : []),
        'true',
      ].join('\n');
    case 'command':
      // The command is barclamp-authored shell; it runs in a subshell so `exit` cannot skip our epilogue.
      return [
        'cd /',
        'export DEBIAN_FRONTEND=noninteractive',
        '(',
        resource.run,
        ')',
        'rc=$?',
        '[ "$rc" -eq 0 ] || exit "$rc"',
        markRestartsOwed(resource.notify),
      ].join('\n');
  }
}

/**
 * Installs with a policy-rc.d that denies service starts (exit 101, Debian policy 9.3.3): a postinst would
 * otherwise start each daemon with its packaged defaults before the barclamp writes its configuration —
 * nova-compute then waits for its notify timeout, pacemaker forms a one-node cluster. The service steps
 * start them once configured. An operator's own policy-rc.d is left alone.
 */
function packageScript(missing: string[]): string {
  const install = `apt-get -q -y -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold install --no-install-recommends -- ${shellWords(missing)}`;
  return [
    'export DEBIAN_FRONTEND=noninteractive',
    `policy=${POLICY_RC_D}`,
    `if [ ! -e "$policy" ] || grep -q ${shellQuote(POLICY_MARK)} "$policy"; then`,
    `  printf '#!/bin/sh\n${POLICY_MARK}\nexit 101\n' > "$policy.tmp" && chmod 755 "$policy.tmp" && mv -f "$policy.tmp" "$policy"`,
    `  trap 'rm -f "$policy"' EXIT`,
    'fi',
    // Package lists may be missing or stale on a fresh node: refresh once and try again — unless another package
    // operation holds the lock: apt already waited its lock timeout, a second wait would only double it
    'err=$(mktemp)',
    `if ${install} 2>"$err"; then rc=0; else`,
    '  rc=$?; cat "$err" >&2',
    // after its lock timeout apt only says it could not acquire the lock: name the holder (from /proc/locks)
    `  if grep -qE ${shellQuote(LOCK_REFUSED)} "$err"; then`,
    `    ino=$(stat -c %i ${DPKG_FRONTEND_LOCK} 2>/dev/null); pid=$(awk -v ino="$ino" '{ n = split($6, f, ":"); if (f[n] == ino) { print $5; exit } }' /proc/locks)`,
    `    [ -z "$pid" ] || echo "dpkg lock ${DPKG_FRONTEND_LOCK} is held by process $pid ($(cat /proc/$pid/comm 2>/dev/null))" >&2`,
    `  else apt-get -q -o DPkg::Lock::Timeout=120 update && ${install}; rc=$?; fi`,
    'fi',
    'rm -f "$err"',
    'exit "$rc"',
  ].join('\n');
}

const POLICY_RC_D = '/usr/sbin/policy-rc.d';
const DPKG_FRONTEND_LOCK = '/var/lib/dpkg/lock-frontend';
/** What apt says when another process holds the lock: before its timeout, and after it (grep -E). */
const LOCK_REFUSED = 'Could not get lock|Unable to acquire the dpkg frontend lock';
const POLICY_MARK = '# bootstrap: no service starts while packages install';

function fileScript(
  resource: Extract<DesiredResource, { type: 'file' }>,
  expectedBefore: string | undefined,
  after: string,
): string {
  const encoded = Buffer.from(resource.content, 'utf8')
    .toString('base64')
    .replace(/.{1,76}/g, '$&\n');
  return [
    'set -e',
    `p=${shellQuote(resource.path)}`,
    'd=$(dirname -- "$p")',
    // Compare-and-swap: refuse to overwrite a file that changed since the plan was computed.
    ...(expectedBefore === undefined
      ? []
      : [
          'if [ -f "$p" ]; then current=$(sha256sum -- "$p" | cut -d" " -f1); elif [ -e "$p" ]; then current=other; else current=absent; fi',
          `if [ "$current" != ${shellQuote(expectedBefore)} ] && [ "$current" != ${shellQuote(after)} ]; then echo "$p changed on the node since the plan (sha256 $current)" >&2; exit ${DRIFT_EXIT_CODE}; fi`,
        ]),
    'mkdir -p -- "$d"',
    'tmp=$(mktemp "$d/.bootstrap.XXXXXX")',
    'trap \'rm -f "$tmp"\' EXIT',
    `base64 -d > "$tmp" <<'${HEREDOC_END}'`,
    `${encoded}${HEREDOC_END}`,
    `chown ${shellQuote(`${resource.owner}:${resource.group}`)} "$tmp"`,
    `chmod ${resource.mode} "$tmp"`,
    'sync "$tmp" 2>/dev/null || true',
    'mv -f "$tmp" "$p"',
    // the rename is durable once its directory is: a power cut right after apply keeps the new file
    'sync -- "$d" 2>/dev/null || true',
    'trap - EXIT',
    // a unit file or drop-in only counts once systemd has re-read it (before any restart it notifies)
    'case "$p" in /etc/systemd/system/*|/lib/systemd/system/*|/usr/lib/systemd/system/*) systemctl daemon-reload ;; esac',
    markRestartsOwed(resource.notify),
  ].join('\n');
}

/**
 * Durable note on the node that these services owe a restart, written with the change that needs it: an
 * apply interrupted before its restart handlers still restarts them on the next run (gather reads them).
 */
function markRestartsOwed(services: readonly string[]): string {
  if (services.length === 0) return 'true';
  return `mkdir -p ${PENDING_RESTART_DIR} && touch ${services.map((s) => shellQuote(`${PENDING_RESTART_DIR}/${s}`)).join(' ')} && sync`;
}

/**
 * In a container node systemd logs this for every stop of a unit whose cgroup it may not kill (EIO); a
 * failing service's dozens of them pushed the line that said why out of the record's excerpt.
 */
const JOURNAL_NOISE = 'Failed to kill control group';

/**
 * start/restart with the journal excerpt on failure, so the failure record carries the reason. A service
 * that dies right after starting looks started to `systemctl start` (Type=simple) and systemd keeps
 * restarting it: one second later its state says so — failed, waiting to restart, or restarted already
 * (NRestarts counts automatic restarts since this start). The verdict is printed last: records keep the tail.
 */
function serviceAction(verb: 'start' | 'restart', service: string): string {
  const q = shellQuote(service);
  const diagnose = `echo "--- systemctl status ${service}" >&2; systemctl status --no-pager -n 0 ${q} >&2; echo "--- journal ${service}" >&2; journalctl -u ${q} -n 200 --no-pager -o cat | grep -v -e ${shellQuote(JOURNAL_NOISE)} | tail -n 25 >&2`;
  return [
    // an earlier crash loop may have hit systemd's start limit: apply is asked to start it again, configured anew
    `systemctl reset-failed ${q} 2>/dev/null; systemctl ${verb} ${q} || { rc=$?; ${diagnose}; exit $rc; }`,
    `sleep 1; settled=$(systemctl show -p ActiveState -p SubState -p NRestarts ${q} | tr '\n' ' ')`,
    `case "$settled" in *ActiveState=failed*|*SubState=auto-restart*|*NRestarts=[1-9]*) ${diagnose}; echo "${service} is crash-looping: it exited right after its ${verb} ($settled)" >&2; exit 3;; esac`,
  ].join('\n');
}
