import type { FailureRecord } from '../failures/record.js';
import type { PlanSummary } from '../plan/plan-types.js';

/** Everything the core reports, as one discriminated union. Renderers and files consume the same stream. */
export type BootstrapEvent =
  | {
      type: 'run.start';
      schema: 'bootstrap-events/1';
      runId: string;
      command: string;
      deployment: string;
      nodes: string[];
      runDir: string;
      maintenance?: string[];
    }
  | { type: 'secrets.generated'; names: string[] }
  | { type: 'lock.taken-over'; pid: number; host: string; since: string }
  | { type: 'provision.phase'; node: string; phase: string; message: string }
  | { type: 'provision.ok'; node: string; action: 'installed' | 'adopted' | 'powered-on'; ms: number }
  | { type: 'provision.fail'; node: string; gene: string; message: string }
  | { type: 'discover.swept'; addresses: number; found: string[]; ms: number }
  | { type: 'discover.bmc'; address: string; node?: string; serial: string; power: string }
  | { type: 'gather.start'; node: string }
  | { type: 'gather.ok'; node: string; ms: number }
  | { type: 'gather.fail'; node: string; gene: string; message: string }
  | { type: 'plan.ready'; summary: PlanSummary; changedNodes: string[] }
  | { type: 'batch.start'; batch: number; barclamp: string; role: string; nodes: string[] }
  | { type: 'step.start'; node: string; step: string; summary: string }
  | { type: 'step.ok'; node: string; step: string; summary: string; action: string; ms: number; attempt: number }
  | { type: 'step.retry'; node: string; step: string; summary: string; attempt: number; message: string }
  | { type: 'step.fail'; node: string; step: string; summary: string; gene: string; message: string; ms: number }
  | { type: 'check.ok'; node: string; check: string; ms: number }
  | { type: 'check.fail'; node: string; check: string; gene: string; message: string }
  | { type: 'node.done'; node: string; status: 'ok' | 'failed' | 'skipped'; changed: number }
  | { type: 'failure.recorded'; record: FailureRecord }
  | {
      type: 'recovery.seen';
      notification: string;
      kind: string;
      host: string;
      what: string;
      status: string;
      verdict: 'recovered' | 'failed' | 'ignored' | 'in-progress' | 'not-a-failure';
      gene?: string;
      recordedNow: boolean;
      totalSeconds?: number;
      phases: { task: string; seconds: number }[];
    }
  | { type: 'bom.recorded'; nodes: number; packages: number }
  | { type: 'run.interrupt'; message: string }
  | {
      type: 'run.done';
      runId: string;
      status: 'ok' | 'failed' | 'interrupted';
      stoppedEarly?: string;
      nodesOk: number;
      nodesFailed: number;
      changed: number;
      failures: number;
      ms: number;
    };

export type TimedEvent = BootstrapEvent & { time: string };

export type EventSink = (event: BootstrapEvent) => void;

export function fanOut(...sinks: EventSink[]): EventSink {
  return (event) => {
    for (const sink of sinks) sink(event);
  };
}
