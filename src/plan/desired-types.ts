/** Fully rendered desired state: what a node should look like after apply. Pure data, JSON-safe. */
export type DesiredResource =
  | { type: 'package'; id: string; names: string[] }
  | {
      type: 'file';
      id: string;
      path: string;
      content: string;
      mode: string;
      owner: string;
      group: string;
      notify: string[];
      sensitive: boolean;
    }
  | { type: 'directory'; id: string; path: string; mode: string; owner: string; group: string }
  | { type: 'service'; id: string; name: string; enabled: boolean; started: boolean }
  | {
      type: 'command';
      id: string;
      name: string;
      run: string;
      creates?: string;
      unless?: string;
      timeoutSeconds: number;
      retries: number;
      notify: string[];
      watch?: string[];
      sensitive: boolean;
    };

export type DesiredCheck =
  | { type: 'tcp'; id: string; name: string; host: string; port: number; timeoutSeconds: number }
  | { type: 'http'; id: string; name: string; url: string; status: number; timeoutSeconds: number }
  | {
      type: 'command';
      id: string;
      name: string;
      run: string;
      timeoutSeconds: number;
      poll: boolean;
      sensitive: boolean;
      health?: true;
    };

export interface Batch {
  index: number;
  barclamp: string;
  role: string;
}

export interface NodeBatch {
  batch: number;
  resources: DesiredResource[];
  checks: DesiredCheck[];
}

export interface NodeDesired {
  node: string;
  batches: NodeBatch[];
}

export interface DesiredState {
  deployment: string;
  batches: Batch[];
  nodes: NodeDesired[];
}
