import { Migration } from '@mikro-orm/migrations';

/** Detections by instance: a deleted instance's detections are purged in batches by it (and lists filter by it). */
export class Migration20261209000300 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create index "detection_instance_id_detected_at_id_index" on "activities"."detection" ("instance_id", "detected_at", "id")`,
    );
  }
}
