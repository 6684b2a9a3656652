import type { Role } from '../../../src/domain/enums.js';
import type { TestServer } from '../server.js';
import type { Fixtures } from './fixtures.js';
import type { Spec } from './inputs.js';

/**
 * Every GraphQL operation of schema.graphql, as tables the security tests walk
 * (mutations.ts, queries.ts): the document (every argument a variable), the
 * variables' types (for fuzzing), a valid input on a set of fixtures, and who
 * may run it.
 */

/** Who calls: a human role, an instance with its own token, or a registration token. */
export type Caller = 'ADMIN' | 'OPERATOR' | 'DEVELOPER' | 'INSTANCE' | 'REGISTRATION';
export const CALLERS: readonly Caller[] = ['ADMIN', 'OPERATOR', 'DEVELOPER', 'INSTANCE', 'REGISTRATION'];

export interface Operation {
  name: string;
  kind: 'query' | 'mutation' | 'subscription';
  /** The document: one root field, every argument a variable. */
  document: string;
  variables: Readonly<Record<string, Spec>>;
  /** A valid input on `f`. */
  valid(f: Fixtures): Record<string, unknown>;
  /** Callers allowed to run it on the fixtures (everyone else is FORBIDDEN). */
  allowed: readonly Caller[];
  /**
   * Needs no token: its argument is the credential (redeemSignInLink). The
   * token tables leave it out ({@link needingTokens}); its own tests are in
   * test/api/console-queries.test.ts and test/browser/sign-in-link.test.ts.
   */
  public?: true;
}

/** The operations a token decides (all but the public ones). */
export const needingTokens = (ops: readonly Operation[]): Operation[] => ops.filter((o) => !o.public);

/** The token of `caller` for fixtures `f`. */
export async function tokenOf(server: TestServer, caller: Caller, f: Fixtures): Promise<string> {
  switch (caller) {
    case 'INSTANCE':
      return f.instanceToken;
    case 'REGISTRATION':
      return f.registrationToken;
    default:
      return server.token(caller as Role, { sub: `sec-${caller.toLowerCase()}` });
  }
}

/** The human roles. */
export const HUMANS: readonly Caller[] = ['ADMIN', 'OPERATOR', 'DEVELOPER'];

/** Root field names of a type in schema.graphql's SDL (to check the tables cover every operation). */
export function rootFieldsOf(sdl: string, type: 'Query' | 'Mutation' | 'Subscription'): string[] {
  const body = new RegExp(`type ${type} \\{([\\s\\S]*?)\\n\\}`).exec(sdl)?.[1] ?? '';
  const withoutDocs = body.replace(/"""[\s\S]*?"""/g, '');
  return [...withoutDocs.matchAll(/^ {2}(\w+)\s*[(:]/gm)].map((m) => m[1]!);
}
