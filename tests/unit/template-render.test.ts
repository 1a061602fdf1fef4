import { describe, expect, it } from 'vitest';
import { renderTemplate, TemplateError, type TemplateContext } from '../../src/barclamp/render.js';

const node = { name: 'ctl1', address: '10.0.0.11', addresses: { admin: '10.0.0.11' }, roles: ['controller'], barclampRoles: ['ntp/server'] };
const context: TemplateContext = { deployment: 'd', release: 'zed', node, nodes: [node], networks: {}, attributes: { servers: ['a', 'b'] }, secrets: { db_password: 's3cret-value' }, nodesWith: () => [node] };

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
