/** Everything the core needs from the outside world, handed in by the CLI entry (the only place that reads `process`). */
export interface Environment {
  cwd: string;
  home: string;
  env: Readonly<Record<string, string | undefined>>;
  /** Repository/package root: barclamps/ and share/ live under it (see core/package-layout.ts). */
  packageRoot: string;
  toolVersion: string;
  pid: number;
  hostname: string;
  now: () => Date;
  nowMs: () => number;
  sleep: (ms: number) => Promise<void>;
  isAlive: (pid: number) => boolean;
  randomId: () => string;
  isRoot: boolean;
  /** The node binary running us (to start our own long-running services, e.g. the provisioner). */
  execPath: string;
  kill: (pid: number, signal: NodeJS.Signals) => void;
}
