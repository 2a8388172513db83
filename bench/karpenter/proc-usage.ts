// Peak RSS and CPU seconds of a set of processes over a window, read from /proc:
// what each controller cost the machine during one burst.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (100 on Linux almost everywhere). */
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

interface Sample {
  rssBytes: number;
  cpuSeconds: number;
}

function sample(pid: number): Sample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    // A process that has exited but not been reaped (a zombie) has no VmRSS: it holds no memory.
    const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
    // The command name (field 2) may hold spaces: fields after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the name (0-based from field 3).
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { rssBytes: rssKb * 1024, cpuSeconds: ticks / CLK_TCK };
  } catch {
    return undefined; // the process is gone
  }
}

export interface UsageWindow {
  /** Stops sampling; the peak of the summed RSS of the processes, each one's own peak (in `pids` order) and the CPU seconds they used in the window. */
  stop(): { peakRssBytes: number; peakRssBytesEach: number[]; cpuSeconds: number };
}

/** Samples the processes every `everyMs` until stop(): the peak of their summed RSS, and their CPU time since the start. */
export function measureUsage(pids: readonly number[], everyMs = 250): UsageWindow {
  const start = pids.map((pid) => sample(pid)?.cpuSeconds ?? 0);
  let peak = 0;
  const each = pids.map(() => 0);
  const tick = (): void => {
    const rss = pids.map((pid) => sample(pid)?.rssBytes ?? 0);
    rss.forEach((r, i) => { each[i] = Math.max(each[i] ?? 0, r); });
    peak = Math.max(peak, rss.reduce((sum, r) => sum + r, 0));
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      tick();
      const cpuSeconds = pids.reduce((sum, pid, i) => sum + Math.max(0, (sample(pid)?.cpuSeconds ?? 0) - (start[i] ?? 0)), 0);
      return { peakRssBytes: peak, peakRssBytesEach: each, cpuSeconds };
    },
  };
}
