import { requestJson } from './http-json.js';
import type { KeystoneSession } from './keystone-session.js';

export interface ComputeService {
  host: string;
  binary: string;
  state: 'up' | 'down';
  status: 'enabled' | 'disabled';
}

/** nova-compute services as nova's os-services API reports them (the names masakari hosts must match). */
export async function computeServices(session: KeystoneSession): Promise<ComputeService[]> {
  const response = await requestJson(`${session.endpoint('compute')}/os-services?binary=nova-compute`, { service: 'nova', headers: { 'x-auth-token': session.token } });
  return (response.body as { services: ComputeService[] }).services;
}
