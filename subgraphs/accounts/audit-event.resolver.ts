import { GraphQLJSON } from 'graphql-scalars';
import { Arg, Authorized, Ctx, Field, ID, InputType, Int, ObjectType, Query, registerEnumType, Resolver } from 'type-graphql';
import { AuditKind } from '../../platform/audit/audit-event.entity.js';
import { AUDIT_ORDERING, AuditLog, type AuditFilter, type AuditRow } from '../../platform/audit/audit-log.js';
import { badInput } from '../../platform/errors.js';
import { AFTER_ARG, connectionType, FIRST_ARG, readPage, toConnection, type Connection } from '../../platform/pagination.js';
import { requireEveryInstance } from '../../platform/scope.js';
import type { AccountsContext } from './context.js';

registerEnumType(AuditKind, {
  name: 'AuditKind',
  description: 'What an audit event records.',
  valuesConfig: {
    MUTATION: { description: 'A mutation a caller asked for, whatever its result.' },
    AUTHENTICATION: { description: 'Refused authentications from one address (counted per minute: see `occurrences`).' },
  },
});

@ObjectType('AuditEvent', { description: "An entry of Tenantwatch's own audit log: who did what, from where, when, with what result." })
export class AuditEventNode {
  @Field(() => ID, { description: 'The entry; ids grow with every entry appended.' })
  id!: string;

  @Field({ description: 'When it happened.' })
  at!: Date;

  @Field(() => AuditKind, { description: 'A mutation, or refused authentications.' })
  kind!: AuditKind;

  @Field({ description: 'The mutation field (e.g. "connectApp"), or "authenticate" for refused authentications.' })
  action!: string;

  @Field({ description: 'The process that recorded it: a subgraph ("accounts", "activities", ...) or "gateway".' })
  service!: string;

  @Field(() => String, { nullable: true, description: "The token's subject; null when no token was accepted." })
  subject!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "The token's role (viewer, analyst, responder, admin); null when no token was accepted.",
  })
  role!: string | null;

  @Field(() => [ID], {
    nullable: true,
    description: 'The app instances the token was limited to (its "instances" claim); null: every instance.',
  })
  instances!: string[] | null;

  @Field(() => String, { nullable: true, description: 'The operation name the client sent, if any.' })
  operationName!: string | null;

  @Field(() => GraphQLJSON, {
    description:
      'The arguments as given, every secret (credentials, tokens, keys, webhook URLs’ paths) replaced by "[REDACTED]"; for refusals, the channel and reason.',
  })
  input!: Record<string, unknown>;

  @Field({ description: '"OK", or the error code the caller got (FORBIDDEN, BAD_USER_INPUT, UNAUTHENTICATED...).' })
  result!: string;

  @Field(() => String, {
    nullable: true,
    description:
      "The client's address, as the gateway saw it (with GATEWAY_SHARED_SECRET; otherwise the address the subgraph was called from).",
  })
  clientAddress!: string | null;

  @Field(() => String, { nullable: true, description: "The request's id, when it carried one." })
  requestId!: string | null;

  @Field(() => Int, { description: 'How many times it happened: 1 for a mutation; refusals from one address are counted per minute.' })
  occurrences!: number;
}

@ObjectType({ description: 'A page of audit events, newest first, with where it starts and ends and how many match in all.' })
export class AuditEventConnection extends connectionType(AuditEventNode, 'AuditEvent', 'audit events') {}

@InputType({ description: 'Which audit events; every field given narrows.' })
export class AuditEventFilterInput {
  @Field(() => String, { nullable: true, description: "Only this token subject's." })
  subject?: string | null;

  @Field(() => String, { nullable: true, description: 'Only this action: a mutation field\'s name, or "authenticate".' })
  action?: string | null;

  @Field(() => String, { nullable: true, description: 'Only this result: "OK" or an error code.' })
  result?: string | null;

  @Field(() => AuditKind, { nullable: true, description: 'Only mutations, or only refused authentications.' })
  kind?: AuditKind | null;

  @Field(() => Date, { nullable: true, description: 'At or after this time.' })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Before this time.' })
  to?: Date | null;
}

const MAX_TEXT = 200;

/** Checks the filter; throws BAD_USER_INPUT naming the field. */
export function readAuditFilter(filter: AuditEventFilterInput | null | undefined): AuditFilter {
  if (!filter) return {};
  for (const key of ['subject', 'action', 'result'] as const) {
    const value = filter[key];
    if (value !== null && value !== undefined && (value.length === 0 || value.length > MAX_TEXT))
      throw badInput(`filter.${key}`, `must be 1 to ${MAX_TEXT} characters`);
  }
  if (filter.from && filter.to && filter.from > filter.to) throw badInput('filter.to', 'must not be before filter.from');
  return filter;
}

@Resolver(() => AuditEventNode)
export class AuditEventResolver {
  @Authorized('admin')
  @Query(() => AuditEventConnection, {
    description:
      "Tenantwatch's own audit log, newest first: every mutation (who, what, input with secrets redacted, result, from where) and refused authentications. Admin only, and only with a token for every instance.",
  })
  async auditEvents(
    @Ctx() ctx: AccountsContext,
    @Arg('filter', () => AuditEventFilterInput, { nullable: true, description: 'Which events; absent: all of them.' })
    filter?: AuditEventFilterInput | null,
    @Arg('first', () => Int, FIRST_ARG) first?: number | null,
    @Arg('after', () => String, AFTER_ARG) after?: string | null,
  ): Promise<Connection<AuditEventNode>> {
    requireEveryInstance(ctx, 'The audit log');
    const parsed = readAuditFilter(filter);
    const page = readPage({ first, after }, AUDIT_ORDERING);
    const log = new AuditLog(ctx.em.getKnex());
    const rows = await log.page(parsed, page);
    return toConnection(
      rows,
      page,
      (row: AuditRow) => [Number(row.id)],
      (row) => ({ ...row, instances: row.instances ? [...row.instances] : null }),
      () => log.count(parsed),
    );
  }
}
