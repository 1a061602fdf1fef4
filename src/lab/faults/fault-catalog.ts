import { must, type FaultInjector } from './fault.js';

const KEEP = '/var/lib/bootstrap-fault';
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
      must(await t.bmcCommands(t.bmcPassword(), `user set password 2 ${rotated}\n`), 'rotating the BMC password');
      return { rotated };
    },
    heal: async (t, memo) => {
      must(await t.bmcCommands(memo.rotated!, `user set password 2 ${t.bmcPassword()}\n`), 'restoring the BMC password');
    },
  },
  {
    gene: 'SSH-UNREACHABLE',
    scope: 'node',
    does: 'stops sshd in the machine (ssh.service and ssh.socket)',
    shownBy: 'bootstrap apply (gathering facts fails for NODE)',
    inject: async (t) => {
      must(await t.inMachine('systemctl stop ssh.socket ssh.service 2>/dev/null; ! systemctl is-active -q ssh.service'), 'stopping sshd');
      return {};
    },
    heal: async (t) => {
      must(await t.inMachine('systemctl start ssh.service'), 'starting sshd');
    },
  },
  {
    gene: 'SSH-HOSTKEY-CHANGED',
    scope: 'node',
    does: 'gives the machine new SSH host keys (the old ones are kept aside for heal)',
    shownBy: 'bootstrap apply (the pinned key no longer matches)',
    inject: async (t) => {
      must(await t.inMachine(`set -e; mkdir -p ${KEEP}/ssh; cp -a /etc/ssh/ssh_host_* ${KEEP}/ssh/; rm -f /etc/ssh/ssh_host_*; ssh-keygen -A >/dev/null; systemctl restart ssh`), 'replacing the host keys');
      return {};
    },
    heal: async (t) => {
      must(await t.inMachine(`set -e; rm -f /etc/ssh/ssh_host_*; cp -a ${KEEP}/ssh/ssh_host_* /etc/ssh/; rm -rf ${KEEP}/ssh; systemctl restart ssh`), 'restoring the host keys');
    },
  },
  {
    gene: 'PKG-REPO-UNREACHABLE',
    scope: 'node',
    does: "points the machine's apt at a closed port (an apt.conf.d file that overrides the proxy) and drops its downloaded packages",
    shownBy: 'bootstrap apply of a barclamp that installs a package not yet on NODE',
    inject: async (t) => {
      must(await t.inMachine(`printf 'Acquire::http::Proxy "http://127.0.0.1:9/";\\n' > /etc/apt/apt.conf.d/99zz-bootstrap-fault && apt-get clean`), 'breaking the package source');
      return {};
    },
    heal: async (t) => {
      must(await t.inMachine('rm -f /etc/apt/apt.conf.d/99zz-bootstrap-fault'), 'restoring the package source');
    },
  },
  {
    gene: 'PKG-DPKG-LOCK',
    scope: 'node',
    does: "holds the machine's dpkg frontend lock (a transient unit running flock)",
    shownBy: 'bootstrap apply of a barclamp that installs a package (apt gives up after its 120 s lock timeout)',
    inject: async (t) => {
      must(await t.inMachine('systemd-run --unit=bootstrap-fault-dpkg-lock --quiet flock /var/lib/dpkg/lock-frontend sleep infinity && sleep 0.5 && systemctl is-active -q bootstrap-fault-dpkg-lock'), 'holding the dpkg lock');
      return {};
    },
    heal: async (t) => {
      must(await t.inMachine('systemctl stop bootstrap-fault-dpkg-lock 2>/dev/null; true'), 'releasing the dpkg lock');
    },
  },
  {
    gene: 'SVC-START-FAILED',
    scope: 'node',
    does: 'makes chrony unable to start (a drop-in with ExecStartPre=/bin/false) and stops it, so the next apply starts it',
    shownBy: 'bootstrap apply (the ntp barclamp starts chrony)',
    inject: async (t) => {
      must(await t.inMachine("set -e; mkdir -p /etc/systemd/system/chrony.service.d; printf '[Service]\\nExecStartPre=/bin/false\\n' > /etc/systemd/system/chrony.service.d/zz-bootstrap-fault.conf; systemctl daemon-reload; systemctl stop chrony"), 'breaking chrony');
      return {};
    },
    heal: async (t) => {
      must(await t.inMachine('rm -f /etc/systemd/system/chrony.service.d/zz-bootstrap-fault.conf; systemctl daemon-reload; systemctl reset-failed chrony 2>/dev/null; true'), 'repairing chrony');
    },
  },
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
