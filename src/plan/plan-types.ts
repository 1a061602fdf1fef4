import type { Batch, DesiredCheck } from './desired-types.js';

export type StepAction = 'noop' | 'create' | 'update' | 'run';
export type StepKind = 'package' | 'file' | 'directory' | 'service' | 'command' | 'handler';

export interface FileState {
  sha256: string | null;
  mode: string;
  owner: string;
  group: string;
}

export interface PlanStep {
  id: string;
  node: string;
  batch: number;
  barclamp: string;
  role: string;
  kind: StepKind;
  action: StepAction;
  /** Human one-liner, e.g. `write /etc/chrony/chrony.conf`. Never contains secrets. */
  summary: string;
  /** What differs (e.g. `content`, `mode 0600 → 0644`, `enable`, `start`, missing package names). */
  changes: string[];
  /** sha256 of the full desired resource (secrets included); apply --plan checks it to detect stale plans. */
  digest: string;
  /** Unified diff for files, or `(sensitive)`. */
  diff?: string;
  before?: FileState | null;
  after?: FileState;
  /** Handler steps: the service to restart and the steps whose change triggers it. */
  service?: string;
  triggers?: string[];
}

export interface PlanSummary {
  create: number;
  update: number;
  run: number;
  noop: number;
}

export interface Plan {
  format: 'bootstrap-plan/1';
  deployment: string;
  /** sha256 over inventory, barclamps and secrets as used; a plan is only valid for the same inputs. */
  inputDigest: string;
  batches: Batch[];
  nodes: { name: string; steps: PlanStep[]; checks: DesiredCheck[] }[];
  /** Nodes whose facts could not be gathered: not planned, reported with their failure gene. */
  unreachable: { node: string; gene: string; message: string }[];
  summary: PlanSummary;
}

export function isChange(step: PlanStep): boolean {
  return step.action !== 'noop';
}
