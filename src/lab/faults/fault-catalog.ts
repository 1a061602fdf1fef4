import { must, type FaultInjector } from './fault.js';

const KEEP = '/var/lib/bootstrap-fault';

/** A fault that is one shell script inside the machine, undone by another. */
function machineScriptFault(f: { gene: string; does: string; shownBy: string; inject: { script: string; what: string }; heal: { script: string; what: string } }): FaultInjector {
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

/**
 * The failure modes the local lab re-creates. Each is the real thing, done to the lab's real components:
 * a BMC that stops answering, a rotated BMC password, sshd stopped, new host keys, an unreachable package
 * mirror, a held dpkg lock, a service that cannot start, corosync traffic dropped.
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
    inject: { script: 'systemctl stop ssh.socket ssh.service 2>/dev/null; ! systemctl is-active -q ssh.service', what: 'stopping sshd' },
    heal: { script: 'systemctl start ssh.service', what: 'starting sshd' },
  }),
  machineScriptFault({
    gene: 'SSH-HOSTKEY-CHANGED',
    does: 'gives the machine new SSH host keys (the old ones are kept aside for heal)',
    shownBy: 'bootstrap apply (the pinned key no longer matches)',
    inject: { script: `set -e; mkdir -p ${KEEP}/ssh; cp -a /etc/ssh/ssh_host_* ${KEEP}/ssh/; rm -f /etc/ssh/ssh_host_*; ssh-keygen -A >/dev/null; systemctl restart ssh`, what: 'replacing the host keys' },
    heal: { script: `set -e; rm -f /etc/ssh/ssh_host_*; cp -a ${KEEP}/ssh/ssh_host_* /etc/ssh/; rm -rf ${KEEP}/ssh; systemctl restart ssh`, what: 'restoring the host keys' },
  }),
  machineScriptFault({
    gene: 'PKG-REPO-UNREACHABLE',
    does: "points the machine's apt at a closed port (an apt.conf.d file that overrides the proxy) and drops its downloaded packages",
    shownBy: 'bootstrap apply of a barclamp that installs a package not yet on NODE',
    inject: { script: `printf 'Acquire::http::Proxy "http://127.0.0.1:9/";\\n' > /etc/apt/apt.conf.d/99zz-bootstrap-fault && apt-get clean`, what: 'breaking the package source' },
    heal: { script: 'rm -f /etc/apt/apt.conf.d/99zz-bootstrap-fault', what: 'restoring the package source' },
  }),
  machineScriptFault({
    gene: 'PKG-DPKG-LOCK',
    does: "holds the machine's dpkg frontend lock (a transient unit running flock)",
    shownBy: 'bootstrap apply of a barclamp that installs a package (apt gives up after its 120 s lock timeout)',
    inject: { script: 'systemd-run --unit=bootstrap-fault-dpkg-lock --quiet flock /var/lib/dpkg/lock-frontend sleep infinity && sleep 0.5 && systemctl is-active -q bootstrap-fault-dpkg-lock', what: 'holding the dpkg lock' },
    heal: { script: 'systemctl stop bootstrap-fault-dpkg-lock 2>/dev/null; true', what: 'releasing the dpkg lock' },
  }),
  machineScriptFault({
    gene: 'SVC-START-FAILED',
    does: 'makes chrony unable to start (a drop-in with ExecStartPre=/bin/false) and stops it, so the next apply starts it',
    shownBy: 'bootstrap apply (the ntp barclamp starts chrony)',
    inject: { script: "set -e; mkdir -p /etc/systemd/system/chrony.service.d; printf '[Service]\\nExecStartPre=/bin/false\\n' > /etc/systemd/system/chrony.service.d/zz-bootstrap-fault.conf; systemctl daemon-reload; systemctl stop chrony", what: 'breaking chrony' },
    heal: { script: 'rm -f /etc/systemd/system/chrony.service.d/zz-bootstrap-fault.conf; systemctl daemon-reload; systemctl reset-failed chrony 2>/dev/null; true', what: 'repairing chrony' },
  }),
  {
    gene: 'HA-RING-NOT-FORMED',
    scope: 'node',
    does: "drops corosync's UDP 5405 in and out of the machine (nftables in its network namespace)",
    shownBy: 'bootstrap apply (the pacemaker barclamp checks every member is online)',
    inject: async (t) => {
      must(await t.inMachineNetwork('nft', ['-f', '-'], `table inet ${NFT_TABLE} {\n chain in { type filter hook input priority 0; udp dport 5405 drop; }\n chain out { type filter hook output priority 0; udp dport 5405 drop; }\n}\n`), 'blocking corosync');
      // in effect only once corosync's token timeout has passed and the machine sees its peers offline
      must(await t.inMachine(`for i in $(seq 60); do crm_mon -1 -X 2>/dev/null | grep -q 'online="false"' && exit 0; sleep 1; done; echo 'the ring did not break within 60 s' >&2; exit 1`), 'waiting for the ring to break');
      return {};
    },
    heal: async (t) => {
      must(await t.inMachineNetwork('nft', ['delete', 'table', 'inet', NFT_TABLE]), 'unblocking corosync');
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
];
