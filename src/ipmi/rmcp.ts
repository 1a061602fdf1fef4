/**
 * The one IPMI request every BMC answers without a session: "Get Channel Authentication Capabilities"
 * (IPMI 1.5 session-less, over RMCP on UDP 623). Used by the sweep to find BMCs; the answer also says
 * whether the BMC speaks IPMI 2.0 (RMCP+, needed for `ipmitool -I lanplus`).
 */
const RMCP_HEADER = [0x06, 0x00, 0xff, 0x07];
const BMC_ADDRESS = 0x20;
const REMOTE_CONSOLE = 0x81;
const NETFN_APP_REQUEST = 0x06;
const GET_CHANNEL_AUTH_CAPABILITIES = 0x38;

function checksum(bytes: readonly number[]): number {
  return (0x100 - (bytes.reduce((a, b) => a + b, 0) & 0xff)) & 0xff;
}

/** `sequence` (0–63) lets the sweep match answers to requests. */
export function channelAuthCapabilitiesRequest(sequence: number): Buffer {
  const header = [BMC_ADDRESS, NETFN_APP_REQUEST << 2];
  // channel 0x0e = "this channel", bit 7 = also report IPMI 2.0 capabilities; 0x04 = administrator
  const body = [REMOTE_CONSOLE, (sequence & 0x3f) << 2, GET_CHANNEL_AUTH_CAPABILITIES, 0x8e, 0x04];
  const message = [...header, checksum(header), ...body, checksum(body)];
  // session header (IPMI 1.5, no authentication): auth type, sequence (4), session id (4), length
  return Buffer.from([...RMCP_HEADER, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, message.length, ...message]);
}

export interface ChannelAuthCapabilities {
  channel: number;
  ipmi20: boolean;
  authTypes: string[];
  anonymousLogin: boolean;
  oemId: number;
}

/** Parses an answer; undefined when it is not a well-formed, successful answer to our request. */
export function parseChannelAuthCapabilities(packet: Buffer): ChannelAuthCapabilities | undefined {
  if (packet.length < 20 || packet[0] !== 0x06 || packet[3] !== 0x07) return undefined;
  const authType = packet[4]!;
  const sessionHeader = authType === 0 ? 10 : 26; // an authenticated 1.5 header carries a 16-byte code
  const msg = 4 + sessionHeader;
  const length = packet[msg - 1]!;
  if (packet.length < msg + length || length < 8 + 8) return undefined;
  if (packet[msg + 5] !== GET_CHANNEL_AUTH_CAPABILITIES || packet[msg + 1]! >> 2 !== NETFN_APP_REQUEST + 1)
    return undefined;
  if (packet[msg + 6] !== 0x00) return undefined; // completion code
  const data = packet.subarray(msg + 7, msg + length - 1);
  const types = data[1]!;
  const names: [number, string][] = [
    [0x01, 'none'],
    [0x02, 'md2'],
    [0x04, 'md5'],
    [0x10, 'password'],
    [0x20, 'oem'],
  ];
  return {
    channel: data[0]!,
    ipmi20: (types & 0x80) !== 0 && (data[3]! & 0x02) !== 0,
    authTypes: names.filter(([bit]) => (types & bit) !== 0).map(([, name]) => name),
    anonymousLogin: (data[2]! & 0x01) !== 0,
    oemId: data[4]! | (data[5]! << 8) | (data[6]! << 16),
  };
}
