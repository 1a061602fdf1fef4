import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ejs from 'ejs';
import type { BootAction } from './machine-state.js';

/**
 * Every value a provisioner template outputs, whichever language the line is in — iPXE, a debconf answer,
 * the preseed's late_command (sh), a kernel command line — is made of these characters only: none of them
 * ends a line, a word or a quote, expands or globs in any of those languages. Inventory validation already
 * keeps names, addresses and MACs inside this set; this is what makes it hold by construction.
 */
const BOOT_SCRIPT_VALUE = /^[A-Za-z0-9._:/=-]*$/;

export function bootScriptValue(value: unknown): string {
  const text = String(value);
  if (!BOOT_SCRIPT_VALUE.test(text))
    throw new Error(
      `refusing to write ${JSON.stringify(text)} into a boot script: only letters, digits and . _ : / = - may appear there`,
    );
  return text;
}

/** The provisioner's templates (share/provisioner/), rendered in ejs strict mode; `<%= %>` is bootScriptValue. */
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

  preseed(vars: {
    server: string;
    mac: string;
    node: string;
    deployment: string;
    address: string;
    netmask: string;
    proxy: string;
    token: string;
    /** The OS image's URL and SHA-256, both '' when the provisioner has none. */
    image: string;
    imageSha256: string;
    rootName: string;
    rootSerial: string;
    /** '' for the agent's default (4 GiB). */
    rootMinBytes: string;
    wipe: boolean;
  }): string {
    return this.render('preseed.cfg.ejs', { ...vars, wipe: String(vars.wipe) });
  }

  agent(): string {
    return this.text('discovery-agent.sh');
  }

  /** The install agent the install ramdisk runs (writes the OS image, reports each step's failure). */
  installer(): string {
    return this.text('image-installer.sh');
  }

  private render(name: string, locals: Record<string, string>): string {
    return ejs.render(this.text(name), locals, {
      strict: true,
      destructuredLocals: Object.keys(locals),
      escape: bootScriptValue,
      filename: join(this.templateDir, name),
    });
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
