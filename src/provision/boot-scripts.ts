import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ejs from 'ejs';
import type { BootAction } from './machine-state.js';

/** The provisioner's templates (templates/provisioner/), rendered in ejs strict mode. */
export class BootScripts {
  private readonly cache = new Map<string, string>();

  constructor(private readonly templateDir: string) {}

  /** The first script every iPXE client gets; it chains to the per-machine one. */
  entry(server: string): string {
    return this.render('boot.ipxe.ejs', { server });
  }

  forMachine(action: BootAction, vars: { server: string; mac: string; node: string; deployment: string }): string {
    if (action === 'local') return this.text('local.ipxe');
    if (action === 'install') return this.render('install.ipxe.ejs', vars);
    return this.render('discover.ipxe.ejs', { server: vars.server, mac: vars.mac });
  }

  preseed(vars: { server: string; mac: string; node: string; deployment: string; address: string; netmask: string; proxy: string; token: string }): string {
    return this.render('preseed.cfg.ejs', vars);
  }

  agent(): string {
    return this.text('discovery-agent.sh');
  }

  private render(name: string, locals: Record<string, string>): string {
    return ejs.render(this.text(name), locals, { strict: true, destructuredLocals: Object.keys(locals), escape: (s: unknown) => String(s), filename: join(this.templateDir, name) });
  }

  private text(name: string): string {
    let text = this.cache.get(name);
    if (text === undefined) {
      text = readFileSync(join(this.templateDir, name), 'utf8');
      this.cache.set(name, text);
    }
    return text;
  }
}
