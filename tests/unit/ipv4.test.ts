import { describe, expect, it } from 'vitest';
import { cidrProblem, netmaskOf, parseRange } from '../../src/util/ipv4.js';

describe('IPv4 helpers', () => {
  it('turns prefix lengths into dotted netmasks (BMC LAN config)', () => {
    expect(netmaskOf(24)).toBe('255.255.255.0');
    expect(netmaskOf(20)).toBe('255.255.240.0');
    expect(netmaskOf(32)).toBe('255.255.255.255');
    expect(netmaskOf(0)).toBe('0.0.0.0');
  });

  it('explains what is wrong with a CIDR and accepts short ranges', () => {
    expect(cidrProblem('10.1.0.5/24')).toBe("'10.1.0.5/24' has host bits set; the network is 10.1.0.0/24");
    expect(parseRange('10.1.0.100-199')).toEqual({ start: 167837796, end: 167837895 });
  });
});
