/** How an authenticated IPMI operation failed, in terms an operator can act on. */
export type IpmiErrorKind = 'auth' | 'connection' | 'unsupported' | 'fatal';

export class IpmiError extends Error {
  constructor(
    readonly kind: IpmiErrorKind,
    readonly bmc: string,
    message: string,
    readonly stderr: string,
  ) {
    super(message);
  }

  get remediation(): string {
    return REMEDIATION[this.kind];
  }
}

const REMEDIATION: Record<IpmiErrorKind, string> = {
  auth: 'check the BMC user name and password in the inventory (bmc.username, bmc.password {file:|env:}) and that the user has administrator privilege',
  connection:
    'check that the BMC address is right and reachable from this host on UDP 623 (network, VLAN, firewall), and that IPMI over LAN is enabled on the BMC',
  unsupported:
    'the BMC refused a setting (e.g. cipher suite); adjust bmc.cipher_suites in the inventory (17 for modern BMCs, 3 for older ones)',
  fatal:
    "the BMC answered with an error; see the evidence (ipmitool output) and the BMC's own event log (ipmitool sel list)",
};

/** Reads `ipmitool -v` output: the lines before "Unable to establish…" say why a session failed. */
export function classifyIpmiOutput(stderr: string): IpmiErrorKind {
  if (
    /invalid authentication algorithm|no matching cipher suite|cipher suite .* not supported|invalid integrity algorithm|invalid confidentiality algorithm/i.test(
      stderr,
    )
  )
    return 'unsupported';
  if (
    /RAKP 2 HMAC is invalid|unauthorized name|invalid user ?name|RAKP 2 message indicates an error|Activate Session error|password/i.test(
      stderr,
    )
  )
    return 'auth';
  if (
    /Get Auth Capabilities error|Get Channel Authentication Capabilities|No response|timeout|Connection refused|unreachable|Unable to establish/i.test(
      stderr,
    )
  )
    return 'connection';
  return 'fatal';
}
