import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // A guard against hangs, not a speed check: tests that stream tens of MiB
          // through in-process servers took over 5 s on this 2-core machine under load.
          testTimeout: 30_000,
          // Unit tests first; the integration project (its own worker limit) after.
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          sequence: { groupOrder: 1 },
          // Starts the local emulator stack when it is not up, and stops it afterwards if it started it.
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Two cores: the emulators need one of them.
          maxWorkers: 2,
          pool: 'forks',
        },
      },
    ],
  },
});
