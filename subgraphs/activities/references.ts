import { Directive, Field, ID, ObjectType } from 'type-graphql';

/** Account as the activities subgraph sees it: it contributes `Account.activities` and `Account.detections`. */
@ObjectType('Account')
@Directive('@key(fields: "id")')
export class Actor {
  @Field(() => ID)
  id!: string;
}

/** A file, owned by the files subgraph: the activities subgraph contributes `File.detections`. */
@ObjectType('File')
@Directive('@key(fields: "id")')
export class FileRef {
  @Field(() => ID)
  id!: string;
}

/** An OAuth grant, owned by the app-permissions subgraph: the activities subgraph contributes `AppPermission.detections`. */
@ObjectType('AppPermission')
@Directive('@key(fields: "id")')
export class AppPermissionRef {
  @Field(() => ID)
  id!: string;
}
