import type { BootstrapEvent } from '../run/events.js';
import { seconds } from '../report/duration.js';

interface NodeState {
  phase: string;
  /** The step running now, if any. */
  step?: { summary: string; sinceMs: number };
  last?: { what: string; atMs: number };
}

/**
 * What each node was last seen doing, fed from the event stream. When the overall deadline passes the
 * message must say which node, which phase and what was last observed — this is where that comes from.
 */
export class NodeProgress {
  private readonly nodes = new Map<string, NodeState>();

  constructor(private readonly nowMs: () => number) {}

  readonly sink = (event: BootstrapEvent): void => {
    const now = this.nowMs();
    switch (event.type) {
      case 'run.start':
        for (const node of event.nodes) this.nodes.set(node, { phase: 'waiting to start' });
        return;
      case 'provision.phase':
        return this.update(
          event.node,
          { phase: `provisioning (${event.phase})`, last: `${event.phase}: ${event.message}` },
          now,
        );
      case 'provision.ok':
        return this.update(event.node, { phase: 'waiting for facts', last: `provisioning ${event.action}` }, now);
      case 'gather.start':
        return this.update(event.node, { phase: 'gathering facts' }, now);
      case 'gather.ok':
        return this.update(event.node, { phase: 'waiting for its first barclamp', last: 'facts gathered' }, now);
      case 'batch.start':
        for (const node of event.nodes) this.update(node, { phase: `${event.barclamp}/${event.role}` }, now);
        return;
      case 'step.start': {
        const state = this.state(event.node);
        state.step = { summary: event.summary, sinceMs: now };
        return;
      }
      case 'step.ok':
        return this.update(event.node, { last: `step done: ${event.summary}`, stepEnded: true }, now);
      case 'step.retry':
        return this.update(event.node, { last: `step retried: ${event.summary} (${event.message})` }, now);
      case 'check.ok':
        return this.update(event.node, { last: `check passed: ${event.check}` }, now);
      case 'step.fail':
        return this.update(event.node, { last: `step failed: ${event.summary}`, stepEnded: true }, now);
      default:
        return;
    }
  };

  /** "ctl1 was in nova/compute, running 'install nova-compute' for 3 min 2 s; last observed 12.0 s earlier: step done: write /etc/hosts". */
  describe(node: string): string {
    const state = this.nodes.get(node);
    if (!state) return `${node} had not started`;
    const now = this.nowMs();
    const parts = [`${node} was in ${state.phase}`];
    if (state.step) parts.push(`running '${state.step.summary}' for ${seconds(now - state.step.sinceMs)}`);
    const observed = state.last
      ? `last observed ${seconds(now - state.last.atMs)} earlier: ${state.last.what}`
      : 'nothing observed from it yet';
    return `${parts.join(', ')}; ${observed}`;
  }

  /** The step a node is running now, if any. */
  runningStep(node: string): string | undefined {
    return this.nodes.get(node)?.step?.summary;
  }

  private update(node: string, change: { phase?: string; last?: string; stepEnded?: boolean }, now: number): void {
    const state = this.state(node);
    if (change.phase !== undefined) state.phase = change.phase;
    if (change.last !== undefined) state.last = { what: change.last, atMs: now };
    if (change.stepEnded) delete state.step;
  }

  private state(node: string): NodeState {
    let state = this.nodes.get(node);
    if (!state) {
      state = { phase: 'waiting to start' };
      this.nodes.set(node, state);
    }
    return state;
  }
}
