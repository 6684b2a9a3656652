import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // One graphql module instance for type-graphql, Apollo and the tests.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    pool: 'forks',
    setupFiles: ['reflect-metadata'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/api/**/*.test.ts', 'test/cli/**/*.test.ts', 'test/security/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts', 'test/support/build-dist.ts', 'test/support/build-console.ts'],
        },
      },
      {
        extends: true,
        test: {
          // npm pack and npm install of the published packages, into temp dirs outside the checkout.
          name: 'package',
          include: ['test/package/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          hookTimeout: 480_000,
        },
      },
      {
        extends: true,
        test: {
          // The console in headless Debian chromium (Playwright), against the built service.
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts', 'test/support/build-dist.ts', 'test/support/build-console.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: { name: 'chaos', include: ['test/chaos/**/*.test.ts'], globalSetup: ['test/support/global-setup.ts', 'test/support/build-dist.ts'] },
      },
    ],
  },
});
