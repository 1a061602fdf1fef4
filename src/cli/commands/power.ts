import { UserError } from '../../core/user-error.js';
import { bmcDriverOf, ipmiToolFor } from '../../engine/bmc-access.js';
import type { Deployment } from '../../engine/deployment.js';
import type { IpmiDriver } from '../../ipmi/ipmi-driver.js';
import { IpmiError } from '../../ipmi/ipmi-error.js';
import { usage, type ParsedArgs } from '../args.js';
import { EXIT, type CommandIO } from '../io.js';
import { deploymentFor } from './inventory-arg.js';

const POWER_ACTIONS = ['on', 'off', 'cycle', 'status'] as const;
const BOOT_DEVICES = ['pxe', 'disk'] as const;

/** `bootstrap power on|off|cycle|status NODE… [--inventory FILE]` through each node's BMC. */
export async function powerCommand(args: ParsedArgs, io: CommandIO): Promise<number> {
  const [action, ...names] = args.positionals;
  if (!POWER_ACTIONS.includes(action as (typeof POWER_ACTIONS)[number]) || names.length === 0) throw usage('usage: bootstrap power on|off|cycle|status NODE… [--inventory FILE]');
  return forEachNode(args, io, names, async (driver) => {
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
  if (!BOOT_DEVICES.includes(device as (typeof BOOT_DEVICES)[number]) || names.length === 0) throw usage('usage: bootstrap boot pxe|disk NODE… [--persistent] [--inventory FILE]');
  const persistent = args.flags.has('persistent');
  return forEachNode(args, io, names, async (driver) => {
    await driver.setBootDevice(device as (typeof BOOT_DEVICES)[number], persistent);
    return `boot device ${device}${persistent ? ' (persistent)' : ' (next boot only)'}`;
  });
}

async function forEachNode(args: ParsedArgs, io: CommandIO, names: string[], work: (driver: IpmiDriver) => Promise<string>): Promise<number> {
  const deployment = deploymentFor(args, io, undefined);
  const drivers = driversFor(deployment, io, names);
  let failed = 0;
  await Promise.all(drivers.map(async ([name, driver]) => {
    try {
      io.stdout.write(`${name}: ${await work(driver)}\n`);
    } catch (error) {
      if (!(error instanceof IpmiError)) throw error;
      failed++;
      io.stdout.write(`${name}: ✗ ${error.message}\n  what to do: ${error.remediation}\n`);
    }
  }));
  return failed > 0 ? EXIT.failed : EXIT.ok;
}

function driversFor(deployment: Deployment, io: CommandIO, names: string[]): [string, IpmiDriver][] {
  const tool = ipmiToolFor(io.env);
  return names.map((name) => {
    const node = deployment.inventory.nodes.find((n) => n.name === name);
    if (!node) throw usage(`node '${name}' is not in ${deployment.inventory.file} (nodes: ${deployment.inventory.nodes.map((n) => n.name).join(', ')})`);
    const driver = bmcDriverOf(tool, deployment.inventory, node, io.env);
    if (!driver) throw new UserError('precondition', `${name} has no BMC`, [{ severity: 'error', code: 'bmc.none', summary: `node ${name} has no bmc section in ${deployment.inventory.file}`, suggestion: 'add bmc: { address: … } to the node' }]);
    return [name, driver];
  });
}
