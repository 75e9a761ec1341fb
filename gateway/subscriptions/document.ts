import { Kind, visit, type DocumentNode, type FieldNode, type OperationDefinitionNode, type ValueNode } from 'graphql';

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
  const operation = document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName),
  );
  const root = operation?.selectionSet.selections.find((s): s is FieldNode => s.kind === Kind.FIELD);
  if (!operation || !root) throw new Error('No subscription field to run');
  const given = root.arguments?.find((a) => a.name.value === 'after')?.value;
  const initialAfter = valueOf(given, variables);
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

function valueOf(node: ValueNode | undefined, variables: Record<string, unknown>): string | null {
  if (!node) return null;
  if (node.kind === Kind.STRING) return node.value;
  if (node.kind === Kind.VARIABLE) {
    const value = variables[node.name.value];
    return typeof value === 'string' ? value : null;
  }
  return null;
}
