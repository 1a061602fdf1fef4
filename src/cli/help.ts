export const HELP = `bootstrap — discover bare metal, apply barclamps, record failures against a taxonomy

Usage: bootstrap COMMAND [options]

Commands:
  validate INVENTORY            check an inventory (every problem, with file:line:col); changes nothing
  plan INVENTORY                gather facts over SSH (read-only) and show what apply would change
      --out FILE                  also write the plan as JSON (for apply --plan)
  apply INVENTORY               gather, plan and execute; re-running converges and is a no-op when nothing changed
      --plan FILE                 execute exactly a saved plan (refused if inputs changed since)
      --parallel N                nodes worked on at once (default 16)
  barclamps                     list barclamps, roles and attributes
  taxonomy [CODE]               list failure genes or explain one
  hostkey forget INVENTORY NODE forget a node's pinned SSH host key (after a deliberate reinstall)
  help | version

Common options:
  --limit a,b                   only these nodes
  --state-dir DIR               state (secrets, host keys, runs); default .bootstrap/<deployment>
  --json                        machine output: NDJSON events (apply) or JSON (plan, validate)
  --verbose                     more progress lines

Exit codes: 0 ok · 1 something failed (see failure records) · 2 invalid input, nothing changed · 3 another apply holds the lock · 130 interrupted
`;
