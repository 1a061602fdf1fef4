import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Diagnostic } from '../core/diagnostic.js';
import { loadManifest } from './manifest.js';
import type { Barclamp } from './types.js';

/** All barclamps found on the search path, by name. Earlier directories win (inventory paths first). */
export interface Catalog {
  barclamps: Map<string, Barclamp>;
  /** Barclamps whose manifest was refused: their own diagnostics say why, so uses of them need not. */
  broken: Set<string>;
  diagnostics: Diagnostic[];
}

export function loadCatalog(searchPath: readonly string[]): Catalog {
  const barclamps = new Map<string, Barclamp>();
  const diagnostics: Diagnostic[] = [];
  const broken = new Set<string>();
  for (const dir of searchPath) {
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (!entry.isDirectory() || barclamps.has(entry.name)) continue;
      const manifestFile = join(dir, entry.name, 'barclamp.yaml');
      if (!existsSync(manifestFile)) continue;
      const result = loadManifest(manifestFile, entry.name);
      diagnostics.push(...result.diagnostics);
      if (result.barclamp) barclamps.set(entry.name, result.barclamp);
      else broken.add(entry.name);
    }
  }
  return { barclamps, broken, diagnostics };
}
