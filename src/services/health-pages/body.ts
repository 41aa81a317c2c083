import { z } from 'zod';
import type { DatabasePool } from '../db/pool.ts';
import { sql } from '../db/sql.ts';

export const bodyMeasurementRow = z.object({
  provider: z.string(),
  height_meters: z.number().nullable(),
  weight_kilograms: z.number().nullable(),
  max_heart_rate: z.number().nullable(),
  measured_at: z.date(),
});
export type BodyMeasurement = z.infer<typeof bodyMeasurementRow>;

export function createBodyMeasurements(deps: { pool: DatabasePool }) {
  const { pool } = deps;
  return {
    /**
     * Through the member's connection (its key is indexed; the table has none on user_id). The member's current measurement (WHOOP keeps one per member), or null when WHOOP has none
     * (it answered 404, so the sync stored no row) or every value is empty.
     */
    async current(userId: number): Promise<BodyMeasurement | null> {
      const row = await pool.maybeOne(sql.type(bodyMeasurementRow)`
        SELECT b.provider, b.height_meters, b.weight_kilograms, b.max_heart_rate, b.measured_at
        FROM integration_connection c
        JOIN integration_body_measurement b ON b.connection_id = c.id AND b.deleted_at IS NULL
        WHERE c.user_id = ${userId} AND c.provider = 'whoop'
        ORDER BY b.measured_at DESC
        LIMIT 1
      `);
      if (!row) return null;
      const empty =
        row.height_meters === null && row.weight_kilograms === null && row.max_heart_rate === null;
      return empty ? null : row;
    },
  };
}
