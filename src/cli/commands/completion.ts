import { packageLayout } from '../../core/package-layout.js';
import type { ParsedArgs } from '../args.js';
import { usage } from '../args.js';
import { EXIT, type CommandIO } from '../io.js';
import { shellQuote } from '../../transport/shell-quote.js';
import { loadInventory } from '../../inventory/load.js';
import { loadTaxonomy } from '../../failures/taxonomy.js';
import { join, resolve } from 'node:path';
import { existsSync } from 'node:fs';

/** What completion offers: the commands with the options each accepts (from the CLI's own table). */
export type CommandOptions = Record<string, { values: string[]; booleans: string[] }>;

const SUBCOMMANDS: Record<string, string[]> = {
  lab: ['up', 'down', 'status', 'console', 'exec', 'faults', 'inject', 'heal'],
  power: ['on', 'off', 'cycle', 'status'],
  boot: ['pxe', 'disk'],
  hostkey: ['forget'],
  provisioner: ['serve'],
};

/**
 * `bootstrap completion bash|zsh`: a completion script to source. Commands, subcommands and options are
 * written into it; node names (after --limit, --node, and for power/boot) come from the inventory on the line
 * when completing (`bootstrap complete nodes …`); genes (taxonomy, lab inject/heal) from the taxonomy.
 */
export async function completionCommand(args: ParsedArgs, io: CommandIO, commands: CommandOptions): Promise<number> {
  const shell = args.positionals[0];
  if (shell !== 'bash' && shell !== 'zsh')
    throw usage(
      'completion needs a shell: bootstrap completion bash (or zsh); e.g. source <(bootstrap completion bash)',
    );
  io.stdout.write(
    completionScript(
      shell,
      commands,
      loadTaxonomy(packageLayout(io.env.packageRoot).taxonomy).genes.map((g) => g.code),
    ),
  );
  return EXIT.ok;
}

/** `bootstrap complete nodes WORD…`: the node names of the first inventory among the words (else the lab's), one a line. */
export async function completeCommand(args: ParsedArgs, io: CommandIO): Promise<number> {
  if (args.positionals[0] !== 'nodes') return EXIT.ok;
  const given = args.positionals.slice(1).find((w) => /\.ya?ml$/.test(w) && existsSync(resolve(io.env.cwd, w)));
  const file = given
    ? resolve(io.env.cwd, given)
    : (io.env.env.BOOTSTRAP_INVENTORY ?? join(io.env.packageRoot, 'inventory', 'lab.yaml'));
  const loaded = loadInventory(file, {
    builtinBarclamps: packageLayout(io.env.packageRoot).barclamps,
    home: io.env.home,
  });
  for (const node of loaded.inventory?.nodes ?? []) io.stdout.write(`${node.name}\n`);
  return EXIT.ok;
}

function completionScript(shell: 'bash' | 'zsh', commands: CommandOptions, genes: string[]): string {
  const words = (list: readonly string[]) => shellQuote(list.join(' '));
  const optionCases = Object.entries(commands).map(
    ([name, c]) =>
      `    ${name}) opts=${words(
        [...c.values, ...c.booleans]
          .filter((o) => o !== 'token')
          .map((o) => `--${o}`)
          .concat('--help'),
      )} ;;`,
  );
  const subCases = Object.entries(SUBCOMMANDS).map(
    ([name, subs]) =>
      `    ${name}) [ "$COMP_CWORD" -eq 2 ] && { COMPREPLY=($(compgen -W ${words(subs)} -- "$cur")); return; } ;;`,
  );
  return `# bootstrap ${shell} completion: source <(bootstrap completion ${shell})
${shell === 'zsh' ? 'autoload -U +X bashcompinit && bashcompinit\n' : ''}_bootstrap() {
  local cur prev cmd opts
  cur=\${COMP_WORDS[COMP_CWORD]}
  prev=\${COMP_WORDS[COMP_CWORD-1]}
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W ${words([...Object.keys(commands), 'help', 'version', 'completion'])} -- "$cur"))
    return
  fi
  cmd=\${COMP_WORDS[1]}
  case $cmd in
    help) COMPREPLY=($(compgen -W ${words(Object.keys(commands))} -- "$cur")); return ;;
    completion) COMPREPLY=($(compgen -W 'bash zsh' -- "$cur")); return ;;
  esac
  case $cur in
    -*)
      case $cmd in
${optionCases.map((c) => `    ${c}`).join('\n')}
        *) opts=--help ;;
      esac
      COMPREPLY=($(compgen -W "$opts" -- "$cur"))
      return ;;
  esac
  case $prev in
    --limit|--node) COMPREPLY=($(compgen -W "$(bootstrap complete nodes "\${COMP_WORDS[@]}" 2>/dev/null)" -- "\${cur##*,}")); return ;;
    --format) COMPREPLY=($(compgen -W 'table json csv junit markdown html' -- "$cur")); return ;;
    --suite) COMPREPLY=($(compgen -W 'smoke conformance' -- "$cur")); return ;;
    inject|heal) COMPREPLY=($(compgen -W ${words(genes)} -- "$cur")); return ;;
  esac
  case $cmd in
${subCases.join('\n')}
    taxonomy) COMPREPLY=($(compgen -W ${words(genes)} -- "$cur")); return ;;
  esac
  case $cmd in
    power|boot) [ "$COMP_CWORD" -ge 3 ] && { COMPREPLY=($(compgen -W "$(bootstrap complete nodes "\${COMP_WORDS[@]}" 2>/dev/null)" -- "$cur")); return; } ;;
  esac
  COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _bootstrap bootstrap
`;
}
