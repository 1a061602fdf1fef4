import type { TimedEvent } from '../run/events.js';
import type { FailureRecord } from '../failures/record.js';
import { escapeMarkup as xml } from './escape.js';
import type { RunRecord } from './run-record.js';

interface TestCase {
  name: string;
  classname: string;
  seconds: number;
  failure?: { gene: string; message: string; body: string };
  skipped?: string;
}

/**
 * JUnit XML for CI: one suite per node, one test case per planned step and check (plus provisioning and
 * fact gathering); a failing case carries its gene, evidence and mitigation. Steps a failure or an
 * interruption kept from running are "skipped", so the suite still lists everything the plan meant to do.
 */
export function runJunit(run: RunRecord): string {
  const outcome = new Map<string, Extract<TimedEvent, { type: 'step.ok' | 'step.fail' | 'check.ok' | 'check.fail' }>>();
  for (const e of run.events) {
    if (e.type === 'step.ok' || e.type === 'step.fail') outcome.set(`${e.node}\u0000${e.step}`, e);
    if (e.type === 'check.ok' || e.type === 'check.fail') outcome.set(`${e.node}\u0000${e.check}`, e);
  }
  const failureFor = (node: string, step: string | undefined) =>
    run.failures.filter((f) => f.node === node && f.step === step).at(-1);
  const suites = new Map<string, TestCase[]>();
  const add = (node: string, c: TestCase) => suites.set(node, [...(suites.get(node) ?? []), c]);

  for (const e of run.events) {
    if (e.type === 'provision.ok')
      add(e.node, { name: `provision (${e.action})`, classname: `${e.node}.provision`, seconds: e.ms / 1000 });
    if (e.type === 'provision.fail')
      add(e.node, {
        name: 'provision',
        classname: `${e.node}.provision`,
        seconds: 0,
        failure: failureOf(failureFor(e.node, undefined), e.gene, e.message),
      });
    if (e.type === 'gather.fail')
      add(e.node, {
        name: 'gather facts',
        classname: `${e.node}.gather`,
        seconds: 0,
        failure: failureOf(failureFor(e.node, undefined), e.gene, e.message),
      });
  }
  for (const node of run.plan?.nodes ?? []) {
    const items = [
      ...node.steps.map((s) => ({ id: s.id, name: s.summary, noop: s.action === 'noop' })),
      ...node.checks.map((c) => ({ id: c.id, name: `check ${c.name}`, noop: false })),
    ];
    for (const item of items) {
      const classname = `${node.name}.${item.id.split(':')[0]}`;
      const e = outcome.get(`${node.name}\u0000${item.id}`);
      if (item.noop) add(node.name, { name: `${item.name} (already in place)`, classname, seconds: 0 });
      else if (!e)
        add(node.name, {
          name: item.name,
          classname,
          seconds: 0,
          skipped: 'not reached (an earlier failure or an interruption stopped this node)',
        });
      else if (e.type === 'step.fail' || e.type === 'check.fail')
        add(node.name, {
          name: item.name,
          classname,
          seconds: e.type === 'step.fail' ? e.ms / 1000 : 0,
          failure: failureOf(failureFor(node.name, item.id), e.gene, e.message),
        });
      else add(node.name, { name: item.name, classname, seconds: e.ms / 1000 });
    }
  }

  const body = [...suites].map(([node, cases]) => {
    const failures = cases.filter((c) => c.failure).length;
    const skipped = cases.filter((c) => c.skipped).length;
    const time = cases.reduce((sum, c) => sum + c.seconds, 0);
    return [
      `  <testsuite name="${xml(node)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${time.toFixed(3)}">`,
      ...cases.map(caseXml),
      '  </testsuite>',
    ].join('\n');
  });
  const total = [...suites.values()].flat();
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="bootstrap run ${xml(run.id)}" tests="${total.length}" failures="${total.filter((c) => c.failure).length}" skipped="${total.filter((c) => c.skipped).length}">`,
    ...body,
    '</testsuites>',
    '',
  ].join('\n');
}

function failureOf(record: FailureRecord | undefined, gene: string, message: string): TestCase['failure'] {
  const body = record
    ? [
        `gene: ${record.gene} — ${record.title} (${record.classification}, ${record.severity})`,
        `evidence: ${record.evidence.message}`,
        ...(record.evidence.stderrTail ? ['output:', record.evidence.stderrTail] : []),
        `mitigation: ${record.mitigation}`,
      ].join('\n')
    : `gene: ${gene}`;
  return { gene, message, body };
}

function caseXml(c: TestCase): string {
  const open = `    <testcase name="${xml(c.name)}" classname="${xml(c.classname)}" time="${c.seconds.toFixed(3)}"`;
  if (c.failure)
    return `${open}>\n      <failure type="${xml(c.failure.gene)}" message="${xml(`[${c.failure.gene}] ${c.failure.message}`)}">${xml(c.failure.body)}</failure>\n    </testcase>`;
  if (c.skipped) return `${open}>\n      <skipped message="${xml(c.skipped)}"/>\n    </testcase>`;
  return `${open}/>`;
}
