import { readFileSync } from 'node:fs';

/**
 * The admin node's own Debian mirror, from its apt sources: images are built from it, and lab nodes use it
 * through the admin node's package cache (no internet at install time beyond the site's mirror).
 */
export function hostMirror(readFile: (p: string) => string = (p) => readFileSync(p, 'utf8')): string {
  for (const file of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    let text: string;
    try {
      text = readFile(file);
    } catch {
      continue;
    }
    const deb822 = /^URIs:\s*(http\S+\/debian)\/?\s*$/m.exec(text);
    if (deb822) return deb822[1]!;
    const classic = /^deb\s+(?:\[[^\]]*\]\s+)?(http\S+\/debian)\/?\s+bookworm/m.exec(text);
    if (classic) return classic[1]!;
  }
  return 'http://deb.debian.org/debian';
}
