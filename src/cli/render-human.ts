import ora, { type Ora } from 'ora';
import type { BootstrapEvent, EventSink } from '../run/events.js';

export interface HumanRenderer {
  sink: EventSink;
  stop: () => void;
}

/**
 * Human progress: on a TTY one ora spinner shows what every busy node is doing right now, and finished
 * steps scroll above it; elsewhere (CI logs) plain lines.
 */
export function humanRenderer(stream: NodeJS.WriteStream, isTTY: boolean, verbose: boolean): HumanRenderer {
  // A pseudo-terminal without a size (columns 0) makes spinner redraws unbounded: plain lines there.
  const spin = isTTY && (stream.columns ?? 0) > 0;
  const active = new Map<string, string>();
  let spinner: Ora | undefined;
  // ora hooks the stream while spinning: plain writes land above the spinner line.
  const print = (line: string) => stream.write(`${line}\n`);
  const refresh = () => {
    if (!spin) return;
    if (active.size === 0) {
      spinner?.stop();
      spinner = undefined;
      return;
    }
    const full = [...active].map(([node, what]) => `${node}: ${what}`).join('  │  ');
    // One line only: a wrapped spinner line cannot be redrawn cleanly.
    const width = Math.max(20, (stream.columns ?? 80) - 4);
    const text = full.length > width ? `${full.slice(0, width - 1)}…` : full;
    if (!spinner) spinner = ora({ text, stream, discardStdin: false }).start();
    else spinner.text = text;
  };
  const sink = (event: BootstrapEvent) => {
    const line = describeEvent(event, verbose);
    switch (event.type) {
      case 'gather.start':
        active.set(event.node, 'gathering facts');
        break;
      case 'step.start':
        active.set(event.node, event.summary);
        break;
      case 'provision.phase':
        active.set(event.node, event.message);
        break;
      case 'provision.ok':
      case 'provision.fail':
      case 'gather.ok':
      case 'gather.fail':
      case 'node.done':
        active.delete(event.node);
        break;
    }
    if (line !== undefined) print(line);
    refresh();
  };
  return { sink, stop: () => spinner?.stop() };
}

/** One masakari notification: what failed, what masakari made of it, how long each phase took. */
function describeRecovery(e: Extract<BootstrapEvent, { type: 'recovery.seen' }>): string {
  const mark = { recovered: '✓', failed: '✗', ignored: '–', 'in-progress': '…', 'not-a-failure': ' ' }[e.verdict];
  const phases =
    e.phases.length > 0 ? `; ${e.phases.map((p) => `${p.task.replace(/Task$/, '')} ${p.seconds} s`).join(', ')}` : '';
  const took = e.totalSeconds !== undefined && e.verdict !== 'in-progress' ? ` in ${e.totalSeconds} s` : '';
  const gene = e.gene !== undefined ? ` [${e.gene}]${e.recordedNow ? ' recorded now' : ''}` : '';
  return `${mark} ${e.verdict}${took}: ${e.what} (notification ${e.notification}, ${e.status})${gene}${phases}`;
}

function describeEvent(e: BootstrapEvent, verbose: boolean): string | undefined {
  switch (e.type) {
    case 'run.start':
      return `${e.command} ${e.deployment}: ${e.nodes.length} node(s), run ${e.runId}${e.maintenance ? `; in maintenance, left alone: ${e.maintenance.join(', ')}` : ''}`;
    case 'secrets.generated':
      return `generated ${e.names.length} secret(s): ${e.names.join(', ')} (stored 0600, values never shown)`;
    case 'lock.taken-over':
      return `! the apply started ${e.since} (pid ${e.pid} on ${e.host}) ended without releasing its lock (killed or crashed); this run took it over and converges from where the nodes are`;
    case 'provision.phase':
      return verbose ? `  ${e.node}: ${e.phase}: ${e.message}` : undefined;
    case 'provision.ok':
      if (e.action === 'installed') return `✓ ${e.node}: installed over PXE in ${(e.ms / 1000).toFixed(1)} s`;
      return e.action === 'powered-on'
        ? `✓ ${e.node}: was powered off; powered on through its BMC, SSH up in ${(e.ms / 1000).toFixed(1)} s`
        : `  ${e.node}: answers SSH, adopted as installed`;
    case 'provision.fail':
      return `✗ ${e.node}: provisioning failed [${e.gene}] ${e.message}`;
    case 'gather.ok':
      return verbose ? `  ${e.node}: facts gathered in ${e.ms} ms` : undefined;
    case 'gather.fail':
      return `✗ ${e.node}: cannot gather facts [${e.gene}] ${e.message}`;
    case 'batch.start':
      return `» ${e.barclamp}/${e.role} on ${e.nodes.join(', ')}`;
    case 'step.ok':
      return `  ✓ ${e.node}: ${e.summary} (${e.action}, ${e.ms} ms${e.attempt > 1 ? `, attempt ${e.attempt}` : ''})`;
    case 'step.retry':
      return `  ↻ ${e.node}: ${e.summary} failed (attempt ${e.attempt}), retrying: ${e.message}`;
    case 'step.fail':
      return `  ✗ ${e.node}: ${e.summary} [${e.gene}] ${e.message}`;
    case 'check.ok':
      return verbose ? `  ✓ ${e.node}: check ${e.check} (${e.ms} ms)` : undefined;
    case 'check.fail':
      return `  ✗ ${e.node}: check ${e.check} [${e.gene}] ${e.message}`;
    case 'node.done':
      return e.status === 'ok' ? undefined : `${e.status === 'failed' ? '✗' : '–'} ${e.node}: ${e.status}`;
    case 'recovery.seen':
      // servers deleted or stopped, hosts coming back: masakari hears of them too, people need not (--json has them)
      return e.verdict === 'not-a-failure' ? undefined : describeRecovery(e);
    case 'bom.recorded':
      return verbose
        ? `  bill of materials: ${e.packages} package version(s) on ${e.nodes} node(s) (bootstrap bom)`
        : undefined;
    case 'run.interrupt':
      return `! ${e.message}`;
    case 'run.done':
      return `${e.status === 'ok' ? '✓' : '✗'} ${e.status}: ${e.nodesOk} node(s) ok, ${e.nodesFailed} failed, ${e.changed} change(s), ${e.failures} failure record(s) in ${(e.ms / 1000).toFixed(1)} s${e.stoppedEarly ? ` (stopped early: ${e.stoppedEarly})` : ''}`;
    default:
      return undefined;
  }
}
