import { Type } from '@sinclair/typebox';

/** RFC 9457 problem details, as every /api/v1 error is answered. */
export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String({ description: 'stable error code; see docs/errors.md' }),
    detail: Type.String(),
    instance: Type.String(),
    requestId: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { description: 'application/problem+json' },
);

/** The error responses any authenticated API route can give. */
export const ProblemResponses = {
  400: Problem,
  401: Problem,
  403: Problem,
  429: Problem,
};
