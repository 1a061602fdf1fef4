import ejs from 'ejs';
import { shellQuote } from '../transport/shell-quote.js';
import { shellTemplateProblems } from './shell-template.js';
import type { Diagnostic } from '../core/diagnostic.js';

/** What a template can see. Attribute and secret lookups of undeclared names are errors, not `undefined`. */
export interface TemplateContext {
  deployment: string;
  release: string;
  node: TemplateNode;
  nodes: TemplateNode[];
  networks: Record<string, unknown>;
  attributes: Record<string, unknown>;
  secrets: Record<string, string>;
  /** Nodes that hold a barclamp role, e.g. `nodesWith('ntp/server')`, sorted by name. */
  nodesWith: (ref: string) => TemplateNode[];
  /** Deployment-wide attributes of another deployed barclamp, e.g. `attributesOf('keystone').region`. */
  attributesOf: (barclamp: string) => Record<string, unknown>;
}

export interface TemplateNode {
  name: string;
  address: string;
  addresses: Record<string, string>;
  roles: string[];
  barclampRoles: string[];
  /** The node's BMC and the user fencing logs in as (its password: `secrets['bmc_fence.NAME']`). */
  bmc?: { address: string; fence_username: string };
  /** Out of service on purpose (inventory): health checks expect it so, nothing puts it back into service. */
  maintenance: boolean;
  /** Package → version the inventory's pinned bill of materials holds this node to (empty: nothing pinned). */
  pins: Readonly<Record<string, string>>;
}

/** Compiled templates of one run, keyed by file and text (so an edited template is never served stale). */
export type CompiledTemplates = Map<string, ejs.TemplateFunction>;

const CONTEXT_NAMES = [
  'deployment',
  'release',
  'node',
  'nodes',
  'networks',
  'attributes',
  'secrets',
  'nodesWith',
  'attributesOf',
] as const;

export class TemplateError extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.summary);
  }
}

/**
 * Renders an ejs template in strict mode. Reading an attribute the barclamp does not declare throws,
 * so a typo in a template is a render error naming the template and line instead of an empty value.
 * `include('openstack/x.ejs')` finds partials next to the template first, then in `includeDirs`.
 */
export function renderTemplate(
  text: string,
  file: string,
  what: string,
  context: TemplateContext,
  includeDirs: readonly string[] = [],
  compiled?: CompiledTemplates,
  language: TemplateLanguage = 'text',
): string {
  const locals = {
    ...context,
    attributes: renderAttributes(context.attributes),
    secrets: strictRecord(context.secrets, 'secret'),
  };
  try {
    // in shell code every <%= value %> becomes one quoted word; elsewhere (INI, YAML, SQL, JSON files) the
    // template's own syntax applies and values are checked at validation instead (no control characters)
    const escape = language === 'shell' ? (s: unknown) => shellQuote(String(s)) : (s: unknown) => String(s);
    const options = {
      strict: true,
      destructuredLocals: [...CONTEXT_NAMES],
      filename: file,
      views: [...includeDirs],
      escape,
      async: false as const,
    };
    if (!compiled) {
      if (language === 'shell') refuseUnsafeShell(text, file, what);
      return ejs.render(text, locals, options);
    }
    // compiling is most of rendering's cost: a template is compiled once per run, not once per node
    const key = `${language}\u0000${file}\u0000${text}`;
    let render = compiled.get(key);
    if (!render) {
      if (language === 'shell') refuseUnsafeShell(text, file, what);
      render = ejs.compile(text, { ...options, cache: true });
      compiled.set(key, render);
    }
    return withIncludesFrom(compiled, () => render(locals));
  } catch (error) {
    if (error instanceof TemplateError) throw error;
    const message = (error as Error).message ?? String(error);
    const line = /:(\d+)\n/.exec(message)?.[1];
    const cause =
      message
        .split('\n')
        .filter((l) => l.trim() !== '')
        .at(-1) ?? message;
    throw new TemplateError({
      severity: 'error',
      code: 'template.render',
      location: { file, line: line ? Number(line) : 1, col: 1 },
      summary: `cannot render ${what}: ${cause}`,
      suggestion: 'declare the attribute in barclamp.yaml (attributes:) or fix the name used in the template',
    });
  }
}

/** shell: commands, guards, checks and *.sh.ejs files, whose values are shell-quoted; text: everything else. */
export type TemplateLanguage = 'shell' | 'text';

/** The language of a file template, by its name: `*.sh.ejs` is shell code (a script, or a file a shell sources). */
export function fileTemplateLanguage(name: string): TemplateLanguage {
  return name.endsWith('.sh.ejs') ? 'shell' : 'text';
}

function refuseUnsafeShell(text: string, file: string, what: string): void {
  const problem = shellTemplateProblems(text)[0];
  if (!problem) return;
  throw new TemplateError({
    severity: 'error',
    code: 'template.shell-quoting',
    location: { file, line: problem.line, col: 1 },
    summary: `${what}: ${problem.problem}`,
    suggestion: 'values in shell code are quoted by the renderer; see "Barclamp reference" in the README',
  });
}

/**
 * ejs compiles an included template on every include unless its `cache` option is on, and then it keeps
 * them in its own module-wide cache, keyed by file name, for the life of the process. Included templates
 * go into this run's cache instead: ejs's is swapped for it while the (synchronous) render runs, so
 * nothing outlives the run and nothing leaks between runs. nova.conf's seven includes, compiled again on
 * every compute, were half of rendering a 1,000-node rack.
 */
function withIncludesFrom<T>(compiled: CompiledTemplates, render: () => T): T {
  const ejsCache = ejs.cache;
  const key = (file: string) => `include\u0000${file}`;
  ejs.cache = {
    get: (file: string) => compiled.get(key(file)),
    set: (file: string, fn: ejs.TemplateFunction) => void compiled.set(key(file), fn),
    reset: () => undefined,
  };
  try {
    return render();
  } finally {
    ejs.cache = ejsCache;
  }
}

/** Attributes as templates see them: reading an undeclared one is an error. */
export function renderAttributes(attributes: Record<string, unknown>): Record<string, unknown> {
  return strictRecord(attributes, 'attribute');
}

function strictRecord<T>(record: Record<string, T>, kind: string): Record<string, T> {
  return new Proxy(record, {
    get(target, key, receiver) {
      if (typeof key === 'symbol' || key === 'toJSON' || key === 'then') return Reflect.get(target, key, receiver);
      if (!Object.prototype.hasOwnProperty.call(target, key)) {
        throw new ReferenceError(`unknown ${kind} '${key}' (declared: ${Object.keys(target).join(', ') || 'none'})`);
      }
      return Reflect.get(target, key, receiver);
    },
  });
}
