import type { InstallSettings } from '../inventory/types.js';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { appendLineDurable, writeFileAtomic } from '../util/atomic-file.js';
import type { HardwareReport } from './hardware-report.js';
import { canTransition, IllegalTransition, type MachineState } from './machine-state.js';

/** What the bootstrapper knows about one machine, persisted atomically (one JSON file per machine). */
export interface MachineRecord {
  /** The inventory node name, or `unknown-<mac>` for a machine that PXE-booted on its own. */
  id: string;
  node?: string;
  macs: string[];
  state: MachineState;
  since: string;
  history: { from: MachineState | null; to: MachineState; at: string; reason: string }[];
  lastFailure?: { gene: string; message: string; at: string };
  /**
   * The inventory's disk choices for the install under way, written when apply starts it: the long-running
   * provisioner serves them in the preseed, whatever inventory it was started with.
   */
  install?: InstallSettings;
  /** What the install agent reported when a step of the install failed (from its failure callback). */
  installFailure?: { step: string; report: string };
  hardware?: HardwareReport;
  /** The SSH host key the installer reported (pinned when the machine is handed to the barclamps). */
  hostKey?: string;
  /**
   * While installing: the one-time secret only this install's preseed carries (served to the machine's own
   * address alone: its DHCP lease or reservation); the "installed" callback must bring it back. Cleared once used.
   */
  installToken?: string;
}

/** What the boot server saw a machine do (DHCP, boot script, callbacks): appended, never rewritten. */
export interface MachineSighting {
  at: string;
  what: 'dhcp' | 'boot-script' | 'agent-report' | 'installed' | 'install-failed' | 'rejected';
  detail: string;
}

const HISTORY_LIMIT = 50;
/** Sightings kept per machine: past this size the oldest half goes (a flood fills no disk). */
const SIGHTINGS_MAX_BYTES = 256 * 1024;
const DETAIL_MAX = 500;
/** Machines nobody told us about that get a file of their own; beyond, their sightings are dropped. */
const UNKNOWN_MACHINES_MAX = 1024;

/**
 * Machines under `<state-dir>/machines/`. The CLI and the boot server both write here, but never the same
 * thing at the same time: the CLI moves machines into a phase, the boot server records how it ends.
 */
export class MachineStore {
  constructor(
    private readonly dir: string,
    private readonly now: () => Date,
  ) {}

  get(id: string): MachineRecord | undefined {
    try {
      return JSON.parse(readFileSync(this.file(id), 'utf8')) as MachineRecord;
    } catch {
      return undefined;
    }
  }

  all(): MachineRecord[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => this.get(f.slice(0, -5)))
      .filter((r): r is MachineRecord => r !== undefined)
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  byMac(mac: string): MachineRecord | undefined {
    const wanted = mac.toLowerCase();
    return this.all().find((r) => r.macs.includes(wanted));
  }

  /** Creates the record in `state` if it does not exist yet; returns the current one otherwise. */
  enroll(id: string, fields: { node?: string; macs: string[] }, state: MachineState, reason: string): MachineRecord {
    const existing = this.get(id);
    if (existing) return existing;
    const at = this.now().toISOString();
    const record: MachineRecord = {
      id,
      ...(fields.node !== undefined ? { node: fields.node } : {}),
      macs: fields.macs.map((m) => m.toLowerCase()),
      state,
      since: at,
      history: [{ from: null, to: state, at, reason }],
    };
    this.save(record);
    return record;
  }

  /** Moves a machine to `to`; an illegal transition throws and changes nothing. */
  transition(
    id: string,
    to: MachineState,
    reason: string,
    update: (r: MachineRecord) => void = () => undefined,
  ): MachineRecord {
    const record = this.get(id);
    if (!record) throw new Error(`unknown machine ${id}`);
    if (!canTransition(record.state, to)) throw new IllegalTransition(id, record.state, to);
    const at = this.now().toISOString();
    update(record);
    record.history = [...record.history, { from: record.state, to, at, reason }].slice(-HISTORY_LIMIT);
    record.state = to;
    record.since = at;
    this.save(record);
    return record;
  }

  update(id: string, change: (r: MachineRecord) => void): MachineRecord | undefined {
    const record = this.get(id);
    if (!record) return undefined;
    change(record);
    this.save(record);
    return record;
  }

  /** Forgets a machine (its disk was wiped, e.g. a recreated lab). */
  forget(id: string): void {
    rmSync(this.file(id), { force: true });
    rmSync(this.sightingsFile(id), { force: true });
  }

  /**
   * Appends what the boot server saw. Bounded, because anyone on the provisioning network can make it write:
   * details are cut at 500 characters, a machine's file keeps its newest 256 KiB, and machines nobody told us
   * about get files only while there are fewer than 1,024 of them.
   */
  sight(id: string, what: MachineSighting['what'], detail: string): void {
    const file = this.sightingsFile(id);
    const size = existsSync(file) ? statSync(file).size : undefined;
    if (size === undefined && id.startsWith('unknown-') && this.unknownCount() >= UNKNOWN_MACHINES_MAX) return;
    if (size !== undefined && size > SIGHTINGS_MAX_BYTES) {
      const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
      writeFileAtomic(file, `${lines.slice(Math.floor(lines.length / 2)).join('\n')}\n`, 0o600);
    }
    mkdirSync(this.dir, { recursive: true });
    appendLineDurable(
      file,
      JSON.stringify({
        at: this.now().toISOString(),
        what,
        detail: detail.slice(0, DETAIL_MAX),
      } satisfies MachineSighting),
    );
  }

  /** Machines nobody told us about (by their sightings or records), counted to bound them. */
  unknownCount(): number {
    if (!existsSync(this.dir)) return 0;
    return new Set(
      readdirSync(this.dir)
        .filter((f) => f.startsWith('unknown-'))
        .map((f) => f.replace(/\..*$/, '')),
    ).size;
  }

  sightings(id: string): MachineSighting[] {
    try {
      return readFileSync(this.sightingsFile(id), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as MachineSighting);
    } catch {
      return [];
    }
  }

  private save(record: MachineRecord): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(this.file(record.id), `${JSON.stringify(record, null, 2)}\n`, 0o600);
  }

  private file(id: string): string {
    return join(this.dir, `${safeId(id)}.json`);
  }

  private sightingsFile(id: string): string {
    return join(this.dir, `${safeId(id)}.sightings.jsonl`);
  }
}

export function unknownMachineId(mac: string): string {
  return `unknown-${mac.toLowerCase().replace(/[^0-9a-f]/g, '')}`;
}

function safeId(id: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) throw new Error(`invalid machine id ${JSON.stringify(id)}`);
  return id;
}
