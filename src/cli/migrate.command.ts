import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { startEmbeddedPostgres } from '../store/embedded-postgres.js';
import { migrate, openOrm } from '../store/orm.js';
import { createLogger } from '../telemetry/logger.js';

/** `hotswap migrate`: applies pending migrations to DATABASE_URL (or the embedded database). */
export function registerMigrateCommand(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command('migrate')
    .description('Apply pending database migrations to DATABASE_URL, or to the embedded database when it is unset')
    .addHelpText('after', '\nExample:\n  $ DATABASE_URL=postgres://hotswap@db/hotswap JWT_SECRET=… hotswap migrate')
    .action(async () => {
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
