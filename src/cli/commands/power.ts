import { runBmcOperation } from '../../engine/bmc-operation.js';
import type { IpmiDriver } from '../../ipmi/ipmi-driver.js';
import { usage, type ParsedArgs } from '../args.js';
import { EXIT, type CommandIO } from '../io.js';
import { deploymentFor } from './inventory-arg.js';

const POWER_ACTIONS = ['on', 'off', 'cycle', 'status'] as const;
const BOOT_DEVICES = ['pxe', 'disk'] as const;

/** `bootstrap power on|off|cycle|status NODE… [--inventory FILE]` through each node's BMC. */
export async function powerCommand(args: ParsedArgs, io: CommandIO): Promise<number> {
  const [action, ...names] = args.positionals;
  if (!POWER_ACTIONS.includes(action as (typeof POWER_ACTIONS)[number]) || names.length === 0)
    throw usage('usage: bootstrap power on|off|cycle|status NODE… [--inventory FILE]');
  return forEachNode(args, io, 'power', names, async (driver) => {
    if (action === 'status') return `power ${await driver.powerState()}`;
    if (action === 'on') await driver.powerOn();
    else if (action === 'off') await driver.powerOff();
    else await driver.reboot();
    return `power ${action}: done`;
  });
}

/** `bootstrap boot pxe|disk NODE… [--persistent] [--inventory FILE]`. */
export async function bootCommand(args: ParsedArgs, io: CommandIO): Promise<number> {
  const [device, ...names] = args.positionals;
  if (!BOOT_DEVICES.includes(device as (typeof BOOT_DEVICES)[number]) || names.length === 0)
    throw usage('usage: bootstrap boot pxe|disk NODE… [--persistent] [--inventory FILE]');
  const persistent = args.flags.has('persistent');
  return forEachNode(args, io, 'boot', names, async (driver) => {
    await driver.setBootDevice(device as (typeof BOOT_DEVICES)[number], persistent);
    return `boot device ${device}${persistent ? ' (persistent)' : ' (next boot only)'}`;
  });
}

async function forEachNode(
  args: ParsedArgs,
  io: CommandIO,
  command: 'power' | 'boot',
  names: string[],
  work: (driver: IpmiDriver) => Promise<string>,
): Promise<number> {
  const deployment = deploymentFor(args, io, undefined);
  const { results } = await runBmcOperation(io.env, deployment, command, names, work);
  for (const r of results)
    io.stdout.write(
      r.record
        ? `${r.node}: ✗ [${r.record.gene}] ${r.text}\n  what to do: ${r.record.mitigation}\n`
        : `${r.node}: ${r.text}\n`,
    );
  return results.some((r) => r.record) ? EXIT.failed : EXIT.ok;
}
