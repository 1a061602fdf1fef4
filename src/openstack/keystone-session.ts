import { OpenStackApiError } from './api-error.js';
import { requestJson } from './http-json.js';

export interface KeystoneCredentials {
  authUrl: string;
  username: string;
  password: string;
  project: string;
  region: string;
  /** Catalog interface the clients use (internal in the reference). */
  interface: 'public' | 'internal' | 'admin';
}

interface CatalogEntry {
  type: string;
  endpoints: { interface: string; region_id?: string; region?: string; url: string }[];
}

/** A project-scoped token and the catalog it came with. */
export interface KeystoneSession {
  token: string;
  projectId: string;
  /** The endpoint of a service type in the session's region and interface, `%(tenant_id)s` filled in. */
  endpoint(type: string): string;
}

export async function authenticate(credentials: KeystoneCredentials): Promise<KeystoneSession> {
  const body = {
    auth: {
      identity: { methods: ['password'], password: { user: { name: credentials.username, domain: { name: 'Default' }, password: credentials.password } } },
      scope: { project: { name: credentials.project, domain: { name: 'Default' } } },
    },
  };
  const response = await requestJson(`${credentials.authUrl.replace(/\/$/, '')}/v3/auth/tokens`, { method: 'POST', body, service: 'keystone' });
  const token = response.headers.get('x-subject-token');
  const issued = (response.body as { token: { project: { id: string }; catalog: CatalogEntry[] } }).token;
  if (!token) throw new OpenStackApiError('keystone: the token response has no X-Subject-Token header', 'keystone', response.status, '');
  return {
    token,
    projectId: issued.project.id,
    endpoint(type) {
      const entry = issued.catalog.find((c) => c.type === type);
      const endpoint = entry?.endpoints.find((e) => e.interface === credentials.interface && (e.region_id ?? e.region) === credentials.region);
      if (!endpoint) throw new OpenStackApiError(`keystone: no ${credentials.interface} ${type} endpoint in region ${credentials.region}`, 'keystone', undefined, '');
      return endpoint.url.replace('%(tenant_id)s', issued.project.id).replace('%(project_id)s', issued.project.id).replace(/\/$/, '');
    },
  };
}
