import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Diagnostic } from '../core/diagnostic.js';
import { formatPath } from '../core/diagnostic.js';
import { checkSchema } from '../core/schema.js';
import { parseYaml, type YamlSource } from '../core/yaml-source.js';
import { attributeValueProblems } from './attribute-check.js';
import { manifestSchema } from './manifest-schema.js';
import type { AttributeSpec, Barclamp, CheckSpec, ResourceSpec, RoleSpec } from './types.js';

export type ManifestResult = { barclamp?: Barclamp; diagnostics: Diagnostic[] };

/** Loads and validates one `barclamp.yaml`. Returns every problem found, never throws for bad input. */
export function loadManifest(manifestFile: string, expectedName?: string): ManifestResult {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(manifestFile);
  } catch (error) {
    return {
      diagnostics: [
        {
          severity: 'error',
          code: 'barclamp.unreadable',
          location: { file: manifestFile, line: 1, col: 1 },
          summary: `cannot read manifest: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
        },
      ],
    };
  }
  const parsed = parseYaml(manifestFile, bytes, 'barclamp');
  if (!parsed.ok) return { diagnostics: parsed.diagnostics };
  const source = parsed.source;
  const diagnostics: Diagnostic[] = [];
  checkSchema({ source, codePrefix: 'barclamp', diagnostics }, manifestSchema, source.value, []);
  if (diagnostics.length > 0) return { diagnostics };

  const raw = source.value as Record<string, any>;
  if (expectedName !== undefined && raw.name !== expectedName) {
    diagnostics.push(
      at(
        source,
        ['name'],
        'barclamp.name-mismatch',
        `manifest name '${raw.name}' differs from its directory '${expectedName}'`,
        `rename the directory or set name: ${expectedName}`,
      ),
    );
  }
  const attributes = raw.attributes ?? {};
  for (const [key, spec] of Object.entries<AttributeSpec>(attributes)) {
    if (spec.default !== undefined) {
      for (const problem of attributeValueProblems(spec, spec.default, [])) {
        diagnostics.push(
          at(
            source,
            ['attributes', key, 'default', ...problem.path],
            'barclamp.attribute-default',
            `default of '${key}' is invalid: ${problem.message}`,
          ),
        );
      }
    }
  }
  const roles: Record<string, RoleSpec> = {};
  for (const [roleName, rawRole] of Object.entries<Record<string, any>>(raw.roles)) {
    roles[roleName] = toRole(source, roleName, rawRole, attributes, diagnostics);
  }
  const barclamp: Barclamp = {
    name: raw.name,
    description: raw.description,
    version: raw.version,
    requires: raw.requires ?? [],
    dir: dirname(manifestFile),
    manifestFile,
    attributes,
    secrets: Object.fromEntries(
      Object.entries<Record<string, any>>(raw.secrets ?? {}).map(([k, v]) => [
        k,
        { description: v.description, length: v.length ?? 32 },
      ]),
    ),
    roles,
  };
  return { barclamp, diagnostics };
}

function toRole(
  source: YamlSource,
  roleName: string,
  raw: Record<string, any>,
  attributes: Record<string, AttributeSpec>,
  diagnostics: Diagnostic[],
): RoleSpec {
  const base = ['roles', roleName];
  const resources: ResourceSpec[] = (raw.resources ?? []).map((r: Record<string, any>) => toResource(r));
  const checks: CheckSpec[] = (raw.checks ?? []).map((c: Record<string, any>) => toCheck(c));
  const services = new Set(resources.filter((r) => r.type === 'service').map((r) => (r as { name: string }).name));
  resources.forEach((r, i) => {
    const notify = r.type === 'file' || r.type === 'command' ? r.notify : [];
    notify.forEach((service, j) => {
      if (!services.has(service)) {
        const kind = r.type;
        diagnostics.push(
          at(
            source,
            [...base, 'resources', i, kind, 'notify', j],
            'barclamp.notify-unknown-service',
            `notify names service '${service}', which this role does not manage`,
            `add '- service: {name: ${service}}' to role '${roleName}'`,
          ),
        );
      }
    });
    if (r.type === 'file' && (r.template === undefined) === (r.content === undefined)) {
      diagnostics.push(
        at(
          source,
          [...base, 'resources', i, 'file'],
          'barclamp.file-source',
          `file ${r.path} needs exactly one of 'template' or 'content'`,
        ),
      );
    }
  });
  const seen = new Map<string, number>();
  resources.forEach((r, i) => {
    const key = resourceKey(r);
    if (seen.has(key))
      diagnostics.push(
        at(
          source,
          [...base, 'resources', i],
          'barclamp.duplicate-resource',
          `${key} is declared twice in role '${roleName}'`,
        ),
      );
    seen.set(key, i);
  });
  if (raw.cluster_attribute !== undefined && attributes[raw.cluster_attribute]?.type !== 'boolean') {
    diagnostics.push(
      at(
        source,
        [...base, 'cluster_attribute'],
        'barclamp.cluster-attribute',
        `cluster_attribute '${raw.cluster_attribute}' must name a boolean attribute of this barclamp`,
      ),
    );
  }
  if (raw.min !== undefined && raw.max !== undefined && raw.min > raw.max) {
    diagnostics.push(
      at(source, [...base, 'min'], 'barclamp.role-count', `min ${raw.min} is greater than max ${raw.max}`),
    );
  }
  return {
    name: roleName,
    description: raw.description,
    order: raw.order ?? 0,
    ...(raw.min !== undefined ? { min: raw.min } : {}),
    ...(raw.max !== undefined ? { max: raw.max } : {}),
    ...(raw.cluster_attribute !== undefined ? { clusterAttribute: raw.cluster_attribute } : {}),
    ...(raw.cluster_max !== undefined ? { clusterMax: raw.cluster_max } : {}),
    resources,
    checks,
    reports: Object.fromEntries(
      Object.entries<{ run: string; description: string }>(raw.reports ?? {}).map(([n, r]) => [
        n,
        { run: r.run, description: r.description },
      ]),
    ),
  };
}

export function resourceKey(r: ResourceSpec): string {
  switch (r.type) {
    case 'package':
      return `package:${r.names.join(',')}`;
    case 'file':
    case 'directory':
      return `${r.type}:${r.path}`;
    case 'service':
      return `service:${r.name}`;
    case 'command':
      return `command:${r.name}`;
  }
}

function toResource(raw: Record<string, any>): ResourceSpec {
  if ('package' in raw)
    return { type: 'package', names: typeof raw.package === 'string' ? [raw.package] : raw.package };
  if ('file' in raw) {
    const f = raw.file;
    return {
      type: 'file',
      path: f.path,
      ...(f.template !== undefined ? { template: f.template } : {}),
      ...(f.content !== undefined ? { content: f.content } : {}),
      mode: normalizeMode(f.mode ?? '0644'),
      owner: f.owner ?? 'root',
      group: f.group ?? 'root',
      notify: f.notify ?? [],
      sensitive: f.sensitive ?? false,
    };
  }
  if ('directory' in raw) {
    const d = raw.directory;
    return {
      type: 'directory',
      path: d.path.replace(/\/$/, ''),
      mode: normalizeMode(d.mode ?? '0755'),
      owner: d.owner ?? 'root',
      group: d.group ?? 'root',
    };
  }
  if ('service' in raw)
    return {
      type: 'service',
      name: raw.service.name,
      enabled: raw.service.enabled ?? true,
      started: raw.service.started ?? true,
    };
  const c = raw.command;
  return {
    type: 'command',
    name: c.name,
    run: c.run,
    ...(c.creates !== undefined ? { creates: c.creates } : {}),
    ...(c.unless !== undefined ? { unless: c.unless } : {}),
    timeoutSeconds: c.timeout ?? 600,
    retries: c.retries ?? 0,
    notify: c.notify ?? [],
    watch: c.watch ?? [],
  };
}

function toCheck(raw: Record<string, any>): CheckSpec {
  if ('tcp' in raw)
    return {
      type: 'tcp',
      name: raw.tcp.name ?? `tcp-${raw.tcp.port}`,
      port: raw.tcp.port,
      ...(raw.tcp.host !== undefined ? { host: raw.tcp.host } : {}),
      timeoutSeconds: raw.tcp.timeout ?? 30,
    };
  if ('http' in raw)
    return {
      type: 'http',
      name: raw.http.name ?? 'http',
      url: raw.http.url,
      status: raw.http.status ?? 200,
      timeoutSeconds: raw.http.timeout ?? 60,
    };
  return {
    type: 'command',
    name: raw.command.name,
    run: raw.command.run,
    timeoutSeconds: raw.command.timeout ?? 30,
    poll: raw.command.poll ?? true,
    ...(raw.command.suite !== undefined ? { suite: raw.command.suite } : {}),
    ...(raw.command.health === true ? { health: true as const } : {}),
  };
}

/** Modes are compared as 4-digit octal strings ("0644"), the form `stat -c %a` is padded to. */
export function normalizeMode(mode: string): string {
  return mode.padStart(4, '0');
}

function at(
  source: YamlSource,
  path: (string | number)[],
  code: string,
  summary: string,
  suggestion?: string,
): Diagnostic {
  return {
    severity: 'error',
    code,
    location: source.locate(path),
    path: formatPath(path),
    summary,
    ...(suggestion ? { suggestion } : {}),
  };
}
