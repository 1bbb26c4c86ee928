import { type Static, Type } from '@sinclair/typebox';

export const ClosureInput = Type.Object(
  {
    siteIds: Type.Array(Type.String({ format: 'uuid' }), { minItems: 1, maxItems: 100, uniqueItems: true, description: 'the schools (estate sites of type school)' }),
    closedOn: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'the day the schools are closed, YYYY-MM-DD (UK)' }),
    reason: Type.String({ minLength: 1, maxLength: 300, description: 'why, in a few words parents understand: “the heating has failed”' }),
    reasonCy: Type.Optional(Type.String({ maxLength: 300, description: 'the reason in Welsh, for residents who chose Welsh; the English is used when it is not given' })),
  },
  { additionalProperties: false },
);
export type ClosureInput = Static<typeof ClosureInput>;

export interface ClosureView {
  id: string;
  closedOn: string;
  reason: string;
  reasonCy: string | null;
  status: 'announcing' | 'announced';
  schools: { siteId: string; name: string; campaignId: string | null; subscribers: number | null }[];
  createdBy: string;
  createdAt: Date;
  announcedAt: Date | null;
  /** every school's messages together: residents, messages made, by status, and those reached on no channel */
  progress: { residents: number; made: number; skipped: number; byStatus: Record<string, number> };
}
