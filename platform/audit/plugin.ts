import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { ErrorCode } from '../errors.js';
import type { SubgraphContext } from '../context.js';
import { logger } from '../logger.js';
import { currentRequest } from '../request-context.js';
import { AUDIT_OK, AuditKind } from './audit-event.entity.js';
import type { AuditEntry, AuditLog } from './audit-log.js';
import { redact } from './redact.js';

export interface AuditPluginOptions {
  /** The subgraph's name, recorded as the entry's `service`. */
  readonly service: string;
  readonly log: AuditLog;
  /** Which argument keys hold secrets (see secretKeyMatcher). */
  readonly isSecret: (key: string) => boolean;
}

/** The code an error thrown by a resolver reaches the client with (INTERNAL_SERVER_ERROR when it has none). */
export function errorCodeOf(error: Error): string {
  const code = error instanceof GraphQLError ? error.extensions.code : undefined;
  if (typeof code === 'string') return code;
  const original = (error as { originalError?: unknown }).originalError;
  return original instanceof Error && original !== error ? errorCodeOf(original) : ErrorCode.INTERNAL_SERVER_ERROR;
}

/**
 * Records every root field of every mutation this subgraph executes in the audit log: the caller
 * (subject, role, instance scope, client address, request id), the field and its arguments with
 * secrets redacted, and its result (`OK` or the error's code). The entries are appended before the
 * response is sent, so a mutation the client saw answered is in the log; an append that fails is
 * logged at error level and does not change the answer (the mutation is done by then).
 */
export function auditPlugin(options: AuditPluginOptions): ApolloServerPlugin<SubgraphContext> {
  return {
    requestDidStart: async () => {
      const entries: AuditEntry[] = [];
      return {
        executionDidStart: async ({ operation, request }) => {
          if (operation.operation !== 'mutation') return;
          return {
            willResolveField: ({ info, args, contextValue }) => {
              if (info.path.prev !== undefined || info.parentType !== info.schema.getMutationType()) return;
              const at = new Date();
              const { principal } = contextValue;
              return (error) => {
                entries.push({
                  at,
                  kind: AuditKind.MUTATION,
                  action: info.fieldName,
                  service: options.service,
                  subject: principal.subject,
                  role: principal.role,
                  instances: principal.instances ?? null,
                  operationName: request.operationName ?? null,
                  input: redact(args, options.isSecret) as Record<string, unknown>,
                  result: error ? errorCodeOf(error) : AUDIT_OK,
                  clientAddress: contextValue.clientAddress ?? null,
                  requestId: contextValue.requestId ?? currentRequest()?.requestId ?? null,
                  occurrences: 1,
                });
              };
            },
          };
        },
        willSendResponse: async () => {
          if (entries.length === 0) return;
          try {
            await options.log.append(entries);
          } catch (error) {
            logger.error(
              { err: error, service: options.service, actions: entries.map((e) => e.action) },
              'could not append to the audit log',
            );
          }
        },
      };
    },
  };
}
