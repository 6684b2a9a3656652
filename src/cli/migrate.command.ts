import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { createLogger } from '../telemetry/logger.js';

/** `hotswap migrate`: applies pending migrations to DATABASE_URL (or the embedded database). */
export function registerMigrateCommand(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command('migrate')
    .description('Apply pending database migrations to DATABASE_URL, or to the embedded database when it is unset')
    .addHelpText('after', '\nExample:\n  $ DATABASE_URL=postgres://hotswap@db/hotswap JWT_SECRET=… hotswap migrate')
    .action(async () => {
      // Loaded here, not at the top: the ORM takes most of a second to import, and every other command starts without it.
      const { startEmbeddedPostgres } = await import('../store/embedded-postgres.js');
      const { migrate, openOrm } = await import('../store/orm.js');
      const config = loadConfig(env);
      const logger = createLogger(config.logLevel);
      const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(config.dataDir, config.embeddedPgPort, logger);
      const orm = await openOrm(config.databaseUrl ?? embedded!.url);
      try {
        const applied = await migrate(orm);
        process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'the database is up to date\n');
      } finally {
        await orm.close();
        await embedded?.stop();
      }
    });
}
