import { createSqlTag } from 'slonik';
import { z } from 'zod';

// The project's one sql tag: `sql.typeAlias('void')` marks statements that return no rows.
export const sql = createSqlTag({
  typeAliases: {
    void: z.object({}).strict(),
  },
});
