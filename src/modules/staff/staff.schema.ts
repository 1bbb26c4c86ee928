import { type Static, Type } from '@sinclair/typebox';
import { STAFF_ROLES } from '../../platform/auth/roles.js';

export const Role = Type.Union(STAFF_ROLES.map((r) => Type.Literal(r)));
export const KeyType = Type.Union([Type.Literal('live'), Type.Literal('team'), Type.Literal('test')], {
  description: 'live: works normally; team: messages go only to the team’s own contacts; test: nothing leaves Weft',
});

export const Email = Type.String({ format: 'email', maxLength: 254, errorMessage: 'Enter an email address in the correct format, like name@example.gov.uk' });

export const UserCreate = Type.Object(
  {
    email: Email,
    name: Type.String({ minLength: 1, maxLength: 200, errorMessage: 'Enter the person’s full name' }),
    roles: Type.Array(Role, { minItems: 1, uniqueItems: true, errorMessage: 'Choose at least one role' }),
    password: Type.String({ minLength: 12, maxLength: 200, errorMessage: 'Enter a password of at least 12 characters' }),
  },
  { additionalProperties: false },
);
export type UserCreate = Static<typeof UserCreate>;

export const UserUpdate = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    roles: Type.Optional(Type.Array(Role, { minItems: 1, uniqueItems: true })),
    isActive: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UserUpdate = Static<typeof UserUpdate>;

export const User = Type.Object({
  id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  roles: Type.Array(Type.String()),
  isActive: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  lastSignInAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export const KeyCreate = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, errorMessage: 'Enter a name for the key, such as the system that will use it' }),
    type: KeyType,
    scopes: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, uniqueItems: true, errorMessage: 'Choose at least one permission' }),
    expiresAt: Type.Optional(Type.String({ format: 'date-time', description: 'when the key stops working; at most 2 years ahead' })),
  },
  { additionalProperties: false },
);
export type KeyCreate = Static<typeof KeyCreate>;

export const ApiKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  type: Type.String(),
  prefix: Type.String({ description: 'the public part of the key, to recognise it by' }),
  scopes: Type.Array(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export const CreatedKey = Type.Composite([ApiKey, Type.Object({ key: Type.String({ description: 'the whole key; shown this once and never again' }) })]);

export const IdParams = Type.Object({ id: Type.String({ maxLength: 40 }) }, { additionalProperties: false });
