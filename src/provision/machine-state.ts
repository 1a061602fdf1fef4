/**
 * The per-machine life cycle, from "a MAC we have never seen" to "barclamps applied". Transitions are
 * explicit: anything not listed here is an error, so a late callback or a double power-cycle cannot move
 * a machine somewhere it should not be.
 */
export const MACHINE_STATES = [
  'discovered',
  'inspected',
  'allocated',
  'installing',
  'installed',
  'deploying',
  'deployed',
  'inspect-failed',
  'install-failed',
  'deploy-failed',
] as const;

export type MachineState = (typeof MACHINE_STATES)[number];

const TRANSITIONS: Record<MachineState, readonly MachineState[]> = {
  discovered: ['inspected', 'inspect-failed', 'allocated'],
  inspected: ['inspected', 'allocated', 'inspect-failed'],
  allocated: ['installing', 'inspected'],
  installing: ['installing', 'installed', 'install-failed'],
  // allocated again: an operator asked for a reinstall (bootstrap reinstall)
  installed: ['installing', 'deploying', 'allocated'],
  deploying: ['deployed', 'deploy-failed', 'installing'],
  deployed: ['deploying', 'installing', 'allocated'],
  'inspect-failed': ['discovered', 'inspected', 'allocated'],
  'install-failed': ['installing', 'allocated'],
  'deploy-failed': ['deploying', 'installing', 'allocated'],
};

export function canTransition(from: MachineState, to: MachineState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** States in which the machine has an installed operating system that boots from its disk. */
export function hasOperatingSystem(state: MachineState): boolean {
  return state === 'installed' || state === 'deploying' || state === 'deployed' || state === 'deploy-failed';
}

/** What the boot server hands a machine that network-boots, decided by its state alone. */
export type BootAction = 'discover' | 'install' | 'local';

export function bootActionFor(state: MachineState | undefined): BootAction {
  if (state === 'installing') return 'install';
  if (state === undefined || state === 'discovered' || state === 'inspected' || state === 'inspect-failed')
    return 'discover';
  return 'local';
}

export class IllegalTransition extends Error {
  constructor(
    readonly machine: string,
    readonly from: MachineState,
    readonly to: MachineState,
  ) {
    super(`machine ${machine} cannot go from ${from} to ${to} (allowed from ${from}: ${TRANSITIONS[from].join(', ')})`);
  }
}
