import { readFileSync } from 'node:fs';

/**
 * When a process started (clock ticks since boot, /proc/PID/stat field 22): with its pid, what identifies it.
 * A recorded pid alone may name another process by now (pids are reused); pid and start time never do.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count from after its closing one
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether one of the process's arguments is the directory or holds a path inside it (`file=DIR/disk.img,…`); false when it is gone. */
export function processNamesDirectory(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .some((arg) => arg === dir || arg.includes(`${dir}/`));
  } catch {
    return false;
  }
}
