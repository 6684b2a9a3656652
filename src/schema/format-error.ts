import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { DomainError, ErrorCode } from '../domain/errors.js';
import { describeForLog } from '../telemetry/log-errors.js';

const OUR_CODES = new Set<string>(Object.values(ErrorCode));
/** Apollo's and graphql-js's refusals of a request, all of which are the caller's input. */
const INPUT_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST', 'BAD_USER_INPUT', 'PERSISTED_QUERY_NOT_SUPPORTED', 'OPERATION_RESOLUTION_FAILURE']);

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  BAD_USER_INPUT: 400,
};

/** A DomainError as a GraphQLError, for places where Apollo expects one (the context function). */
export function toGraphQLError(error: DomainError): GraphQLError {
  return new GraphQLError(error.message, {
    extensions: { code: error.code, ...error.details, http: { status: HTTP_STATUS[error.code] ?? 400 } },
  });
}

/**
 * Maps any error to what a client may see: our code in `extensions.code`, a
 * message a person can act on, and never a stack trace. Used by Apollo's
 * formatError and by graphql-ws's onNext/onError alike.
 */
export function createErrorFormatter(logger: Logger) {
  return function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
    const original = unwrapResolverError(error);
    const base = { message: formatted.message, locations: formatted.locations, path: formatted.path };
    if (original instanceof DomainError) {
      return { ...base, message: original.message, extensions: { code: original.code, ...original.details } };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && OUR_CODES.has(code)) {
      const { http: _http, stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
      return { ...base, extensions };
    }
    const isInputError = (typeof code === 'string' && INPUT_CODES.has(code)) || isGraphQLInputError(original);
    if (isInputError) {
      if (!overflowedTheStack(original)) return { ...base, extensions: { code: ErrorCode.BAD_USER_INPUT } };
      // The request guards refuse what nests too deeply before it is parsed; this is the net behind them.
      logger.debug({ error: describeForLog(original) }, 'an operation overflowed the stack while being parsed or validated');
      return { ...base, message: TOO_COMPLEX, extensions: { code: ErrorCode.BAD_USER_INPUT } };
    }
    logger.error({ error: describeForLog(original), path: formatted.path }, 'unexpected error in a GraphQL operation');
    return { ...base, message: 'internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}

const TOO_COMPLEX = 'the operation could not be processed: it is nested too deeply or too large';

/** True when the error, or what it wraps, is a stack overflow (a RangeError): its message is no answer to give. */
function overflowedTheStack(error: unknown): boolean {
  let cause = error;
  while (cause instanceof GraphQLError && cause.originalError !== undefined) cause = cause.originalError;
  return cause instanceof RangeError;
}

/** graphql-js errors with no cause behind them (argument coercion, validation) are input errors. */
function isGraphQLInputError(error: unknown): boolean {
  return error instanceof GraphQLError && error.originalError === undefined && error.extensions.code === undefined;
}
