import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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
  hardware?: HardwareReport;
  /** The SSH host key the installer reported (pinned when the machine is handed to the barclamps). */
  hostKey?: string;
  /**
   * While installing: the one-time secret only this install's preseed carries (served to the machine's reserved
   * address alone); the "installed" callback must bring it back. Cleared once used.
   */
  installToken?: string;
}

/** What the boot server saw a machine do (DHCP, boot script, callbacks): appended, never rewritten. */
export interface MachineSighting {
  at: string;
  what: 'dhcp' | 'boot-script' | 'agent-report' | 'installed' | 'rejected';
  detail: string;
}

const HISTORY_LIMIT = 50;

/**
 * Machines under `<state-dir>/machines/`. The CLI and the boot server both write here, but never the same
 * thing at the same time: the CLI moves machines into a phase, the boot server records how it ends.
 */
export class MachineStore {
  constructor(private readonly dir: string, private readonly now: () => Date) {}

  get(id: string): MachineRecord | undefined {
    try {
      return JSON.parse(readFileSync(this.file(id), 'utf8')) as MachineRecord;
    } catch {
      return undefined;
    }
  }

  all(): MachineRecord[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir).filter((f) => f.endsWith('.json')).map((f) => this.get(f.slice(0, -5))).filter((r): r is MachineRecord => r !== undefined).sort((a, b) => a.id.localeCompare(b.id));
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
    const record: MachineRecord = { id, ...(fields.node !== undefined ? { node: fields.node } : {}), macs: fields.macs.map((m) => m.toLowerCase()), state, since: at, history: [{ from: null, to: state, at, reason }] };
    this.save(record);
    return record;
  }

  /** Moves a machine to `to`; an illegal transition throws and changes nothing. */
  transition(id: string, to: MachineState, reason: string, update: (r: MachineRecord) => void = () => undefined): MachineRecord {
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

  sight(id: string, what: MachineSighting['what'], detail: string): void {
    appendLineDurable(this.sightingsFile(id), JSON.stringify({ at: this.now().toISOString(), what, detail } satisfies MachineSighting));
  }

  sightings(id: string): MachineSighting[] {
    try {
      return readFileSync(this.sightingsFile(id), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as MachineSighting);
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
