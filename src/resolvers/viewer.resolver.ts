import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { SignInLinks } from '../auth/sign-in-links.js';
import { allowedActions, authorize, deployEnvironments } from '../domain/authorization.js';
import { UnauthenticatedError } from '../domain/errors.js';
import type { GraphQLContext } from '../schema/context.js';
import { Viewer } from '../schema/viewer.type.js';

@Resolver()
export class ViewerResolver {
  /** `links` exists on an embedded server only (it prints the one-time link). */
  constructor(private readonly links: SignInLinks | undefined) {}

  @Query(() => Viewer, { description: 'Who the token names, its role, and what it may do: DEVELOPER, OPERATOR and ADMIN tokens (UNAUTHENTICATED without a token).' })
  viewer(@Ctx() ctx: GraphQLContext): Viewer {
    // People's tokens: an instance has nothing to ask (and a registration token may only register).
    const principal = authorize(ctx.principal, 'profile:read');
    return {
      sub: principal.sub,
      role: principal.role,
      expiresAt: ctx.tokenExpiresAtMs ? new Date(ctx.tokenExpiresAtMs) : null,
      actions: allowedActions(principal),
      deployEnvironments: deployEnvironments(principal),
    };
  }

  @Mutation(() => String, {
    description: "Trades the code of an embedded server's one-time sign-in link (printed at start-up) for an ADMIN token; each code works once.",
  })
  redeemSignInLink(@Arg('code', () => String) code: string): Promise<string> {
    if (!this.links) throw new UnauthenticatedError('this server prints no sign-in links (only the embedded default does); sign in with a token');
    return this.links.redeem(code);
  }
}
