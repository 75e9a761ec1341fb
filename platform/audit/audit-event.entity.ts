import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/postgresql';

/** What an audit event records: a mutation that was asked for, or a refused authentication. */
export enum AuditKind {
  MUTATION = 'MUTATION',
  AUTHENTICATION = 'AUTHENTICATION',
}

/** The `result` of a mutation that succeeded; otherwise the error's code (FORBIDDEN, BAD_USER_INPUT...). */
export const AUDIT_OK = 'OK';

/**
 * One entry of Tenantwatch's own audit log: who (the token's subject, role and instance scope) did
 * what (the mutation field and its input, secrets redacted) from where, when, and with what result.
 * Append-only: a trigger refuses UPDATE, and DELETE of entries younger than a day; retention pruning
 * is the only deleter.
 */
@Entity({ tableName: 'audit_event' })
@Index({ properties: ['at'] })
@Index({ properties: ['subject', 'id'] })
@Index({ properties: ['action', 'id'] })
export class AuditEvent {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @Property({ type: 'timestamptz' })
  at!: Date;

  @Property({ type: 'text' })
  kind!: AuditKind;

  /** The mutation field (`connectApp`), or `authenticate` for a refused authentication. */
  @Property({ type: 'text' })
  action!: string;

  /** The process that recorded it: a subgraph's name, or `gateway`. */
  @Property({ type: 'text' })
  service!: string;

  /** The token's subject; null when no token was accepted. */
  @Property({ type: 'text', nullable: true })
  subject!: string | null;

  @Property({ type: 'text', nullable: true })
  role!: string | null;

  /** The token's `instances` claim; null: every instance. */
  @Property({ type: 'jsonb', nullable: true })
  instances!: string[] | null;

  /** The client's operation name, when it sent one. */
  @Property({ type: 'text', nullable: true })
  operationName!: string | null;

  /** The field's arguments with every secret replaced by "[REDACTED]". */
  @Property({ type: 'jsonb' })
  input!: Record<string, unknown>;

  /** `OK`, or the error's code. */
  @Property({ type: 'text' })
  result!: string;

  @Property({ type: 'text', nullable: true })
  clientAddress!: string | null;

  @Property({ type: 'text', nullable: true })
  requestId!: string | null;

  /** How many refusals this entry stands for (refused authentications are counted per address and minute). */
  @Property({ type: 'integer' })
  occurrences!: number;
}
