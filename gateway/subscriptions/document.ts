import {
  GraphQLError,
  Kind,
  valueFromASTUntyped,
  visit,
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { parseEventCursor } from '../../platform/event-cursor.js';
import { variableErrors } from '../../platform/subscriptions.js';

/** The variable the gateway owns on every subscription root field: where the upstream resumes. */
export const AFTER_VARIABLE = '__tw_after';
/** The alias under which the gateway always selects the event's cursor. */
export const CURSOR_ALIAS = '__tw_cursor';

/** A client's subscription, rewritten so that the gateway can always resume it. */
export interface ResumableSubscription {
  readonly document: DocumentNode;
  /** The response key of the subscription's root field (its alias, or its name). */
  readonly rootKey: string;
  /** The `after` the client asked for (a literal or its variable's value), if any. */
  readonly initialAfter: string | null;
}

/**
 * Rewrites the (validated) subscription operation: its root field's `after` argument becomes the
 * gateway's own variable `$__tw_after`, and `__tw_cursor: cursor` is selected, so that when an
 * upstream subscription is lost it can be opened again from the last event delivered.
 */
export function makeResumable(
  document: DocumentNode,
  operationName: string | undefined | null,
  variables: Record<string, unknown>,
): ResumableSubscription {
  const { operation, root } = rootOf(document, operationName);
  if (!operation || !root) throw new Error('No subscription field to run');
  const after = afterOf(operation, root, variables);
  const initialAfter = typeof after === 'string' ? after : null;
  const rewritten = visit(document, {
    OperationDefinition(node) {
      if (node !== operation) return undefined;
      return {
        ...node,
        variableDefinitions: [
          ...(node.variableDefinitions ?? []),
          {
            kind: Kind.VARIABLE_DEFINITION,
            variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: AFTER_VARIABLE } },
            type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: 'String' } },
          },
        ],
      };
    },
    Field(node) {
      if (node !== root) return undefined;
      return {
        ...node,
        arguments: [
          ...(node.arguments ?? []).filter((a) => a.name.value !== 'after'),
          {
            kind: Kind.ARGUMENT,
            name: { kind: Kind.NAME, value: 'after' },
            value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: AFTER_VARIABLE } },
          },
        ],
        selectionSet: {
          kind: Kind.SELECTION_SET,
          selections: [
            { kind: Kind.FIELD, alias: { kind: Kind.NAME, value: CURSOR_ALIAS }, name: { kind: Kind.NAME, value: 'cursor' } },
            ...(node.selectionSet?.selections ?? []),
          ],
        },
      };
    },
  });
  return { document: rewritten, rootKey: root.alias?.value ?? root.name.value, initialAfter };
}

/**
 * What the gateway refuses in a (validated) subscription before opening anything for it: variables
 * that do not fit their declared types, and an `after` that is not an event cursor (the format the
 * owning subgraph reads, shared through platform/event-cursor.ts), each as BAD_USER_INPUT. Empty
 * when the subscription may run.
 */
export function refusalsOf(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined | null,
  variables: Record<string, unknown>,
): GraphQLError[] {
  const refused = variableErrors(schema, document, operationName, variables);
  if (refused.length > 0) return refused;
  const { operation, root } = rootOf(document, operationName);
  if (!operation || !root) return [];
  try {
    parseEventCursor(afterOf(operation, root, variables));
    return [];
  } catch (error) {
    if (error instanceof GraphQLError) return [error];
    throw error;
  }
}

/** The operation to run and its (first) root field. */
function rootOf(document: DocumentNode, operationName: string | undefined | null) {
  const operation = document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName),
  );
  const root = operation?.selectionSet.selections.find((s): s is FieldNode => s.kind === Kind.FIELD);
  return { operation, root };
}

/** The root field's `after` as the subgraph would read it: a literal, or its variable's value, or that variable's default. */
function afterOf(operation: OperationDefinitionNode, root: FieldNode, variables: Record<string, unknown>): unknown {
  const node = root.arguments?.find((a) => a.name.value === 'after')?.value;
  if (!node) return null;
  if (node.kind !== Kind.VARIABLE) return valueFromASTUntyped(node);
  const name = node.name.value;
  if (Object.hasOwn(variables, name)) return variables[name];
  const declared = operation.variableDefinitions?.find((d) => d.variable.name.value === name)?.defaultValue;
  return declared ? valueFromASTUntyped(declared) : null;
}
