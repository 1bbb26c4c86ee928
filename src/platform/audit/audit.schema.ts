import { type Static, Type } from '@sinclair/typebox';

export const AuditSearchQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ maxLength: 200, description: 'text to find in the summary, the actor or the action' })),
    action: Type.Optional(Type.String({ maxLength: 100 })),
    actorId: Type.Optional(Type.String({ maxLength: 100 })),
    targetType: Type.Optional(Type.String({ maxLength: 100 })),
    targetId: Type.Optional(Type.String({ maxLength: 200 })),
    outcome: Type.Optional(Type.Union([Type.Literal('ok'), Type.Literal('denied'), Type.Literal('failed')])),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'ISO 8601 instant, inclusive' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'ISO 8601 instant, exclusive' })),
    before: Type.Optional(Type.String({ maxLength: 40, description: 'the id of the last event of the previous page' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  },
  { additionalProperties: false },
);
export type AuditSearchQuery = Static<typeof AuditSearchQuery>;

export const AuditEventSchema = Type.Object({
  id: Type.String(),
  occurredAt: Type.String({ format: 'date-time' }),
  actorType: Type.String(),
  actorId: Type.Union([Type.String(), Type.Null()]),
  actorLabel: Type.String(),
  action: Type.String(),
  targetType: Type.Union([Type.String(), Type.Null()]),
  targetId: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.String(),
  ip: Type.Union([Type.String(), Type.Null()]),
  requestId: Type.Union([Type.String(), Type.Null()]),
  summary: Type.String(),
  changes: Type.Unknown(),
});

export const AuditPage = Type.Object({
  items: Type.Array(AuditEventSchema),
  next: Type.Union([Type.String(), Type.Null()], { description: 'pass as `before` for the next page' }),
});
