import { shellQuote } from '../../transport/shell-quote.js';
import { FaultStepError, must, type FaultInjector, type FaultTools } from './fault.js';

const KEEP = '/var/lib/bootstrap-fault';

/** A fault that is one shell script inside the machine, undone by another. */
function machineScriptFault(f: {
  gene: string;
  does: string;
  shownBy: string;
  inject: { script: string; what: string };
  heal: { script: string; what: string };
}): FaultInjector {
  return {
    gene: f.gene,
    scope: 'node',
    does: f.does,
    shownBy: f.shownBy,
    inject: async (t) => {
      must(await t.inMachine(f.inject.script), f.inject.what);
      return {};
    },
    heal: async (t) => {
      must(await t.inMachine(f.heal.script), f.heal.what);
    },
  };
}
const NFT_TABLE = 'bootstrap_fault';

/** A script that sets the nova user's keystone password to a Python expression's value, as keystone's admin (no password in any argument). */
function keystonePasswordScript(expression: string): string {
  return `set -e
[ -r /root/admin-openrc ] || { echo 'no keystone admin credentials here: inject on the keystone node' >&2; exit 1; }
. /root/admin-openrc
python3 - <<'PY'
import configparser, os, secrets
from keystoneauth1 import session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client
auth = v3.Password(auth_url=os.environ["OS_AUTH_URL"], username=os.environ["OS_USERNAME"], password=os.environ["OS_PASSWORD"], project_name=os.environ["OS_PROJECT_NAME"], user_domain_name="Default", project_domain_name="Default")
keystone = client.Client(session=session.Session(auth=auth), interface="internal")
user = keystone.users.list(name="nova", domain="default")[0]
keystone.users.update(user, password=${expression})
PY`;
}

/**
 * The failure modes the local lab re-creates. Each is the real thing, done to the lab's real components:
 * a BMC that stops answering, a rotated BMC password, sshd stopped, new host keys, an unreachable package
 * mirror, a held dpkg lock, a service that cannot start or bind its port, a database user shadowed, a keystone
 * password changed behind the services' back, corosync traffic dropped, DHCP down, the boot script out of reach.
 */
export const FAULT_CATALOG: readonly FaultInjector[] = [
  {
    gene: 'BMC-UNREACHABLE',
    scope: 'node',
    does: "freezes the machine's BMC (ipmi_sim gets SIGSTOP): it stops answering on UDP 623",
    shownBy: 'bootstrap power status NODE, or bootstrap apply with NODE powered off',
    inject: async (t) => {
      t.signalBmc('SIGSTOP');
      return {};
    },
    heal: async (t) => t.signalBmc('SIGCONT'),
  },
  {
    gene: 'BMC-AUTH-FAILED',
    scope: 'node',
    does: "rotates the BMC's admin password (IPMI Set User Password), so the inventory's password is wrong",
    shownBy: 'bootstrap power status NODE, or bootstrap apply with NODE powered off',
    inject: async (t) => {
      const rotated = t.randomSecret();
      await t.bmcCommands(t.bmcPassword(), `user set password 2 ${rotated}\n`);
      return { rotated };
    },
    heal: async (t, memo) => {
      await t.bmcCommands(memo.rotated!, `user set password 2 ${t.bmcPassword()}\n`);
    },
  },
  machineScriptFault({
    gene: 'SSH-UNREACHABLE',
    does: 'stops sshd in the machine (ssh.service and ssh.socket)',
    shownBy: 'bootstrap apply (gathering facts fails for NODE)',
    inject: {
      script: 'systemctl stop ssh.socket ssh.service 2>/dev/null; ! systemctl is-active -q ssh.service',
      what: 'stopping sshd',
    },
    heal: { script: 'systemctl start ssh.service', what: 'starting sshd' },
  }),
  machineScriptFault({
    gene: 'SSH-HOSTKEY-CHANGED',
    does: 'gives the machine new SSH host keys (the old ones are kept aside for heal)',
    shownBy: 'bootstrap apply (the pinned key no longer matches)',
    inject: {
      script: `set -e; mkdir -p ${KEEP}/ssh; cp -a /etc/ssh/ssh_host_* ${KEEP}/ssh/; rm -f /etc/ssh/ssh_host_*; ssh-keygen -A >/dev/null; systemctl restart ssh`,
      what: 'replacing the host keys',
    },
    heal: {
      script: `set -e; rm -f /etc/ssh/ssh_host_*; cp -a ${KEEP}/ssh/ssh_host_* /etc/ssh/; rm -rf ${KEEP}/ssh; systemctl restart ssh`,
      what: 'restoring the host keys',
    },
  }),
  machineScriptFault({
    gene: 'PKG-REPO-UNREACHABLE',
    does: "points the machine's apt at a closed port (an apt.conf.d file that overrides the proxy) and drops its downloaded packages",
    shownBy: 'bootstrap apply of a barclamp that installs a package not yet on NODE',
    inject: {
      script: `printf 'Acquire::http::Proxy "http://127.0.0.1:9/";\\n' > /etc/apt/apt.conf.d/99zz-bootstrap-fault && apt-get clean`,
      what: 'breaking the package source',
    },
    heal: { script: 'rm -f /etc/apt/apt.conf.d/99zz-bootstrap-fault', what: 'restoring the package source' },
  }),
  machineScriptFault({
    gene: 'PKG-DPKG-LOCK',
    does: "holds the machine's dpkg frontend lock the way apt does (an fcntl lock, taken by a transient unit)",
    shownBy: 'bootstrap apply of a barclamp that installs a package (apt gives up after its 120 s lock timeout)',
    // apt locks with fcntl(2); flock(1) takes a flock(2) lock, which Linux keeps apart and apt never sees
    inject: {
      script: `systemd-run --unit=bootstrap-fault-dpkg-lock --quiet python3 -c 'import fcntl, time
lock = open("/var/lib/dpkg/lock-frontend", "w"); fcntl.lockf(lock, fcntl.LOCK_EX); time.sleep(1e9)' && for i in $(seq 50); do grep -q ":$(stat -c %i /var/lib/dpkg/lock-frontend) " /proc/locks && exit 0; sleep 0.1; done; echo 'the lock was not taken' >&2; exit 1`,
      what: 'holding the dpkg lock',
    },
    heal: { script: 'systemctl stop bootstrap-fault-dpkg-lock 2>/dev/null; true', what: 'releasing the dpkg lock' },
  }),
  machineScriptFault({
    gene: 'SVC-START-FAILED',
    does: 'makes chrony unable to start (a drop-in with ExecStartPre=/bin/false) and stops it, so the next apply starts it',
    shownBy: 'bootstrap apply (the ntp barclamp starts chrony)',
    inject: {
      script:
        "set -e; mkdir -p /etc/systemd/system/chrony.service.d; printf '[Service]\\nExecStartPre=/bin/false\\n' > /etc/systemd/system/chrony.service.d/zz-bootstrap-fault.conf; systemctl daemon-reload; systemctl stop chrony",
      what: 'breaking chrony',
    },
    heal: {
      script:
        'rm -f /etc/systemd/system/chrony.service.d/zz-bootstrap-fault.conf; systemctl daemon-reload; systemctl reset-failed chrony 2>/dev/null; true',
      what: 'repairing chrony',
    },
  }),
  {
    gene: 'SVC-PORT-IN-USE',
    scope: 'node',
    does: 'stops the service listening on a TCP port (--port P, default the lowest but sshd) and holds that port with a listener of its own (a transient unit)',
    shownBy: 'bootstrap apply (the barclamp starts the service again; it cannot bind)',
    inject: async (t) => {
      const chosen =
        t.port !== undefined
          ? String(t.port)
          : `$(ss -Hltnp | grep -v '"sshd"' | awk '{print $4}' | sed 's/.*://' | sort -n | head -1)`;
      // the service's unit comes from its listening process; the holder binds every IPv4 address, which keeps any
      // IPv4 bind of the port from succeeding
      const found = must(
        await t.inMachine(`set -e
port=${chosen}
[ -n "$port" ] || { echo 'nothing but sshd listens on TCP here' >&2; exit 1; }
pid=$(ss -Hltnp "sport = :$port" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
[ -n "$pid" ] || { echo "nothing listens on TCP port $port" >&2; exit 1; }
unit=$(ps -o unit= -p "$pid" | tr -d ' ')
case "$unit" in *.service) ;; *) echo "port $port belongs to $unit, not a service" >&2; exit 1 ;; esac
systemctl stop "$unit"
systemd-run --unit=bootstrap-fault-port --quiet python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(8); time.sleep(1e9)' "$port"
for i in $(seq 50); do ss -Hltn "sport = :$port" | grep -q . && { echo "$unit $port"; exit 0; }; sleep 0.1; done
echo "the holder did not bind port $port" >&2; exit 1`),
        'taking the port',
      );
      const [unit, port] = found.stdout.trim().split(/\s+/);
      return { unit: unit!, port: port! };
    },
    heal: async (t, memo) => {
      must(
        await t.inMachine(
          `systemctl stop bootstrap-fault-port 2>/dev/null; systemctl reset-failed bootstrap-fault-port '${memo.unit}' 2>/dev/null; systemctl start '${memo.unit}'`,
        ),
        `giving port ${memo.port} back to ${memo.unit}`,
      );
    },
  },
  machineScriptFault({
    gene: 'DB-ACCESS-DENIED',
    does: "adds MariaDB users keystone@<each of the machine's addresses> with another password: MariaDB matches the most specific host first, so keystone's password is refused from this machine although keystone@'%' is right (inject on the database node)",
    shownBy: "bootstrap apply (the database barclamp's service-users-log-in check and keystone's db-sync are refused)",
    inject: {
      script: `set -e
command -v mysql >/dev/null || { echo 'no MariaDB on this machine: inject on the database node' >&2; exit 1; }
mkdir -p ${KEEP}
password=$(head -c 32 /dev/urandom | base64 | tr -dc A-Za-z0-9)
addresses=$(hostname -I | tr ' ' '\\n' | grep -F . )
printf '%s\\n' $addresses > ${KEEP}/db-shadow-users
for a in $addresses; do printf "CREATE OR REPLACE USER 'keystone'@'%s' IDENTIFIED BY '%s';\\n" "$a" "$password"; done | mysql --protocol=socket`,
      what: 'shadowing the keystone database user',
    },
    heal: {
      script: `set -e
[ -f ${KEEP}/db-shadow-users ] || exit 0
for a in $(cat ${KEEP}/db-shadow-users); do printf "DROP USER IF EXISTS 'keystone'@'%s';\\n" "$a"; done | mysql --protocol=socket
rm -f ${KEEP}/db-shadow-users`,
      what: 'dropping the shadowing users',
    },
  }),
  machineScriptFault({
    gene: 'ID-SERVICE-PASSWORD-MISMATCH',
    does: "changes the nova service user's password in keystone (nova.conf keeps the old one) (inject on the keystone node)",
    shownBy:
      "bootstrap verify (keystone's service-users-authenticate check gets HTTP 401 for nova); apply sets it back",
    inject: { script: keystonePasswordScript('secrets.token_urlsafe(24)'), what: "changing nova's keystone password" },
    // heal: the password nova is configured with, from nova.conf on the same node
    heal: {
      script: keystonePasswordScript(
        `(lambda c: (c.read("/etc/nova/nova.conf"), c["keystone_authtoken"]["password"])[1])(configparser.RawConfigParser(strict=False, interpolation=None))`,
      ),
      what: "restoring nova's keystone password",
    },
  }),
  {
    gene: 'HA-RING-NOT-FORMED',
    scope: 'node',
    does: "drops corosync's UDP 5405 in and out of the machine (nftables in its network namespace)",
    shownBy: 'bootstrap apply (the pacemaker barclamp checks every member is online)',
    inject: async (t) => {
      must(
        await t.inMachineNetwork(
          'nft',
          ['-f', '-'],
          `table inet ${NFT_TABLE} {\n chain in { type filter hook input priority 0; udp dport 5405 drop; }\n chain out { type filter hook output priority 0; udp dport 5405 drop; }\n}\n`,
        ),
        'blocking corosync',
      );
      // in effect only once corosync's token timeout has passed and the machine sees its peers offline
      must(
        await t.inMachine(
          `for i in $(seq 60); do crm_mon -1 -X 2>/dev/null | grep -q 'online="false"' && exit 0; sleep 1; done; echo 'the ring did not break within 60 s' >&2; exit 1`,
        ),
        'waiting for the ring to break',
      );
      return {};
    },
    heal: async (t) => {
      must(await t.inMachineNetwork('nft', ['delete', 'table', 'inet', NFT_TABLE]), 'unblocking corosync');
    },
  },
  {
    gene: 'PXE-NO-BOOT-SCRIPT',
    scope: 'node',
    does: 'drops every TCP connection the machine opens (nftables in its network namespace, also while it is off): its firmware gets a lease and iPXE over DHCP/TFTP but cannot fetch the HTTP boot script',
    shownBy: 'bootstrap apply of NODE when it has to be installed',
    inject: async (t) => {
      must(
        await t.inMachineNetwork(
          'nft',
          ['-f', '-'],
          `table inet ${NFT_TABLE}_tcp {\n chain out { type filter hook output priority 0; meta l4proto tcp ct state new drop; }\n}\n`,
        ),
        'blocking TCP out of the machine',
      );
      return {};
    },
    heal: async (t) => {
      must(await t.inMachineNetwork('nft', ['delete', 'table', 'inet', `${NFT_TABLE}_tcp`]), 'unblocking TCP');
    },
  },
  {
    gene: 'PXE-NO-DHCP',
    scope: 'lab',
    does: "freezes the provisioner's dnsmasq (SIGSTOP): no DHCP offers, no TFTP",
    shownBy: 'bootstrap apply of a node that has to be installed (its machine asks for a lease in vain)',
    inject: async (t) => {
      t.signalDhcp('SIGSTOP');
      return {};
    },
    heal: async (t) => t.signalDhcp('SIGCONT'),
  },
  {
    gene: 'CLOUD-HOST-LOST',
    scope: 'node',
    does: "powers the machine off through its BMC, as a power loss would: the cluster fences it, masakari's host monitor on another member reports it and masakari evacuates its instances",
    shownBy:
      'bootstrap recoveries (once masakari finished), then bootstrap verify; heal powers it on and the next apply puts it back into service',
    inject: async (t) => {
      await t.bmcCommands(t.bmcPassword(), 'chassis power off\n');
      return {};
    },
    heal: async (t) => {
      await t.bmcCommands(t.bmcPassword(), 'chassis power on\n');
    },
  },
  {
    gene: 'CLOUD-COMPUTE-DISABLED',
    scope: 'node',
    does: "a host failure masakari recovers, then the host's return: powers the machine off through its BMC, waits until masakari's host-failure recovery of it has ended, powers it on and waits until its nova-compute reports again — which leaves its nova-compute disabled and its segment host on maintenance, as masakari 14 always does",
    shownBy:
      'bootstrap verify (the health checks computes-in-service and segments-in-service); bootstrap plan shows return-to-service, bootstrap apply makes it; heal only makes sure the machine is on',
    inject: async (t) => {
      const since = must(
        await t.inCloudController('date -u +%Y-%m-%dT%H:%M:%S'),
        "reading the controller's clock",
      ).stdout.trim();
      await t.bmcCommands(t.bmcPassword(), 'chassis power off\n');
      await untilInController(
        t,
        hostRecoveryEnded(t.node, since),
        600,
        `masakari ending a host-failure recovery of ${t.node}`,
      );
      await t.bmcCommands(t.bmcPassword(), 'chassis power on\n');
      await untilInController(
        t,
        computeReportsAgain(t.node),
        300,
        `${t.node} back (online in the cluster, nova-compute up)`,
      );
      return {};
    },
    heal: async (t) => {
      await t.bmcCommands(t.bmcPassword(), 'chassis power on\n');
    },
  },
  machineScriptFault({
    gene: 'CLOUD-INSTANCE-CRASHED',
    does: "kills every guest's QEMU process on the machine with SIGKILL (libvirt reports STOPPED_FAILED, which masakari's instance monitor reports); masakari restarts the instances, heal has nothing to undo",
    shownBy: 'bootstrap recoveries (once masakari restarted them)',
    inject: {
      script:
        "pids=$(pgrep -f '^/usr/bin/qemu-system') || { echo 'no guest runs on this machine' >&2; exit 1; }; kill -KILL $pids",
      what: 'killing the guests',
    },
    heal: { script: 'true', what: 'nothing (masakari restarts the instances)' },
  }),
  machineScriptFault({
    gene: 'CLOUD-PROCESS-FAILED',
    // a killed nova-compute is systemd's job (Restart=on-failure) and never reaches masakari: the fault is one
    // that no restart can fix, so systemd's restarts fail and then the process monitor's do too
    does: 'makes nova-compute unable to start (a runtime drop-in whose ExecStartPre fails) and kills it: systemd restarts it in vain, then the process monitor, which reports it to masakari',
    shownBy:
      'bootstrap recoveries (the host on maintenance, its nova-compute disabled); heal lets it start again and the next apply puts it back into service',
    inject: {
      script: `set -e
mkdir -p /run/systemd/system/nova-compute.service.d
printf '[Service]\nExecStartPre=/bin/sh -c "echo bootstrap lab fault CLOUD-PROCESS-FAILED: nova-compute cannot start >&2; exit 1"\n' > /run/systemd/system/nova-compute.service.d/zz-bootstrap-fault.conf
systemctl daemon-reload
systemctl kill --kill-who=main --signal=KILL nova-compute`,
      what: 'breaking nova-compute',
    },
    heal: {
      script:
        'rm -f /run/systemd/system/nova-compute.service.d/zz-bootstrap-fault.conf; systemctl daemon-reload; systemctl reset-failed nova-compute 2>/dev/null; systemctl start nova-compute',
      what: 'letting nova-compute start again',
    },
  }),
];

/**
 * Polls a check script on the cloud's controller (exit 0: done) every 5 s for at most `seconds`: one short
 * script per poll, since a script in a machine may run two minutes at most.
 */
async function untilInController(t: FaultTools, check: string, seconds: number, what: string): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  let last = '';
  while (Date.now() < deadline) {
    const result = await t.inCloudController(check);
    if (result.code === 0) return;
    last = (result.stderr || result.stdout).trim().split('\n').at(-1) ?? '';
    await new Promise((resolve) => setTimeout(resolve, 5000));
  }
  throw new FaultStepError(`waiting for ${what}: not within ${seconds} s${last ? ` (${last})` : ''}`);
}

/** On the controller: exit 0 once masakari's recovery of a host failure of NODE since SINCE has ended, however it ended. */
function hostRecoveryEnded(node: string, since: string): string {
  const ended = `import json, sys
node, since = sys.argv[1], sys.argv[2]
ended = [n for n in json.load(sys.stdin) if n['type'] == 'COMPUTE_HOST' and (n['host'] or '').split('.')[0] == node and (n['created'] or '') >= since and n['status'] in ('finished', 'failed', 'error', 'ignored')]
sys.exit(0 if ended else 1)`;
  return `. /root/admin-openrc && bootstrap-masakari-notifications | python3 -c ${shellQuote(ended)} ${shellQuote(node)} ${shellQuote(since)}`;
}

/** On the controller: exit 0 once NODE is online in the cluster and its nova-compute reports up. */
function computeReportsAgain(node: string): string {
  return `. /root/admin-openrc && crm_mon -1 -X 2>/dev/null | grep -q ${shellQuote(`<node name="${node}" id="[0-9]*" online="true"`)} && test "$(openstack compute service list --service nova-compute --host ${shellQuote(node)} -f value -c State 2>/dev/null)" = up`;
}
