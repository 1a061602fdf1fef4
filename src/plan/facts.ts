/** What gather learned about a node. Read-only observations, JSON-safe. */
export type PathFact =
  | { exists: false }
  | {
      exists: true;
      kind: 'file' | 'directory' | 'other';
      mode: string;
      owner: string;
      group: string;
      sha256?: string;
      content?: string;
    };

export interface NodeFacts {
  node: string;
  paths: Record<string, PathFact>;
  packages: Record<string, { installed: boolean; version?: string }>;
  services: Record<string, { enabled: boolean; active: boolean }>;
  /** Command resource id → its guard says it is already done. */
  guards: Record<string, boolean>;
  /** Command resource id → the last line a failing `unless` guard printed (what is left to do), redacted. */
  guardReasons?: Record<string, string>;
  /**
   * Services whose configuration changed in an earlier run that ended before their restart (crash, Ctrl-C,
   * a failed step): marked on the node next to the change, cleared by the restart.
   */
  pendingRestarts?: string[];
}

export interface FactRequest {
  paths: string[];
  packages: string[];
  services: string[];
  guards: { id: string; creates?: string; unless?: string }[];
}
