import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config.js';
import { registerMigrateCommand } from './migrate.command.js';
import { registerTokenCommand } from './token.command.js';

const program = new Command('hotswap')
  .description('HotSwap: versioned configuration, pushed to running instances')
  .showHelpAfterError()
  .exitOverride();
registerTokenCommand(program, process.env);
registerMigrateCommand(program, process.env);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 4);
  const message = error instanceof ConfigError ? error.problems.join('\n') : error instanceof Error ? error.message : String(error);
  process.stderr.write(`hotswap: ${message}\n`);
  process.exit(4);
}
