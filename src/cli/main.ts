import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config.js';
import { registerAgentCommand } from './commands/agent.js';
import { registerDeploymentCommands } from './commands/deployments.js';
import { registerResourceCommands } from './commands/resources.js';
import { addConnectionOptions } from './connection.js';
import { CliError, ExitCode } from './exit-codes.js';
import { registerMigrateCommand } from './migrate.command.js';
import { registerTokenCommand } from './token.command.js';

const program = addConnectionOptions(
  new Command('hotswap').description('HotSwap: versioned configuration, pushed to running instances').showHelpAfterError('(add --help for usage)').exitOverride(),
);
registerTokenCommand(program, process.env);
registerMigrateCommand(program, process.env);
registerResourceCommands(program, process.env);
registerDeploymentCommands(program, process.env);
registerAgentCommand(program, process.env);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? ExitCode.OK : ExitCode.REFUSED);
  if (error instanceof CliError) {
    for (const line of error.lines) process.stderr.write(`hotswap: ${line}\n`);
    process.exit(error.exitCode);
  }
  const message = error instanceof ConfigError ? error.problems.join('\n') : error instanceof Error ? error.message : String(error);
  process.stderr.write(`hotswap: ${message}\n`);
  process.exit(ExitCode.REFUSED);
}
