import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderTemplate, TemplateError, type TemplateContext } from '../../src/barclamp/render.js';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const node = {
  name: 'ctl1',
  address: '10.0.0.11',
  addresses: { admin: '10.0.0.11' },
  roles: ['controller'],
  barclampRoles: ['ntp/server'],
  maintenance: false,
  pins: {},
};
const context: TemplateContext = {
  deployment: 'd',
  release: 'zed',
  node,
  nodes: [node],
  networks: {},
  attributes: { servers: ['a', 'b'] },
  secrets: { db_password: 's3cret-value' },
  nodesWith: () => [node],
  attributesOf: () => ({ region: 'RegionOne' }),
};

describe('template rendering', () => {
  it('renders deterministically with the node, attributes and helpers', () => {
    const text = 'host <%= node.name %>\n<% for (const s of attributes.servers) { -%>\nserver <%= s %>\n<% } -%>\n';
    expect(renderTemplate(text, 't.ejs', 'file /x', context)).toBe('host ctl1\nserver a\nserver b\n');
    expect(renderTemplate(text, 't.ejs', 'file /x', context)).toBe(renderTemplate(text, 't.ejs', 'file /x', context));
  });

  it('refuses an undeclared attribute, naming the template and the line', () => {
    const text = 'line one\nvalue <%= attributes.servrs %>\n';
    try {
      renderTemplate(text, '/b/ntp/templates/chrony.conf.ejs', 'file /etc/chrony/chrony.conf', context);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(TemplateError);
      const d = (error as TemplateError).diagnostic;
      expect(d.location).toEqual({ file: '/b/ntp/templates/chrony.conf.ejs', line: 2, col: 1 });
      expect(d.summary).toContain("unknown attribute 'servrs'");
    }
  });

  it('refuses an unknown variable and an unknown secret', () => {
    expect(() => renderTemplate('<%= nope %>', 't.ejs', 'x', context)).toThrow(TemplateError);
    expect(() => renderTemplate('<%= secrets.other %>', 't.ejs', 'x', context)).toThrow(/unknown secret 'other'/);
  });

  it('does not HTML-escape: config files are not HTML', () => {
    expect(renderTemplate('<%= "a<b&c" %>', 't.ejs', 'x', context)).toBe('a<b&c');
  });
});

describe('provisioner barclamp', () => {
  it('runs `bootstrap provisioner serve` for the inventory as a restartable unit that takes dnsmasq down with it', () => {
    const text = readFileSync(
      join(REPO_ROOT, 'barclamps/provisioner/templates/bootstrap-provisioner.service.ejs'),
      'utf8',
    );
    const unit = renderTemplate(
      text,
      'bootstrap-provisioner.service.ejs',
      'file /etc/systemd/system/bootstrap-provisioner.service',
      {
        ...context,
        deployment: 'rack1',
        attributes: {
          bootstrap_command: '/usr/local/bin/bootstrap',
          inventory: '/etc/bootstrap/inventory.yaml',
          state_dir: '',
        },
      },
    );
    expect(unit).toContain(
      'ExecStart=/usr/local/bin/bootstrap provisioner serve /etc/bootstrap/inventory.yaml --state-dir /var/lib/bootstrap/rack1\n',
    );
    expect(unit).toContain('KillMode=control-group\n');
    expect(unit).toContain('Restart=on-failure\n');
  });
});
