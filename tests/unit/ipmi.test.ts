import { describe, expect, it } from 'vitest';
import { parseFru, parseGuid, parseLan, parsePowerState } from '../../src/ipmi/bmc-reads.js';
import { classifyIpmiOutput } from '../../src/ipmi/ipmi-error.js';
import { IpmiTool, type CommandRunner } from '../../src/ipmi/ipmitool.js';
import { channelAuthCapabilitiesRequest, parseChannelAuthCapabilities } from '../../src/ipmi/rmcp.js';
import { expandTargets } from '../../src/ipmi/sweep.js';

const sum = (bytes: Buffer) => bytes.reduce((a, b) => a + b, 0) & 0xff;

describe('RMCP Get Channel Authentication Capabilities', () => {
  it('builds a session-less IPMI 1.5 request whose two message checksums are valid', () => {
    const packet = channelAuthCapabilitiesRequest(5);
    expect([...packet.subarray(0, 4)]).toEqual([0x06, 0x00, 0xff, 0x07]);
    const message = packet.subarray(14);
    expect(packet[13]).toBe(message.length);
    expect(sum(message.subarray(0, 3))).toBe(0);
    expect(sum(message.subarray(3))).toBe(0);
    expect(message[5]).toBe(0x38);
  });

  it('parses an answer (as ipmi_sim sends it) and rejects anything else', () => {
    const answer = Buffer.from([
      0x06, 0x00, 0xff, 0x07, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x81, 0x1c, 0x63, 0x20, 0x14, 0x38, 0x00, 0x01, 0x97,
      0x04, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
    ]);
    expect(parseChannelAuthCapabilities(answer)).toEqual({
      channel: 1,
      ipmi20: true,
      authTypes: ['none', 'md2', 'md5', 'password'],
      anonymousLogin: false,
      oemId: 0,
    });
    expect(parseChannelAuthCapabilities(Buffer.from('hello, not IPMI at all'))).toBeUndefined();
    const failed = Buffer.from(answer);
    failed[20] = 0xc1; // completion code "invalid command"
    expect(parseChannelAuthCapabilities(failed)).toBeUndefined();
  });

  it('expands CIDRs (hosts only), ranges and single addresses; refuses nonsense with a reason', () => {
    expect(expandTargets('10.0.0.0/30,10.0.1.5-7,10.0.2.9').addresses).toEqual([
      '10.0.0.1',
      '10.0.0.2',
      '10.0.1.5',
      '10.0.1.6',
      '10.0.1.7',
      '10.0.2.9',
    ]);
    expect(expandTargets('10.0.0.0/33').problems[0]).toMatch(/neither a CIDR/);
  });
});

describe('ipmitool output', () => {
  it('classifies session failures from ipmitool -v the way an operator needs them', () => {
    expect(classifyIpmiOutput('> RAKP 2 HMAC is invalid\nError: Unable to establish IPMI v2 / RMCP+ session')).toBe(
      'auth',
    );
    expect(
      classifyIpmiOutput(
        'Error in open session response message : invalid authentication algorithm\nError: Unable to establish IPMI v2 / RMCP+ session',
      ),
    ).toBe('unsupported');
    expect(
      classifyIpmiOutput(
        'Get Auth Capabilities error\nError issuing Get Channel Authentication Capabilities request\nError: Unable to establish IPMI v2 / RMCP+ session',
      ),
    ).toBe('connection');
    expect(
      classifyIpmiOutput('Set Chassis Power Control to Cycle failed: Command not supported in present state'),
    ).toBe('fatal');
  });

  it('reads FRU, LAN, power and GUID output', () => {
    expect(
      parseFru(
        ' Product Manufacturer  : BootstrapLab\n Product Name          : LabServer 1U\n Product Serial        : SRV-LAB-CTL1\n Board Serial          : BRD-LAB-CTL1\n',
      ),
    ).toMatchObject({
      productManufacturer: 'BootstrapLab',
      productName: 'LabServer 1U',
      productSerial: 'SRV-LAB-CTL1',
      boardSerial: 'BRD-LAB-CTL1',
    });
    expect(
      parseLan(
        'IP Address Source       : Static Address\nIP Address              : 10.78.0.11\nMAC Address             : 52:54:00:78:00:02\n',
      ),
    ).toEqual({ ipAddress: '10.78.0.11', macAddress: '52:54:00:78:00:02', subnetMask: '', ipSource: 'Static Address' });
    expect(parsePowerState('Chassis Power is off\n')).toBe('off');
    expect(parseGuid('System GUID   : D25909B5-1212-2861-F283-0686F403E176\n')).toBe(
      'd25909b5-1212-2861-f283-0686f403e176',
    );
  });
});

describe('IpmiTool', () => {
  const bmc = { address: '10.0.0.9', username: 'admin', password: 'S3cret-Bmc-Pass', cipherSuites: [17, 3] };
  const tool = (run: CommandRunner) =>
    new IpmiTool({ run, sleep: async () => undefined, nowMs: () => 0, minIntervalMs: 0 });

  it('falls back from cipher suite 17 to 3 and remembers what worked for that BMC', async () => {
    const calls: string[][] = [];
    const t = tool(async (_file, args) => {
      calls.push([...args]);
      const suite = args[args.indexOf('-C') + 1];
      return suite === '17'
        ? {
            code: 1,
            stdout: '',
            stderr: 'invalid authentication algorithm\nError: Unable to establish IPMI v2 / RMCP+ session',
          }
        : { code: 0, stdout: 'Chassis Power is on\n', stderr: '' };
    });
    expect(await t.run(bmc, ['chassis', 'power', 'status'])).toContain('on');
    await t.run(bmc, ['chassis', 'power', 'status']);
    expect(calls.map((a) => a[a.indexOf('-C') + 1])).toEqual(['17', '3', '3']);
    expect(t.cipherSuiteOf(bmc.address)).toBe(3);
  });

  it('does not try other cipher suites after a wrong password, and never puts the password on the command line', async () => {
    const calls: { args: string[]; env: Record<string, string> }[] = [];
    const t = tool(async (_file, args, options) => {
      calls.push({ args: [...args], env: options.env });
      return {
        code: 1,
        stdout: '',
        stderr: '> RAKP 2 HMAC is invalid\nError: Unable to establish IPMI v2 / RMCP+ session',
      };
    });
    await expect(t.run(bmc, ['mc', 'info'])).rejects.toMatchObject({ kind: 'auth' });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args).toContain('-E');
    expect(calls[0]!.args.join(' ')).not.toContain(bmc.password);
    expect(calls[0]!.env.IPMI_PASSWORD).toBe(bmc.password);
  });

  it('tries again after a growing pause when the BMC does not answer, but not after other failures', async () => {
    const pauses: number[] = [];
    let calls = 0;
    const t = new IpmiTool({
      sleep: async (ms) => void pauses.push(ms),
      nowMs: () => 0,
      minIntervalMs: 0,
      attempts: 3,
      backoffMs: 500,
      run: async () =>
        ++calls < 3
          ? {
              code: 1,
              stdout: '',
              stderr: 'Error: Unable to establish IPMI v2 / RMCP+ session\nGet Auth Capabilities error',
            }
          : { code: 0, stdout: 'Chassis Power is off\n', stderr: '' },
    });
    expect(await t.run({ ...bmc, cipherSuites: [3] }, ['chassis', 'power', 'status'])).toContain('off');
    expect(pauses).toEqual([500, 1000]);
    const silent = new IpmiTool({
      sleep: async (ms) => void pauses.push(ms),
      nowMs: () => 0,
      minIntervalMs: 0,
      attempts: 3,
      backoffMs: 500,
      run: async () => ({ code: 1, stdout: '', stderr: 'No response from remote controller' }),
    });
    await expect(silent.run({ ...bmc, cipherSuites: [3] }, ['mc', 'info'])).rejects.toMatchObject({
      kind: 'connection',
    });
    expect(pauses).toEqual([500, 1000, 500, 1000]);
  });

  it('talks to one BMC one command at a time', async () => {
    let inFlight = 0;
    let most = 0;
    const t = tool(async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return { code: 0, stdout: 'Chassis Power is on', stderr: '' };
    });
    await Promise.all([1, 2, 3, 4].map(() => t.run(bmc, ['chassis', 'power', 'status'])));
    expect(most).toBe(1);
  });
});
