import 'reflect-metadata';
import { type RunningApp, startApp } from './app.js';
import { mintLocalAdminToken } from './auth/sign-in-links.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './telemetry/logger.js';

/** Process entry: configuration, the composition root, and signals. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) process.stderr.write(`hotswap: configuration error: ${problem}\n`);
      process.exit(78);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);

  // Signals are handled from the first moment: one that arrives while starting
  // stops the app as soon as it is up.
  const state: { app?: RunningApp; stopRequested?: string } = {};
  const shutdown = (signal: string) => {
    if (state.stopRequested) return;
    state.stopRequested = signal;
    if (state.app) void stopAndExit(state.app, signal);
  };
  const stopAndExit = async (running: RunningApp, signal: string) => {
    logger.info({ signal }, 'shutting down');
    try {
      await running.stop();
      // Flush the last spans (the SDK is loaded only when tracing is on).
      if (config.otlpEndpoint !== undefined) await (await import('./telemetry/tracing-sdk.js')).stopTracing();
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  const app = await startApp(config, logger);
  state.app = app;
  if (state.stopRequested) return stopAndExit(app, state.stopRequested);
  logger.info({ url: app.url, embedded: app.embedded }, 'HotSwap is listening');

  if (app.generatedSecret !== undefined) {
    const token = await mintLocalAdminToken(app.generatedSecret);
    const consoleUrl = new URL('/', app.url);
    process.stdout.write(
      [
        '',
        `  HotSwap is running on its embedded default (data in ${config.dataDir}).`,
        `  Console:      ${consoleUrl.href}`,
        `  Sign in:      ${consoleUrl.href}#sign-in=${app.signInLinks!.issue()}  (one-time link, 15 min)`,
        `  GraphQL:      ${app.url}`,
        `  ADMIN token (12 h): ${token}`,
        '  More tokens:  npx hotswap token --role DEVELOPER --sub alice',
        '',
      ].join('\n') + '\n',
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`hotswap: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
