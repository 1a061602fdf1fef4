import { closeSync, openSync, readSync, writeSync } from 'node:fs';

const SECTOR = 512;
/** Partitions start on 1 MiB boundaries, as every partitioning tool does by now. */
const ALIGN = 2048;

export interface Partition {
  /** First sector. */
  start: number;
  sectors: number;
  bytes: number;
}

/**
 * The OS image's disk: GPT with a BIOS boot partition (GRUB's core for legacy BIOS), an EFI system partition
 * (GRUB's loader at the removable-media path, so no NVRAM entry is needed) and the ext4 root.
 */
export interface DiskLayout {
  bytes: number;
  rootUuid: string;
  bios: Partition;
  esp: Partition;
  root: Partition;
  /** The table, as sfdisk's input. */
  sfdisk: string;
}

const TYPE = {
  bios: '21686148-6449-6E6F-744E-656564454649',
  esp: 'C12A7328-F81F-11D2-BA4B-00A0C93EC3B8',
  linux: '0FC63DAF-8483-4772-8E79-3D69C8477DE4',
};

export function diskLayout(bytes: number, rootUuid: string): DiskLayout {
  const total = Math.floor(bytes / SECTOR);
  const partition = (start: number, sectors: number): Partition => ({ start, sectors, bytes: sectors * SECTOR });
  const bios = partition(ALIGN, ALIGN);
  const esp = partition(bios.start + bios.sectors, 64 * ALIGN);
  const rootStart = esp.start + esp.sectors;
  // the backup GPT takes the last 33 sectors
  const root = partition(rootStart, Math.floor((total - 34 - rootStart) / ALIGN) * ALIGN);
  const line = (p: Partition, type: string, name: string) =>
    `start=${p.start}, size=${p.sectors}, type=${type}, name=${name}\n`;
  return {
    bytes: total * SECTOR,
    rootUuid,
    bios,
    esp,
    root,
    sfdisk: `label: gpt\nunit: sectors\n${line(bios, TYPE.bios, 'bios')}${line(esp, TYPE.esp, 'esp')}${line(root, TYPE.linux, 'root')}`,
  };
}

/** GRUB's menu on the root file system: the kernel the package manager keeps linked at /vmlinuz, on the serial console too. */
export function grubConfig(rootUuid: string, kernel: { linux: string; initrd: string }): string {
  return [
    'set default=0',
    'set timeout=1',
    'serial --unit=0 --speed=115200',
    'terminal_input console serial',
    'terminal_output console serial',
    "menuentry 'Debian GNU/Linux 12 (bootstrap)' {",
    `  search --no-floppy --fs-uuid --set=root ${rootUuid}`,
    `  linux ${kernel.linux} root=UUID=${rootUuid} ro console=tty0 console=ttyS0,115200n8`,
    `  initrd ${kernel.initrd}`,
    '}',
    '',
  ].join('\n');
}

/**
 * What grub-bios-setup does for a GPT disk, without needing the disk to be a block device: GRUB's 440-byte
 * boot code into the protective MBR (its partition bytes kept), pointed at core.img in the BIOS boot partition,
 * and core.img's first sector told where the rest of it lies.
 */
export function writeBootSectors(diskFile: string, layout: DiskLayout, bootImg: Buffer, coreImg: Buffer): void {
  if (bootImg.length !== SECTOR) throw new Error(`boot.img is ${bootImg.length} bytes, not ${SECTOR}`);
  const coreSectors = Math.ceil(coreImg.length / SECTOR);
  if (coreSectors > layout.bios.sectors)
    throw new Error(`core.img (${coreImg.length} bytes) does not fit the BIOS boot partition`);
  const fd = openSync(diskFile, 'r+');
  try {
    const mbr = Buffer.alloc(SECTOR);
    readSync(fd, mbr, 0, SECTOR, 0);
    const code = Buffer.from(bootImg);
    // the jump over the floppy drive check becomes two NOPs (a hard disk; some BIOSes pass a wrong drive)
    code[0x66] = 0x90;
    code[0x67] = 0x90;
    code.writeBigUInt64LE(BigInt(layout.bios.start), 0x5c);
    code[0x64] = 0xff; // boot from the drive the BIOS says it booted
    code.copy(mbr, 0, 0, 0x1b8);
    writeSync(fd, mbr, 0, SECTOR, 0);
    const core = Buffer.alloc(coreSectors * SECTOR);
    coreImg.copy(core);
    // diskboot's block list, at the end of core.img's first sector: the rest of core.img, loaded at 0x820:0
    const list = SECTOR - 12;
    core.writeBigUInt64LE(BigInt(layout.bios.start + 1), list);
    core.writeUInt16LE(coreSectors - 1, list + 8);
    core.writeUInt16LE(0x820, list + 10);
    writeSync(fd, core, 0, core.length, layout.bios.start * SECTOR);
  } finally {
    closeSync(fd);
  }
}
