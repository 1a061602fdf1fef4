/** A barclamp as loaded from `barclamps/<name>/barclamp.yaml`. */
export interface Barclamp {
  name: string;
  description: string;
  version: string;
  requires: string[];
  /** Absolute directory of the barclamp (templates are looked up under it). */
  dir: string;
  manifestFile: string;
  attributes: Record<string, AttributeSpec>;
  secrets: Record<string, SecretSpec>;
  roles: Record<string, RoleSpec>;
}

export type AttributeType = 'string' | 'integer' | 'boolean' | 'list' | 'map' | 'ipv4' | 'cidr';

export interface AttributeSpec {
  type: AttributeType;
  description: string;
  default?: unknown;
  required?: boolean;
  enum?: string[];
  /** A regular expression a string value (whole) must match: what a value may carry into files and scripts. */
  pattern?: string;
  /** The same for the keys of a map. */
  key_pattern?: string;
  min?: number;
  max?: number;
  items?: AttributeSpec;
  values?: AttributeSpec;
}

export interface SecretSpec {
  description: string;
  length: number;
}

export interface RoleSpec {
  name: string;
  description: string;
  /** Batches run in ascending order within a barclamp (e.g. servers before clients). */
  order: number;
  min?: number;
  max?: number;
  /** Attribute (boolean) of this barclamp that lifts `max` to `clusterMax` when true. */
  clusterAttribute?: string;
  clusterMax?: number;
  resources: ResourceSpec[];
  checks: CheckSpec[];
  /**
   * Read-only reports the tool asks this role's node for, by name: a command (not a template) whose output the
   * tool understands. `recoveries`: the instance-HA notifications `bootstrap recoveries` records (src/recoveries/
   * says what it prints).
   */
  reports: Record<string, ReportSpec>;
}

export interface ReportSpec {
  run: string;
  description: string;
}

export type ResourceSpec = PackageResource | FileResource | DirectoryResource | ServiceResource | CommandResource;

export interface PackageResource {
  type: 'package';
  names: string[];
}

export interface FileResource {
  type: 'file';
  path: string;
  /** Template file name under the barclamp's `templates/` (or the shared partials in `barclamps/_shared/`). */
  template?: string;
  /** Inline ejs content, for one-liners. */
  content?: string;
  mode: string;
  owner: string;
  group: string;
  /** Services (of the same role) restarted when this file changes. */
  notify: string[];
  /** Never show content or diff (also detected automatically when a secret is rendered into it). */
  sensitive: boolean;
}

export interface DirectoryResource {
  type: 'directory';
  path: string;
  mode: string;
  owner: string;
  group: string;
}

export interface ServiceResource {
  type: 'service';
  name: string;
  enabled: boolean;
  started: boolean;
}

export interface CommandResource {
  type: 'command';
  name: string;
  /** ejs-rendered shell command. */
  run: string;
  /** Skip when this path exists on the node. */
  creates?: string;
  /** Skip when this (read-only) shell command exits 0. */
  unless?: string;
  timeoutSeconds: number;
  retries: number;
  /** Services (of the same role) restarted when this command runs. */
  notify: string[];
  /**
   * Files (of the same role) this command acts on: when the plan changes one, the command runs whatever its
   * guard said — the guard was asked before the new file was there (a script and the command that runs it).
   */
  watch: string[];
}

export type CheckSpec =
  | { type: 'tcp'; name: string; port: number; host?: string; timeoutSeconds: number }
  | { type: 'http'; name: string; url: string; status: number; timeoutSeconds: number }
  /**
   * poll: false for verdicts that waiting cannot change (config validators): one attempt. health: judges the
   * cloud as a whole (services, agents, hosts as the APIs report them), once every node converged; its stdout's
   * JSON lines {node, problem, evidence} are findings, each recorded on the node it names.
   */
  | {
      type: 'command';
      name: string;
      run: string;
      timeoutSeconds: number;
      poll: boolean;
      suite?: string;
      health?: true;
    };
