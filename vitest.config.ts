import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Integration tests start real sshd/systemd nodes; they share host resources (bridges, namespaces).
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 900_000,
    reporters: ['default'],
  },
});
