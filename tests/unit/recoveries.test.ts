import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classify } from '../../src/failures/classify.js';
import { loadTaxonomy } from '../../src/failures/taxonomy.js';
import {
  describeNotification,
  parseNotifications,
  timingsOf,
  verdictOf,
  type MasakariNotification,
} from '../../src/recoveries/notification.js';

const taxonomy = loadTaxonomy(join(import.meta.dirname, '../../share/taxonomy.yaml'));

/** A host-failure notification shaped like masakari 14's (microversion 1.1), as the lab's first recovery printed it. */
const hostLost: MasakariNotification = {
  id: '5bb992b2-fdb2-4f67-9df0-0e8739b14c3d',
  type: 'COMPUTE_HOST',
  host: 'cmp1',
  status: 'finished',
  payload: { event: 'STOPPED', cluster_status: 'OFFLINE', host_status: 'NORMAL' },
  generated: '2026-11-29T21:25:59.000000',
  created: '2026-11-29T21:25:59.000000',
  updated: '2026-11-29T21:27:50.000000',
  workflow: [
    {
      task: 'DisableComputeServiceTask',
      state: 'SUCCESS',
      messages: [
        { time: '2026-11-29 21:26:00.033287', message: "Disabling compute service on host: 'cmp1'" },
        { time: '2026-11-29 21:27:35.459034', message: "Disabled compute service on host: 'cmp1'" },
      ],
    },
    {
      task: 'EvacuateInstancesTask',
      state: 'SUCCESS',
      messages: [
        { time: '2026-11-29 21:27:36.1', message: 'Start evacuation of instances' },
        { time: '2026-11-29 21:27:50.4', message: 'Successfully evacuate instances' },
      ],
    },
  ],
};

const gene = (n: MasakariNotification) =>
  classify(taxonomy, {
    source: 'recovery',
    kind: n.type,
    message: `masakari notification ${n.id}: ${describeNotification(n)}; status ${n.status}`,
  }).code;

describe('masakari recoveries', () => {
  it('records a recovered host loss, instance crash and process failure under their own genes, with each phase timed', () => {
    expect(verdictOf(hostLost)).toBe('recovered');
    expect(gene(hostLost)).toBe('CLOUD-HOST-LOST');
    expect(timingsOf(hostLost)).toEqual({
      totalSeconds: 111,
      notifiedSeconds: 0,
      phases: [
        { task: 'DisableComputeServiceTask', state: 'SUCCESS', seconds: 95.4 },
        { task: 'EvacuateInstancesTask', state: 'SUCCESS', seconds: 14.3 },
      ],
    });
    const crashed = {
      ...hostLost,
      type: 'VM',
      payload: { event: 'LIFECYCLE', instance_uuid: 'd6b6', vir_domain_event: 'STOPPED_FAILED' },
    };
    expect(gene(crashed)).toBe('CLOUD-INSTANCE-CRASHED');
    expect(describeNotification(crashed)).toBe('instance d6b6 on cmp1: LIFECYCLE/STOPPED_FAILED');
    expect(
      gene({ ...hostLost, type: 'PROCESS', payload: { event: 'STOPPED', process_name: '/usr/bin/nova-compute' } }),
    ).toBe('CLOUD-PROCESS-FAILED');
  });

  it('calls a recovery that ended in error or failed, or a lost host ignored (power state unknown), a failed recovery', () => {
    for (const status of ['error', 'failed', 'ignored']) {
      const n = { ...hostLost, status, payload: { ...hostLost.payload, host_status: 'UNKNOWN' } };
      expect(verdictOf(n)).toBe('failed');
      expect(gene(n)).toBe('CLOUD-RECOVERY-FAILED');
    }
    // a crashed instance masakari chose not to recover (no HA_Enabled) is a crash, not a failed recovery
    const unprotected = {
      ...hostLost,
      type: 'VM',
      status: 'ignored',
      payload: { event: 'LIFECYCLE', instance_uuid: 'd6b6', vir_domain_event: 'STOPPED_FAILED' },
    };
    expect(verdictOf(unprotected)).toBe('ignored');
    expect(gene(unprotected)).toBe('CLOUD-INSTANCE-CRASHED');
    expect(verdictOf({ ...hostLost, status: 'running' })).toBe('in-progress');
    expect(verdictOf({ ...hostLost, status: 'new' })).toBe('in-progress');
  });

  it('does not count a server deleted or shut down (the instance monitor reports every stop) as a failure', () => {
    for (const event of ['STOPPED_DESTROYED', 'STOPPED_SHUTDOWN']) {
      expect(
        verdictOf({
          ...hostLost,
          type: 'VM',
          status: 'ignored',
          payload: { event: 'LIFECYCLE', instance_uuid: 'x', vir_domain_event: event },
        }),
      ).toBe('not-a-failure');
    }
  });

  it('does not count a host that came back (its STARTED notification) as a failure', () => {
    const back = { ...hostLost, payload: { event: 'STARTED', cluster_status: 'ONLINE', host_status: 'NORMAL' } };
    expect(verdictOf(back)).toBe('not-a-failure');
    expect(describeNotification(back)).toBe('host cmp1 back (ONLINE)');
  });

  it('classifies the checks that guard recovery: a fence device that does not run, waits chosen apart', () => {
    const check = (stderr: string) => classify(taxonomy, { source: 'check', message: 'check failed', stderr }).code;
    expect(check('fence-cmp1 is not running: resource fence-cmp1 is NOT running')).toBe('HA-FENCE-DEVICE-FAILED');
    expect(
      check(
        'masakari.wait_period_after_service_update (20 s) must exceed nova.service_down_time (30 s): nova would refuse every evacuation',
      ),
    ).toBe('HA-RECOVERY-TIMINGS');
  });

  it('refuses output that is not a list of notifications', () => {
    expect(parseNotifications(JSON.stringify([hostLost]))).toEqual([hostLost]);
    expect(() => parseNotifications('{"id": 1}')).toThrow('not a JSON list');
    expect(() => parseNotifications('[{"id": "x"}]')).toThrow('an entry is not a notification');
  });
});
