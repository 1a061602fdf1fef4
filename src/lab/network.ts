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
export async function ensureNamespace(ns: string, bridge: string, hostVeth: string, addressCidr?: string, mac?: string): Promise<void> {
  if ((await runCommand('ip', ['netns', 'exec', ns, 'true'])).code !== 0) {
    await runCommand('ip', ['netns', 'del', ns]);
    await mustRun('ip', ['netns', 'add', ns]);
  }
  if ((await runCommand('ip', ['link', 'show', hostVeth])).code !== 0) {
    await mustRun('ip', ['link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', ...(mac ? ['address', mac] : []), 'netns', ns]);
  }
  await mustRun('ip', ['link', 'set', hostVeth, 'master', bridge, 'up']);
  await mustRun('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  if (addressCidr !== undefined) {
    const shown = await mustRun('ip', ['-n', ns, '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
    if (!shown.includes(` ${addressCidr} `)) await mustRun('ip', ['-n', ns, 'addr', 'add', addressCidr, 'dev', 'eth0']);
  }
  await mustRun('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
}

export async function deleteNamespace(ns: string, hostVeth: string): Promise<void> {
  await runCommand('ip', ['link', 'del', hostVeth]);
  await runCommand('ip', ['netns', 'del', ns]);
}
