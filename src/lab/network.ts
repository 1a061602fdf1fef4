import { existsSync, writeFileSync } from 'node:fs';
import { mustRun, runCommand } from '../util/exec.js';

/** A host bridge for a lab network: no forwarding, no route out; nodes attach with veth pairs. */
export async function ensureBridge(name: string, addressCidr: string): Promise<void> {
  if ((await runCommand('ip', ['link', 'show', name])).code !== 0) {
    await mustRun('ip', ['link', 'add', name, 'type', 'bridge']);
  }
  const shown = await mustRun('ip', ['-o', '-4', 'addr', 'show', 'dev', name]);
  if (!shown.includes(` ${addressCidr} `)) await mustRun('ip', ['addr', 'add', addressCidr, 'dev', name]);
  await mustRun('ip', ['link', 'set', name, 'up']);
}

export async function deleteLink(name: string): Promise<void> {
  await runCommand('ip', ['link', 'del', name]);
}

/**
 * A network namespace with one interface (eth0) on the bridge and no default route; with an address when
 * given (BMCs, pre-installed nodes), without one for machines that get theirs over DHCP.
 */
export async function ensureNamespace(
  ns: string,
  bridge: string,
  hostVeth: string,
  addressCidr?: string,
  mac?: string,
): Promise<void> {
  if ((await runCommand('ip', ['netns', 'exec', ns, 'true'])).code !== 0) {
    await runCommand('ip', ['netns', 'del', ns]);
    await mustRun('ip', ['netns', 'add', ns]);
  }
  await ensureNamespaceLink(ns, 'eth0', bridge, hostVeth, mac);
  await mustRun('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  if (addressCidr !== undefined) {
    const shown = await mustRun('ip', ['-n', ns, '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
    if (!shown.includes(` ${addressCidr} `)) await mustRun('ip', ['-n', ns, 'addr', 'add', addressCidr, 'dev', 'eth0']);
  }
}

/**
 * One more NIC of a namespace machine (`nic` inside, `hostVeth` on the bridge), up and without an address:
 * the provider NIC, whose bridge neutron's agent builds and where guest traffic flows, apart from eth0.
 */
export async function ensureNamespaceLink(
  ns: string,
  nic: string,
  bridge: string,
  hostVeth: string,
  mac?: string,
): Promise<void> {
  if ((await runCommand('ip', ['link', 'show', hostVeth])).code !== 0) {
    await mustRun('ip', [
      'link',
      'add',
      hostVeth,
      'type',
      'veth',
      'peer',
      'name',
      nic,
      ...(mac ? ['address', mac] : []),
      'netns',
      ns,
    ]);
  }
  await mustRun('ip', ['link', 'set', hostVeth, 'master', bridge, 'up']);
  await mustRun('ip', ['-n', ns, 'link', 'set', nic, 'up']);
}

export async function deleteNamespace(ns: string, hostVeth: string): Promise<void> {
  await runCommand('ip', ['link', 'del', hostVeth]);
  await runCommand('ip', ['netns', 'del', ns]);
}

/** A persistent tap device on the bridge, for a QEMU machine's NIC (QEMU opens it by name). */
export async function ensureTap(name: string, bridge: string): Promise<void> {
  if ((await runCommand('ip', ['link', 'show', name])).code !== 0)
    await mustRun('ip', ['tuntap', 'add', 'dev', name, 'mode', 'tap']);
  await mustRun('ip', ['link', 'set', name, 'master', bridge, 'up']);
}

/** A unique-local IPv6 address on a lab bridge, so the provisioner can answer iPXE's router solicitation. */
export async function ensureBridgeIPv6(name: string, addressCidr: string): Promise<void> {
  // the host side takes no advertisement (not even the provisioner's own): its address is static
  for (const setting of ['accept_ra', 'autoconf']) writeFileSync(`/proc/sys/net/ipv6/conf/${name}/${setting}`, '0\n');
  const shown = await mustRun('ip', ['-o', '-6', 'addr', 'show', 'dev', name]);
  if (!shown.includes(` ${addressCidr} `))
    await mustRun('ip', ['-6', 'addr', 'add', addressCidr, 'dev', name, 'nodad']);
}

/**
 * A name for the network namespace this process runs in (BMC hooks run inside the BMC's namespace, and
 * a QEMU machine must open its tap device where the lab bridge is). `$$` is the shell's own pid, which
 * shares our namespace.
 */
export async function ensureHostNamespaceHandle(name: string): Promise<void> {
  if (await sameNamespace(name)) return;
  await runCommand('ip', ['netns', 'del', name]);
  await mustRun('sh', ['-c', 'exec ip netns attach "$1" $$', 'sh', name]);
}

/** Whether the handle exists and names this process's namespace (a stale one from another boot does not). */
async function sameNamespace(name: string): Promise<boolean> {
  const inside = await runCommand('ip', ['netns', 'exec', name, 'readlink', '/proc/self/ns/net']);
  const here = await runCommand('readlink', ['/proc/self/ns/net']);
  return inside.code === 0 && inside.stdout.trim() === here.stdout.trim();
}

/**
 * Security groups on Linux bridges need the bridge netfilter hooks (br_netfilter): neutron's agent turns on
 * net.bridge.bridge-nf-call-iptables in its node's namespace, but a container node cannot load the module.
 * Loaded here, on the host, when the kernel has it as a module; true when the hooks exist.
 */
export async function ensureBridgeNetfilter(): Promise<boolean> {
  if (!existsSync('/proc/sys/net/bridge')) await runCommand('modprobe', ['br_netfilter']);
  return existsSync('/proc/sys/net/bridge');
}
