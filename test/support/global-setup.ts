import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const script = resolve(import.meta.dirname, '../../scripts/local-stack.sh');

function stackIsUp(): boolean {
  try {
    execFileSync('bash', [script, 'status', '--quiet'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Brings the local stack up for the integration project, so the README's test
 * command needs nothing else. A stack that was already up (a developer's) is
 * left running; one started here is stopped at the end.
 */
export default function setup(): () => void {
  const wasUp = stackIsUp();
  if (!wasUp) execFileSync('bash', [script, 'up'], { stdio: 'inherit' });
  return () => {
    if (!wasUp) execFileSync('bash', [script, 'down'], { stdio: 'inherit' });
  };
}
