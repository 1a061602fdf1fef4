import { requestJson } from './http-json.js';
import type { KeystoneSession } from './keystone-session.js';

export type RecoveryMethod = 'auto' | 'reserved_host' | 'auto_priority' | 'rh_priority';

export interface Segment {
  uuid: string;
  name: string;
  recovery_method: RecoveryMethod;
  service_type: string;
  description?: string | null;
}

export interface SegmentHost {
  uuid: string;
  name: string;
  type: string;
  control_attributes: string;
  on_maintenance: boolean;
  reserved: boolean;
}

/** The parts of the Masakari v1 API that registration needs (segments and their hosts). */
export class MasakariClient {
  private readonly base: string;

  constructor(private readonly session: KeystoneSession) {
    this.base = session.endpoint('instance-ha');
  }

  async segments(): Promise<Segment[]> {
    return ((await this.call('GET', '/segments')) as { segments: Segment[] }).segments;
  }

  async createSegment(segment: { name: string; recovery_method: RecoveryMethod; description: string }): Promise<Segment> {
    return ((await this.call('POST', '/segments', { segment: { ...segment, service_type: 'COMPUTE' } })) as { segment: Segment }).segment;
  }

  async updateSegment(uuid: string, changes: { recovery_method?: RecoveryMethod; description?: string }): Promise<Segment> {
    return ((await this.call('PUT', `/segments/${uuid}`, { segment: changes })) as { segment: Segment }).segment;
  }

  async hosts(segmentUuid: string): Promise<SegmentHost[]> {
    return ((await this.call('GET', `/segments/${segmentUuid}/hosts`)) as { hosts: SegmentHost[] }).hosts;
  }

  async addHost(segmentUuid: string, name: string): Promise<SegmentHost> {
    return ((await this.call('POST', `/segments/${segmentUuid}/hosts`, { host: { name, type: 'COMPUTE', control_attributes: 'SSH' } })) as { host: SegmentHost }).host;
  }

  private async call(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<unknown> {
    const response = await requestJson(`${this.base}${path}`, { method, body, service: 'masakari', headers: { 'x-auth-token': this.session.token, 'openstack-api-version': 'instance-ha 1.0' } });
    return response.body;
  }
}
