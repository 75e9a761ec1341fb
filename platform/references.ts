import { Directive, Field, ID, ObjectType } from 'type-graphql';

/** `AppInstance.id`, described alike by the subgraph that owns instances and by those that refer to them. */
export const INSTANCE_ID = "The app instance's Tenantwatch id (a UUID).";
/** `GovernanceAction.id`, described alike by the activities subgraph and by those that answer governance mutations. */
export const GOVERNANCE_ACTION_ID = "The action's Tenantwatch id (a UUID).";

/**
 * Entity stubs: how a subgraph names an entity another subgraph owns. A stub that only appears as a
 * field's type is `resolvable: false`; a subgraph that adds fields to the entity (Account.files)
 * declares its own resolvable stub with those fields instead.
 */
@ObjectType('AppInstance')
@Directive('@key(fields: "id", resolvable: false)')
export class AppInstanceRef {
  @Field(() => ID, { description: INSTANCE_ID })
  id!: string;
}

/** Builds the `{ id }` representation the gateway resolves in the owning subgraph. */
export function ref(id: string): { id: string };
export function ref(id: string | null | undefined): { id: string } | null;
export function ref(id: string | null | undefined): { id: string } | null {
  return id ? { id } : null;
}

/** The governance log's entry, owned by the activities subgraph: governance mutations answer it. */
@ObjectType('GovernanceAction')
@Directive('@key(fields: "id", resolvable: false)')
export class GovernanceActionRef {
  @Field(() => ID, { description: GOVERNANCE_ACTION_ID })
  id!: string;
}
