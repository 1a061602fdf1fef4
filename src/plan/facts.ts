/** What gather learned about a node. Read-only observations, JSON-safe. */
export type PathFact =
  | { exists: false }
  | { exists: true; kind: 'file' | 'directory' | 'other'; mode: string; owner: string; group: string; sha256?: string; content?: string };

export interface NodeFacts {
  node: string;
  paths: Record<string, PathFact>;
  packages: Record<string, { installed: boolean; version?: string }>;
  services: Record<string, { enabled: boolean; active: boolean }>;
  /** Command resource id → its guard says it is already done. */
  guards: Record<string, boolean>;
}

export interface FactRequest {
  paths: string[];
  packages: string[];
  services: string[];
  guards: { id: string; creates?: string; unless?: string }[];
}
