/**
 * Preloaded with `node --import` (see withExitReport): prints the process's
 * peak resident set (VmHWM) and CPU time on stderr as it exits, so a real
 * `gcs2s3` command can be measured without changing it. Loads only node:fs.
 */
import { readFileSync, writeSync } from 'node:fs';

process.on('exit', () => {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  const cpu = process.cpuUsage();
  const report = { peakRssMiB: Number(kb) / 1024, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  // Synchronous: nothing asynchronous runs after 'exit'.
  writeSync(2, `\nBENCH_EXIT ${JSON.stringify(report)}\n`);
});
