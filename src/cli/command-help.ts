/** What `bootstrap COMMAND --help` and `bootstrap help COMMAND` print: usage, options with defaults, an example, exit codes. */
export interface CommandHelp {
  usage: string[];
  summary: string;
  /** [option as typed, what it does (with its default)] */
  options: [string, string][];
  examples: string[];
  /** Exit codes beyond the common ones, or the common ones said for this command. */
  exits?: string;
}

const STATE_DIR: [string, string] = [
  '--state-dir DIR',
  'state: secrets, pinned host keys, machines, runs (default .bootstrap/<deployment>, or $BOOTSTRAP_STATE_DIR)',
];
const LIMIT: [string, string] = ['--limit a,b', 'only these nodes (a node in maintenance is refused)'];
const PARALLEL: [string, string] = ['--parallel N', 'nodes worked on at once (default 16)'];
const JSON_EVENTS: [string, string] = ['--json', 'NDJSON events for machines, one per line'];
const VERBOSE: [string, string] = ['--verbose', 'more progress lines (facts gathered, checks passed)'];
const INVENTORY_OPTION: [string, string] = [
  '--inventory FILE',
  'the inventory (default $BOOTSTRAP_INVENTORY, else inventory/lab.yaml)',
];

export const COMMAND_HELP: Record<string, CommandHelp> = {
  validate: {
    usage: ['validate INVENTORY'],
    summary:
      'Checks an inventory, its barclamps and every template: every problem at once, each with file:line:col. Changes nothing.',
    options: [STATE_DIR, ['--json', 'the diagnostics as JSON']],
    examples: ['bootstrap validate inventory/lab.yaml'],
    exits: '0 valid · 2 invalid (nothing changed)',
  },
  plan: {
    usage: ['plan INVENTORY'],
    summary:
      'Gathers facts over SSH (read-only) and shows what apply would change: + create, ~ update (with a diff), ! run. Secrets show as (sensitive).',
    options: [
      ['--out FILE', 'also write the plan as JSON, for apply --plan'],
      LIMIT,
      PARALLEL,
      STATE_DIR,
      ['--json', 'the plan as JSON'],
      VERBOSE,
    ],
    examples: ['bootstrap plan inventory/lab.yaml', 'bootstrap plan inventory/lab.yaml --out plan.json'],
  },
  apply: {
    usage: ['apply INVENTORY'],
    summary:
      "Installs nodes without an operating system (PXE through their BMCs), gathers, plans and executes, then checks the cloud's health. Re-running converges; a second run changes nothing.",
    options: [
      [
        '--plan FILE',
        'execute a saved plan (from plan --out): refused when the inputs changed or a step is not one they give',
      ],
      LIMIT,
      PARALLEL,
      [
        '--max-failures N|P%',
        'start nothing new once more than N nodes (or P% of them) failed (default: never stop early)',
      ],
      [
        '--deadline 45m',
        'overall deadline (s, m or h): running steps are killed, unfinished nodes recorded (TIME-RUN-DEADLINE) (default: none)',
      ],
      ['--ui', 'the live dashboard while it runs'],
      ['--listen HOST:PORT', 'with --ui: where the dashboard listens (default 127.0.0.1:8780)'],
      ['--token-file FILE', 'with --ui beyond loopback: the dashboard token (or $BOOTSTRAP_UI_TOKEN)'],
      STATE_DIR,
      JSON_EVENTS,
      VERBOSE,
    ],
    examples: [
      'bootstrap apply inventory/lab.yaml',
      'bootstrap apply inventory.yaml --limit cmp1,cmp2 --max-failures 10% --deadline 45m',
    ],
    exits:
      '0 ok · 1 a step, check or health check failed (see bootstrap failures) · 2 invalid input, nothing changed · 3 another apply holds the lock · 130 interrupted',
  },
  verify: {
    usage: ['verify INVENTORY'],
    summary:
      "Runs every barclamp check once on every node, then the cloud health checks. Read-only, no lock: it runs beside an apply. Failures are recorded and classified like apply's.",
    options: [
      [
        '--suite NAME[,NAME]',
        'also the optional checks of these suites: smoke (a server on each compute), conformance (tempest) (default: none)',
      ],
      LIMIT,
      PARALLEL,
      STATE_DIR,
      JSON_EVENTS,
      VERBOSE,
    ],
    examples: ['bootstrap verify inventory/lab.yaml', 'bootstrap verify inventory/lab.yaml --suite smoke'],
  },
  recoveries: {
    usage: ['recoveries INVENTORY'],
    summary:
      "Masakari's notifications and what became of each, with the time of every recovery phase; each failure masakari handled is recorded once under its gene.",
    options: [STATE_DIR, JSON_EVENTS],
    examples: ['bootstrap recoveries inventory/lab.yaml'],
    exits: '0 every recovery succeeded · 1 a recovery failed · 2 invalid input',
  },
  serve: {
    usage: ['serve [INVENTORY]'],
    summary: 'The live dashboard (nodes, timelines, failures by gene, plan, recoveries) until Ctrl-C. Read-only.',
    options: [
      ['--listen HOST:PORT', 'where it listens (default 127.0.0.1:8780); any other address needs a token'],
      ['--token-file FILE', 'the token, 16+ characters (or $BOOTSTRAP_UI_TOKEN; never on the command line)'],
      INVENTORY_OPTION,
      STATE_DIR,
    ],
    examples: [
      'bootstrap serve inventory/lab.yaml',
      'BOOTSTRAP_UI_TOKEN=$(cat ~/.ui-token) bootstrap serve inventory/lab.yaml --listen 0.0.0.0:8780',
    ],
  },
  discover: {
    usage: ['discover [INVENTORY]'],
    summary:
      "Sweeps BMC ranges over UDP, reads every BMC that answered (FRU, LAN, MC, GUID, power) through ipmitool and matches them with the machines' discovery reports.",
    options: [
      ['--bmc RANGES', "CIDR or a-b, comma-separated (default: the inventory's bmc network)"],
      ['--timeout MS', 'how long the sweep waits for answers (default 1500)'],
      ['--parallel N', 'BMCs read at once (default 16)'],
      [
        '--write-inventory FILE',
        'merge machines not in the inventory into FILE (your comments, names, roles and addresses stay)',
      ],
      INVENTORY_OPTION,
      STATE_DIR,
      ['--json', 'the result as JSON'],
    ],
    examples: [
      'bootstrap discover inventory/lab.yaml',
      'bootstrap discover --bmc 10.78.0.0/24 --write-inventory rack.yaml',
    ],
  },
  power: {
    usage: ['power on|off|cycle|status NODE…'],
    summary:
      "Power through each node's BMC, all at once; a BMC that fails is a classified failure record in a run of its own.",
    options: [INVENTORY_OPTION, STATE_DIR],
    examples: ['bootstrap power status cmp1 cmp2', 'bootstrap power cycle cmp1 --inventory rack.yaml'],
  },
  boot: {
    usage: ['boot pxe|disk NODE…'],
    summary: "Sets the boot device through each node's BMC (the next boot only, unless --persistent).",
    options: [['--persistent', 'every boot from now on (default: next boot only)'], INVENTORY_OPTION, STATE_DIR],
    examples: ['bootstrap boot pxe cmp1'],
  },
  status: {
    usage: ['status [INVENTORY]'],
    summary:
      "Every node's life-cycle state, power (asked of its BMC), addresses, the cloud's health of it (asked now) and last failure; machines that enlisted themselves.",
    options: [INVENTORY_OPTION, STATE_DIR, ['--json', 'the same as JSON']],
    examples: ['bootstrap status inventory/lab.yaml'],
  },
  lab: {
    usage: [
      'lab up|down|status [INVENTORY]',
      'lab console|exec NODE [INVENTORY] [-- CMD…]',
      'lab faults|inject GENE|heal [GENE] [INVENTORY]',
    ],
    summary:
      'The local simulated rack (root): container and QEMU machines with ipmi_sim BMCs, the provisioner, a package cache. inject re-creates a failure mode through the real components; heal undoes it.',
    options: [
      ['--nodes N', "up: machines in all, spares beyond the inventory's nodes (default: the inventory's)"],
      ['--qemu M', 'up: the last M spares are QEMU/TCG machines (default 0)'],
      ['--name NAME', 'another lab of the same inventory (default: lab.name)'],
      ['--node NODE', 'inject/heal: the machine (for faults of one machine)'],
      ['--port P', "inject SVC-PORT-IN-USE: the service on TCP P (default: the lowest but sshd's)"],
      STATE_DIR,
      ['--json', 'status as JSON'],
    ],
    examples: [
      'bootstrap lab up',
      'bootstrap lab inject CLOUD-COMPUTE-DISABLED inventory/lab.yaml --node cmp1',
      'bootstrap lab exec ctl1 -- crm_mon -1',
    ],
  },
  provisioner: {
    usage: ['provisioner serve INVENTORY'],
    summary:
      "The admin node's DHCP/TFTP/HTTP boot services for the inventory's networks (lab up starts it; the provisioner barclamp runs it as a systemd unit).",
    options: [STATE_DIR],
    examples: ['bootstrap provisioner serve inventory.yaml'],
  },
  barclamps: {
    usage: ['barclamps'],
    summary: 'The barclamps, their roles and attributes with types and defaults.',
    options: [['--json', 'the same as JSON']],
    examples: ['bootstrap barclamps'],
  },
  taxonomy: {
    usage: ['taxonomy [CODE]'],
    summary:
      'The failure genes, or one explained: symptoms, cause, how it is detected, what to do, how to re-create it.',
    options: [['--json', 'the same as JSON']],
    examples: ['bootstrap taxonomy', 'bootstrap taxonomy CLOUD-COMPUTE-DISABLED'],
  },
  failures: {
    usage: ['failures [INVENTORY]'],
    summary: 'The failure records of the latest run (or one, or all, compared gene by gene), in a format.',
    options: [
      ['--run ID', 'another run'],
      ['--all', 'every run, compared gene by gene'],
      ['--format F', 'table (default), json, csv (Fault Genes columns), junit, markdown or html'],
      ['--out FILE', 'write there (atomically) instead of stdout'],
      INVENTORY_OPTION,
      STATE_DIR,
    ],
    examples: [
      'bootstrap failures inventory/lab.yaml',
      'bootstrap failures inventory/lab.yaml --all --format html --out report.html',
    ],
  },
  bom: {
    usage: ['bom [INVENTORY]'],
    summary:
      'The bill of materials every apply records: per node, each installed Debian package and its exact version; or what changed between two applies.',
    options: [
      ['--run ID', "that apply's (default: the latest that recorded one)"],
      ['--diff RUN_A,RUN_B', 'the packages whose version differs between two applies, added and removed included'],
      INVENTORY_OPTION,
      STATE_DIR,
      ['--json', 'as JSON (bootstrap-bom/1, bootstrap-bom-diff/1)'],
    ],
    examples: [
      'bootstrap bom inventory/lab.yaml',
      'bootstrap bom inventory/lab.yaml --diff 20261130T010000.000Z-a1b2c3,20261130T020000.000Z-d4e5f6',
    ],
  },
  completion: {
    usage: ['completion bash|zsh'],
    summary:
      'Prints a completion script: commands, subcommands, options, node names from the inventory on the line (after --limit, --node, power, boot) and failure genes (taxonomy, lab inject/heal).',
    options: [],
    examples: [
      'source <(bootstrap completion bash)   # in ~/.bashrc',
      'source <(bootstrap completion zsh)    # in ~/.zshrc',
    ],
  },
  complete: {
    usage: ['complete nodes [WORD…]'],
    summary:
      "What the completion script asks while completing: the node names of the first inventory among the words (else $BOOTSTRAP_INVENTORY, else the lab's), one a line.",
    options: [],
    examples: ['bootstrap complete nodes apply inventory/lab.yaml --limit'],
  },
  reinstall: {
    usage: ['reinstall INVENTORY NODE'],
    summary:
      'Marks an installed node for reinstallation: the next apply power-cycles it into PXE and installs it again onto its disk, and pins the new host key it reports. Needs install.wipe: true for the node (its disk is written over); refused while an apply runs.',
    options: [STATE_DIR],
    examples: ['bootstrap reinstall rack.yaml srv-12 && bootstrap apply rack.yaml --limit srv-12'],
  },
  hostkey: {
    usage: ['hostkey forget INVENTORY NODE'],
    summary:
      "Forgets a node's pinned SSH host key, after a reinstall you made on purpose: the next contact pins the new one.",
    options: [STATE_DIR],
    examples: ['bootstrap hostkey forget inventory/lab.yaml cmp1'],
  },
};

const COMMON_EXITS =
  '0 ok · 1 something failed (see the failure records) · 2 invalid input, nothing changed · 3 another apply holds the lock · 130 interrupted';

export function commandHelpText(name: string, help: CommandHelp): string {
  const width = Math.max(...help.options.map(([o]) => o.length), 10) + 2;
  return [
    `Usage: ${help.usage.map((u) => `bootstrap ${u} [options]`).join('\n       ')}`,
    '',
    help.summary,
    '',
    'Options:',
    ...help.options.map(([option, what]) => `  ${option.padEnd(width)}${what}`),
    `  ${'--help'.padEnd(width)}this text (also: bootstrap help ${name})`,
    '',
    'Examples:',
    ...help.examples.map((e) => `  ${e}`),
    '',
    `Exit codes: ${help.exits ?? COMMON_EXITS}`,
    '',
  ].join('\n');
}
