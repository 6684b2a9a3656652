import { GraphQLDateTime, GraphQLJSON } from 'graphql-scalars';

/** `scalar JSON`: any JSON value. */
export const JSONScalar = GraphQLJSON;
/** `scalar DateTime`: ISO-8601. */
export const DateTimeScalar = GraphQLDateTime;
