export const HELP = `bootstrap — discover bare metal, apply barclamps, record failures against a taxonomy

Usage: bootstrap COMMAND [options]

Commands:
  validate INVENTORY            check an inventory (every problem, with file:line:col); changes nothing
  plan INVENTORY                gather facts over SSH (read-only) and show what apply would change
      --out FILE                  also write the plan as JSON (for apply --plan)
  apply INVENTORY               gather, plan and execute; re-running converges and is a no-op when nothing changed
      --plan FILE                 execute exactly a saved plan (refused if inputs changed since)
      --parallel N                nodes worked on at once (default 16)
      --max-failures N|P%         stop starting new steps once more than N nodes (or P% of them) failed
      --deadline 45m              overall deadline: running steps are killed, every unfinished node is
                                  recorded (TIME-RUN-DEADLINE) with its phase and what was last seen
      --ui                        the live dashboard while it runs (--listen, --token-file as for serve)
  verify INVENTORY              run every barclamp check once on every node (read-only, no lock): is the
                                  deployment still healthy? failures are recorded and classified like apply's
      --suite NAME[,NAME]         also the optional checks of these suites, e.g. smoke (boot, check and
                                  delete a server on each compute) or conformance (tempest); never in apply
  recoveries INVENTORY          masakari's notifications and their recoveries (phases and times); each failure
                                  masakari handled (host lost, instance crashed, process failed, recovery
                                  failed) becomes a failure record once; exit 1 when a recovery failed
  serve [INVENTORY]             the live dashboard (nodes, timelines, failures by gene, plan) until Ctrl-C
      --listen HOST:PORT          default 127.0.0.1:8780; any other address needs a token
      --token-file F              or BOOTSTRAP_UI_TOKEN: the token (16+ characters, never on the command
                                  line); every request must carry it
  discover [INVENTORY]          sweep BMC ranges (UDP), read every BMC found (FRU, LAN, GUID, power) via ipmitool
      --bmc RANGES                CIDR or a-b, comma-separated (default: the inventory's bmc network)
      --timeout MS                how long the sweep waits for answers (default 1500)
      --write-inventory FILE      merge machines not in the inventory into FILE (created from INVENTORY;
                                  comments, names, roles and addresses you wrote are kept)
  power on|off|cycle|status NODE…  power through the nodes' BMCs (--inventory FILE)
  boot pxe|disk NODE…           boot device through the BMCs (--persistent; --inventory FILE)
  status [INVENTORY]            life-cycle state, power, addresses and last failure of every node
  lab up|down|status [INVENTORY]  the local simulated rack (root); --nodes N adds spare machines,
                                  --qemu M makes the last M spares QEMU/TCG machines (real BIOS + iPXE)
  lab console|exec NODE [INVENTORY] [-- CMD…]  a lab machine's console; run a command inside it
  lab faults|inject GENE|heal [GENE] [--node N]  re-create a failure mode in the lab (a BMC that stops
                                  answering, sshd stopped, corosync blocked, …) and undo it
      --port P                    SVC-PORT-IN-USE: the service listening on TCP P (default: the lowest)
  provisioner serve INVENTORY   the admin node's DHCP/TFTP/HTTP boot services (lab up starts it)
  barclamps                     list barclamps, roles and attributes
  taxonomy [CODE]               list failure genes or explain one
  failures [INVENTORY]          failure records of the latest run, classified by gene
      --run ID | --all            another run, or every run (compared gene by gene)
      --format F                  table (default), json, csv (Fault Genes columns), junit (CI),
                                  markdown or html (run report with a per-node timeline)
      --out FILE                  write there instead of stdout
  bom [INVENTORY]               per node the installed packages and versions of the latest apply
      --run ID | --diff A,B       another apply's, or what changed between two applies
  hostkey forget INVENTORY NODE forget a node's pinned SSH host key (after a deliberate reinstall)
  reinstall INVENTORY NODE      the next apply installs NODE again (needs install.wipe: true)
  help [COMMAND] | version       COMMAND --help: its usage, options with defaults, examples, exit codes
  completion bash|zsh           a completion script: source <(bootstrap completion bash)

Common options:
  --limit a,b                   only these nodes
  --state-dir DIR               state (secrets, host keys, machines, runs); default .bootstrap/<deployment>
  --inventory FILE              for power/boot (default: $BOOTSTRAP_INVENTORY, else inventory/lab.yaml)
  --json                        machine output: NDJSON events (apply) or JSON (plan, validate)
  --verbose                     more progress lines

Exit codes: 0 ok · 1 something failed (see failure records) · 2 invalid input, nothing changed · 3 another apply holds the lock · 130 interrupted
`;
