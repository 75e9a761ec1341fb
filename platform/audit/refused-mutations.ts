import type { ApolloServerPlugin } from '@apollo/server';
import { getOperationAST, Kind, OperationTypeNode, valueFromASTUntyped, type DocumentNode } from 'graphql';
import type { Principal } from '../auth.js';
import { ErrorCode, formatError } from '../errors.js';
import { logger } from '../logger.js';
import { currentRequest } from '../request-context.js';
import { AuditKind } from './audit-event.entity.js';
import type { AuditEntry, AuditLog } from './audit-log.js';
import { REDACTED } from './redact.js';

/** What the gateway knows of a caller, as this plugin reads it. */
interface CallerContext {
  readonly principal: Principal;
  readonly clientAddress?: string;
}

export interface RefusedMutationsOptions {
  readonly log: AuditLog;
  /** Recorded as the entries' `service`; default `gateway`. */
  readonly service?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_DEPTH = 12;

/**
 * The arguments' shape: keys, numbers, booleans and ids kept, every other string redacted. The
 * gateway does not know which fields of a connector's config are secret (the subgraphs do), and a
 * refused mutation's values were never checked, so none is trusted.
 */
export function shapeOf(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return UUID.test(value) ? value : REDACTED;
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (depth >= MAX_DEPTH) return '[TOO DEEP]';
  if (Array.isArray(value)) return value.slice(0, 200).map((item) => shapeOf(item, depth + 1));
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shapeOf(v, depth + 1)]));
  return REDACTED;
}

/** Each root field of `document`'s mutation with its arguments (literals and variables resolved), or none. */
function mutationFields(document: DocumentNode, operationName: string | undefined, variables: Record<string, unknown>) {
  const operation = getOperationAST(document, operationName);
  if (operation?.operation !== OperationTypeNode.MUTATION) return [];
  return operation.selectionSet.selections
    .filter((selection) => selection.kind === Kind.FIELD)
    .map((field) => ({
      name: field.name.value,
      args: Object.fromEntries((field.arguments ?? []).map((arg) => [arg.name.value, valueFromASTUntyped(arg.value, variables)])),
    }));
}

/**
 * The gateway's part of the audit log: a mutation it refuses before any subgraph runs it (a value
 * its schema rejects, an unknown field, a query limit) is recorded here, one entry per root field
 * with the arguments' shape (see {@link shapeOf}) and the refusal's code. A mutation that reaches
 * execution is recorded by the subgraph that runs it.
 */
export function refusedMutationsPlugin(options: RefusedMutationsOptions): ApolloServerPlugin<CallerContext> {
  const service = options.service ?? 'gateway';
  return {
    requestDidStart: async () => {
      let executed = false;
      return {
        executionDidStart: async () => {
          executed = true;
        },
        didEncounterErrors: async ({ document, request, contextValue, errors }) => {
          if (executed || !document) return;
          const fields = mutationFields(document, request.operationName, request.variables ?? {});
          if (fields.length === 0) return;
          // The code the caller gets (formatError turns some validation failures into BAD_USER_INPUT...).
          const first = errors[0];
          const code = first ? formatError(first.toJSON(), first).extensions?.code : undefined;
          const result = typeof code === 'string' ? code : ErrorCode.INTERNAL_SERVER_ERROR;
          const { principal } = contextValue;
          const at = new Date();
          const entries: AuditEntry[] = fields.map((field) => ({
            at,
            kind: AuditKind.MUTATION,
            action: field.name,
            service,
            subject: principal.subject,
            role: principal.role,
            instances: principal.instances ?? null,
            operationName: request.operationName ?? null,
            input: shapeOf(field.args) as Record<string, unknown>,
            result,
            clientAddress: contextValue.clientAddress ?? null,
            requestId: currentRequest()?.requestId ?? null,
            occurrences: 1,
          }));
          try {
            await options.log.append(entries);
          } catch (error) {
            logger.error({ err: error, actions: entries.map((e) => e.action) }, 'could not append a refused mutation to the audit log');
          }
        },
      };
    },
  };
}
