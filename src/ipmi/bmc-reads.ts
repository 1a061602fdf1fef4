/** Parsers for ipmitool's human output (`Key : Value` lines). Pure, so they are unit-tested on samples. */

export interface McInfo {
  deviceId: string;
  firmwareRevision: string;
  ipmiVersion: string;
  manufacturerId: string;
  productId: string;
}

export interface FruInfo {
  boardManufacturer: string;
  boardSerial: string;
  productManufacturer: string;
  productName: string;
  productSerial: string;
  productPartNumber: string;
  productAssetTag: string;
}

export interface LanInfo {
  ipAddress: string;
  macAddress: string;
  subnetMask: string;
  ipSource: string;
}

function fields(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\s*([^:]+?)\s*:\s?(.*)$/.exec(line);
    if (match && !map.has(match[1]!)) map.set(match[1]!, match[2]!.trim());
  }
  return map;
}

export function parseMcInfo(text: string): McInfo {
  const f = fields(text);
  return {
    deviceId: f.get('Device ID') ?? '',
    firmwareRevision: f.get('Firmware Revision') ?? '',
    ipmiVersion: f.get('IPMI Version') ?? '',
    manufacturerId: f.get('Manufacturer ID') ?? '',
    productId: f.get('Product ID') ?? '',
  };
}

export function parseFru(text: string): FruInfo {
  const f = fields(text);
  return {
    boardManufacturer: f.get('Board Mfg') ?? '',
    boardSerial: f.get('Board Serial') ?? '',
    productManufacturer: f.get('Product Manufacturer') ?? '',
    productName: f.get('Product Name') ?? '',
    productSerial: f.get('Product Serial') ?? '',
    productPartNumber: f.get('Product Part Number') ?? '',
    productAssetTag: f.get('Product Asset Tag') ?? '',
  };
}

export function parseLan(text: string): LanInfo {
  const f = fields(text);
  return {
    ipAddress: f.get('IP Address') ?? '',
    macAddress: (f.get('MAC Address') ?? '').toLowerCase(),
    subnetMask: f.get('Subnet Mask') ?? '',
    ipSource: f.get('IP Address Source') ?? '',
  };
}

export function parsePowerState(text: string): 'on' | 'off' | undefined {
  const match = /Chassis Power is (on|off)/i.exec(text);
  return match ? (match[1]!.toLowerCase() as 'on' | 'off') : undefined;
}

/** `ipmitool mc guid` prints the system GUID; lower-case, hyphenated. */
export function parseGuid(text: string): string {
  const match = /System GUID\s*:\s*([0-9a-fA-F-]{32,36})/.exec(text);
  return match ? match[1]!.toLowerCase() : '';
}
