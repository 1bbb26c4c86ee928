import { type Static, Type } from '@sinclair/typebox';

export const VISIT_MINUTES = { min: 5, max: 720 } as const;

export const VisitStart = Type.Object(
  {
    place: Type.String({ minLength: 1, maxLength: 200, description: 'where the visit is, in words a colleague would find it by' }),
    expectedMinutes: Type.Integer({ minimum: VISIT_MINUTES.min, maximum: VISIT_MINUTES.max, description: 'how long the visit should take' }),
    teamId: Type.String({ format: 'uuid', description: 'the team told if the worker does not check out' }),
  },
  { additionalProperties: false },
);
export type VisitStart = Static<typeof VisitStart>;

export type VisitStatus = 'on_visit' | 'overdue' | 'alarm' | 'checked_out';

export interface VisitView {
  id: string;
  userId: string;
  teamId: string;
  teamName: string | null;
  place: string;
  expectedMinutes: number;
  startedAt: Date;
  dueAt: Date;
  /** the alarm is raised if the worker has not checked out by then */
  deadlineAt: Date;
  checkedOutAt: Date | null;
  alarmId: string | null;
  status: VisitStatus;
}

export const VisitParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
