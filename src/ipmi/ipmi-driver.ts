import {
  parseFru,
  parseGuid,
  parseLan,
  parseMcInfo,
  parsePowerState,
  type FruInfo,
  type LanInfo,
  type McInfo,
} from './bmc-reads.js';
import { IpmiError } from './ipmi-error.js';
import type { BmcTarget, IpmiTool } from './ipmitool.js';

/** Small driver interfaces in the spirit of Ironic's power / management / inspect interfaces. */
export type PowerState = 'on' | 'off';
export type BootDevice = 'pxe' | 'disk';

export interface PowerInterface {
  powerState(): Promise<PowerState>;
  powerOn(): Promise<void>;
  powerOff(): Promise<void>;
  /** Off-then-on for a running machine, plain on for one that is off (real BMCs refuse to cycle an off chassis). */
  reboot(): Promise<void>;
}

export interface ManagementInterface {
  /** Next boot only, unless persistent. */
  setBootDevice(device: BootDevice, persistent: boolean): Promise<void>;
}

export interface BmcInventory {
  address: string;
  mc: McInfo;
  fru: FruInfo;
  lan: LanInfo;
  guid: string;
  power: PowerState;
  cipherSuite?: number;
}

export interface InspectInterface {
  inspect(): Promise<BmcInventory>;
}

export class IpmiDriver implements PowerInterface, ManagementInterface, InspectInterface {
  constructor(
    private readonly tool: IpmiTool,
    readonly bmc: BmcTarget,
  ) {}

  async powerState(): Promise<PowerState> {
    const out = await this.tool.run(this.bmc, ['chassis', 'power', 'status']);
    const state = parsePowerState(out);
    if (!state)
      throw new IpmiError(
        'fatal',
        this.bmc.address,
        `BMC ${this.bmc.address} gave an unreadable power status: ${out.trim()}`,
        out,
      );
    return state;
  }

  async powerOn(): Promise<void> {
    await this.tool.run(this.bmc, ['chassis', 'power', 'on']);
  }

  async powerOff(): Promise<void> {
    await this.tool.run(this.bmc, ['chassis', 'power', 'off']);
  }

  async reboot(): Promise<void> {
    if ((await this.powerState()) === 'on') await this.tool.run(this.bmc, ['chassis', 'power', 'cycle']);
    else await this.powerOn();
  }

  async setBootDevice(device: BootDevice, persistent: boolean): Promise<void> {
    await this.tool.run(this.bmc, ['chassis', 'bootdev', device, ...(persistent ? ['options=persistent'] : [])]);
  }

  async inspect(): Promise<BmcInventory> {
    // One at a time per BMC anyway (IpmiTool serialises), so sequential costs nothing extra.
    const mc = parseMcInfo(await this.tool.run(this.bmc, ['mc', 'info']));
    const fru = parseFru(await this.tool.run(this.bmc, ['fru', 'print', '0']));
    const lan = parseLan(await this.tool.run(this.bmc, ['lan', 'print', '1']));
    const guid = parseGuid(await this.tool.run(this.bmc, ['mc', 'guid']).catch(() => ''));
    const power = await this.powerState();
    const suite = this.tool.cipherSuiteOf(this.bmc.address);
    return {
      address: this.bmc.address,
      mc,
      fru,
      lan,
      guid,
      power,
      ...(suite !== undefined ? { cipherSuite: suite } : {}),
    };
  }
}
