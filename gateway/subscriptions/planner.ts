import { Supergraph, operationFromDocument, type Schema } from '@apollo/federation-internals';
import { buildOperationContext } from '@apollo/gateway';
import { QueryPlanner, type FetchNode, type PlanNode, type QueryPlan } from '@apollo/query-planner';
import type { DocumentNode, GraphQLSchema } from 'graphql';

type OperationContext = ReturnType<typeof buildOperationContext>;

/** A subscription planned the way @apollo/gateway plans it: the owning subgraph's fetch, then the rest. */
export interface PlannedSubscription {
  readonly operationContext: OperationContext;
  /** The fetch that opens the subscription on the owning subgraph. */
  readonly primary: FetchNode;
  /** Entity fetches that complete each event with other subgraphs' fields. */
  readonly rest?: PlanNode;
  /** `primary` then `rest` as a plan @apollo/gateway's executeQueryPlan runs per event. */
  readonly perEvent: QueryPlan;
}

/**
 * The gateway's query planner, reused for subscriptions: @apollo/gateway plans them (a
 * SubscriptionNode) but refuses to execute them; the executor runs the plan per event instead.
 */
export class SubscriptionPlanner {
  readonly supergraphSchema: GraphQLSchema;
  readonly apiSchema: Schema;
  readonly schema: GraphQLSchema;
  private readonly planner: QueryPlanner;

  constructor(supergraphSdl: string) {
    const supergraph = Supergraph.build(supergraphSdl);
    this.supergraphSchema = supergraph.schema.toGraphQLJSSchema();
    this.apiSchema = supergraph.apiSchema();
    this.schema = this.apiSchema.toGraphQLJSSchema();
    this.planner = new QueryPlanner(supergraph);
  }

  plan(document: DocumentNode, operationName: string | undefined): PlannedSubscription {
    const operationContext = buildOperationContext({ schema: this.schema, operationDocument: document, operationName });
    const plan = this.planner.buildQueryPlan(operationFromDocument(this.apiSchema, document, { operationName }));
    if (plan.node?.kind !== 'Subscription') throw new Error('The operation is not a subscription');
    const { primary, rest } = plan.node;
    return {
      operationContext,
      primary,
      rest,
      perEvent: { kind: 'QueryPlan', node: rest ? { kind: 'Sequence', nodes: [primary, rest] } : primary },
    };
  }
}
