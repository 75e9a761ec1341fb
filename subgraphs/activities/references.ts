import { Directive, Field, ID, ObjectType } from 'type-graphql';

/** Account as the activities subgraph sees it: it contributes `Account.activities`. */
@ObjectType('Account')
@Directive('@key(fields: "id")')
export class Actor {
  @Field(() => ID)
  id!: string;
}

/** A file, owned by the files subgraph. */
@ObjectType('File')
@Directive('@key(fields: "id", resolvable: false)')
export class FileRef {
  @Field(() => ID)
  id!: string;
}

/** An OAuth grant, owned by the app-permissions subgraph. */
@ObjectType('AppPermission')
@Directive('@key(fields: "id", resolvable: false)')
export class AppPermissionRef {
  @Field(() => ID)
  id!: string;
}
