import { createHash, randomBytes } from 'node:crypto';
import { Role } from '../domain/enums.js';
import { UnauthenticatedError } from '../domain/errors.js';
import { mintToken } from './tokens.js';

/** The embedded server's own ADMIN, printed at start-up and given by its sign-in links: 12 hours. */
export function mintLocalAdminToken(secret: string): Promise<string> {
  return mintToken(secret, { sub: 'local-admin', role: Role.ADMIN, expiresInSeconds: 12 * 3600 });
}

/** How long a printed sign-in link may be used: long enough to read the banner and click. */
export const SIGN_IN_LINK_TTL_MS = 15 * 60_000;

/**
 * One-time sign-in links of an embedded server: start-up prints a link to the
 * console whose fragment (`#sign-in=<code>`, never sent to a server, so never
 * in an access log) the console trades once for an ADMIN token. A code works
 * once and expires; only its hash is kept.
 */
export class SignInLinks {
  private readonly codes = new Map<string, number>();

  constructor(
    /** Mints the token a redeemed code gives. */
    private readonly mint: () => Promise<string>,
    private readonly ttlMs: number = SIGN_IN_LINK_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new code, usable once within the TTL. */
  issue(): string {
    const code = randomBytes(24).toString('base64url');
    this.codes.set(digest(code), this.now() + this.ttlMs);
    return code;
  }

  /**
   * The token for `code`, once.
   * @throws UnauthenticatedError for an unknown, used or expired code (the same answer for each)
   */
  async redeem(code: string): Promise<string> {
    const key = digest(code);
    // Keyed by the code's SHA-256: a lookup reveals nothing usable about other codes.
    const expiresAt = this.codes.get(key);
    this.codes.delete(key);
    for (const [k, at] of this.codes) if (at < this.now()) this.codes.delete(k);
    if (expiresAt === undefined || expiresAt < this.now()) {
      throw new UnauthenticatedError('this sign-in link is not valid: it was used already, has expired, or belongs to another server start; sign in with a token');
    }
    return this.mint();
  }
}

function digest(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}
