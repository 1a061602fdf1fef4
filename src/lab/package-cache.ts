import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnDetached } from '../util/exec.js';

/**
 * The admin node's package cache (Debian's apt-cacher-ng from a private config dir), bound to the lab
 * bridge only: nodes without a route out install packages through it, and N nodes download each .deb once.
 */
export interface PackageCache {
  bindAddress: string;
  port: number;
  /** Config, logs and pid for this lab. */
  dir: string;
  /** Shared download cache (outside the repository, survives labs). */
  cacheDir: string;
  mirror: string;
}

export function startPackageCache(cache: PackageCache): number {
  const confDir = join(cache.dir, 'conf');
  mkdirSync(confDir, { recursive: true });
  mkdirSync(join(cache.dir, 'log'), { recursive: true });
  mkdirSync(cache.cacheDir, { recursive: true });
  writeFileSync(join(confDir, 'backends_debian'), `${cache.mirror.replace(/\/?$/, '/')}\n`);
  writeFileSync(
    join(confDir, 'acng.conf'),
    [
      `CacheDir: ${cache.cacheDir}`,
      `LogDir: ${join(cache.dir, 'log')}`,
      'SupportDir: /usr/lib/apt-cacher-ng',
      `BindAddress: ${cache.bindAddress}`,
      `Port: ${cache.port}`,
      `PidFile: ${join(cache.dir, 'acng.pid')}`,
      'Remap-debrep: file:deb_mirror*.gz /debian ; file:backends_debian',
      'Remap-secdeb: security.debian.org security.debian.org/debian-security deb.debian.org/debian-security /debian-security ; deb.debian.org/debian-security',
      'ExThreshold: 4',
      'FollowIndexFileRemoval: 1',
      // Refuse anything that is not a remapped repository: no open proxying to arbitrary hosts.
      'ForceManaged: 1',
      'PassThroughPattern: ^$',
      '',
    ].join('\n'),
  );
  const log = openSync(join(cache.dir, 'log', 'foreground.log'), 'a');
  try {
    return spawnDetached('apt-cacher-ng', ['-c', confDir, 'ForeGround=1'], log);
  } finally {
    closeSync(log);
  }
}
