import { type Static, Type } from '@sinclair/typebox';

export const INTEGRATION_KINDS = ['tts', 'chirpstack'] as const;
export type IntegrationKind = (typeof INTEGRATION_KINDS)[number];
export const KIND_NAMES: Record<IntegrationKind, string> = { tts: 'The Things Stack (v3)', chirpstack: 'ChirpStack (v4)' };

export const IntegrationCreate = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, errorMessage: 'Enter a name for the integration, such as the network server or application it serves' }),
    kind: Type.Union(
      INTEGRATION_KINDS.map((k) => Type.Literal(k)),
      { description: 'tts: The Things Stack v3 webhooks; chirpstack: ChirpStack v4 HTTP integration', errorMessage: 'Choose the network server' },
    ),
    defaultProfile: Type.Optional(
      Type.Union([Type.String({ minLength: 1, maxLength: 60 }), Type.Null()], {
        description: 'profile key or id; when set, uplinks from a DevEUI Weft does not know register a new device of this profile instead of being refused',
      }),
    ),
  },
  { additionalProperties: false },
);
export type IntegrationCreate = Static<typeof IntegrationCreate>;

export const Integration = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.String(),
  tokenPrefix: Type.String({ description: 'the start of the token, to recognise it by' }),
  defaultProfileId: Type.Union([Type.String(), Type.Null()]),
  webhookUrl: Type.String({ description: 'where the network server should send its messages' }),
  createdAt: Type.String({ format: 'date-time' }),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export const CreatedIntegration = Type.Composite([
  Integration,
  Type.Object({ token: Type.String({ description: 'the whole token, for the Authorization header (Bearer …); shown this once and never again' }) }),
]);

export const IdParams = Type.Object({ id: Type.String({ maxLength: 40 }) }, { additionalProperties: false });

/** Network servers send more fields than Weft reads, and add new ones: bodies are checked by the service, not refused for extra fields. */
export const WebhookBody = Type.Object({}, { additionalProperties: true, description: 'The network server’s JSON message, as it sends it' });

export const ChirpstackQuery = Type.Object(
  { event: Type.Optional(Type.String({ maxLength: 40, description: 'the event type ChirpStack adds to the URL: up, join, status, ack, txack, log, location, integration' })) },
  { additionalProperties: true },
);

export const UplinkResult = Type.Object({
  deviceId: Type.String(),
  accepted: Type.Integer(),
  duplicates: Type.Integer(),
  quarantined: Type.Integer({ description: 'readings kept aside because they are outside the profile’s range or not one of its metrics' }),
});
