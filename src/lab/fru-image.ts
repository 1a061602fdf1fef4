/** Builds a minimal IPMI FRU image (common header, board area, product area) as ipmi_sim serves it. */
export interface FruFields {
  manufacturer: string;
  product: string;
  serial: string;
  partNumber: string;
  boardSerial: string;
  assetTag: string;
}

const FRU_SIZE = 256;

export function fruImage(fields: FruFields): Buffer {
  // Board area: language English (0x19), manufacturing date 0 (3 bytes), then type/length fields.
  const board = area(
    [fields.manufacturer, `${fields.product} board`, fields.boardSerial, fields.partNumber, 'bootstrap-lab'],
    [0x19, 0, 0, 0],
  );
  const product = area(
    [fields.manufacturer, fields.product, fields.partNumber, 'v1', fields.serial, fields.assetTag, 'bootstrap-lab'],
    [0x19],
  );
  const boardOffset = 8;
  const productOffset = boardOffset + board.length;
  const header = Buffer.from([0x01, 0, 0, boardOffset / 8, productOffset / 8, 0, 0, 0]);
  header[7] = checksum(header.subarray(0, 7));
  const image = Buffer.concat([header, board, product]);
  if (image.length > FRU_SIZE) throw new Error(`FRU fields too long (${image.length} bytes > ${FRU_SIZE})`);
  return Buffer.concat([image, Buffer.alloc(FRU_SIZE - image.length)]);
}

function area(fields: string[], preamble: number[]): Buffer {
  const body: number[] = [...preamble];
  for (const field of fields) {
    const bytes = Buffer.from(field, 'ascii').subarray(0, 63);
    body.push(0xc0 | bytes.length, ...bytes);
  }
  body.push(0xc1); // end of fields
  const unpadded = 2 + body.length + 1;
  const padding = (8 - (unpadded % 8)) % 8;
  const out = Buffer.from([0x01, (unpadded + padding) / 8, ...body, ...new Array<number>(padding).fill(0), 0]);
  out[out.length - 1] = checksum(out.subarray(0, out.length - 1));
  return out;
}

/** Zero checksum: all bytes of an area including this one sum to 0 mod 256. */
function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xff;
  return (0x100 - sum) & 0xff;
}
