import { type Static, Type } from '@sinclair/typebox';

/** How long a link or a code works, how many tries a code gets, and how often one may be asked for. */
export const LIMITS = {
  linkMinutes: 20,
  codeMinutes: 10,
  codeTries: 5,
  /** requests for a link or a code, per email address or mobile number, in an hour */
  perContactPerHour: 5,
  /** requests from one address (IP), in an hour */
  perIpPerHour: 20,
  /** after proving an email or mobile no resident has, how long they have to give their name */
  signUpMinutes: 30,
  sessionIdleHours: 12,
  sessionDays: 7,
  /** sign-in requests are kept this long for the limits, then deleted */
  keepRequestsHours: 24,
} as const;

export const PURPOSES = ['sign-in', 'email-change', 'mobile-change'] as const;
export type Purpose = (typeof PURPOSES)[number];
export type SignInChannel = 'email' | 'sms';

/** An email address or a UK mobile number, normalised (lower case; 447…), and the channel that reaches it. */
export interface ContactPoint {
  channel: SignInChannel;
  normalised: string;
}

/** What confirming a link or a code leads to: a session, or (a contact point no resident has) the sign-up question. */
export type Confirmed = { kind: 'session'; token: string; residentId: string; next: string | null } | { kind: 'sign-up'; signupToken: string; next: string | null };

/**
 * Form fields, each with the catalogue id of the message shown when it is wrong
 * (`errorMessage`, translated by the pages). Rules beyond shape are the service's and the pages'.
 */
const text = (maxLength: number, errorMessage: string, minLength = 0) => Type.String({ minLength, maxLength, errorMessage });

export const SignInForm = Type.Object({
  contact: text(320, 'errorContactMissing', 1),
  next: Type.Optional(Type.String({ maxLength: 2000 })),
});
export type SignInForm = Static<typeof SignInForm>;

export const CodeForm = Type.Object({ code: text(20, 'errorCodeMissing', 1) });

export const NameForm = Type.Object({
  name: text(200, 'errorName', 1),
  language: Type.Union([Type.Literal('en'), Type.Literal('cy')], { errorMessage: 'errorLanguageMissing' }),
});

export const DetailsForm = Type.Object({
  name: text(200, 'errorName', 1),
  landline: text(30, 'errorLandline'),
  address: text(1500, 'errorAddressLines'),
});

export const EmailForm = Type.Object({ email: text(320, 'errorEmailMissing', 1) });
export const MobileForm = Type.Object({ mobile: text(30, 'errorMobileMissing', 1) });

export const HomeForm = Type.Object({
  postcode: text(10, 'errorPostcode'),
  latitude: text(30, 'errorLatitude'),
  longitude: text(30, 'errorLongitude'),
});

export const QuietForm = Type.Object({
  quietFrom: text(10, 'errorQuietFrom'),
  quietTo: text(10, 'errorQuietTo'),
});

export const LanguageForm = Type.Object({
  language: Type.Union([Type.Literal('en'), Type.Literal('cy')], { errorMessage: 'errorLanguageMissing' }),
  back: Type.Optional(Type.String({ maxLength: 100 })),
});

/** Adding a subscription, first: the topic, and where (the area, distance or place is asked next). */
export const SubscriptionForm = Type.Object({
  topic: text(60, 'errorTopicMissing', 1),
  kind: Type.Union([Type.Literal('home'), Type.Literal('area'), Type.Literal('radius'), Type.Literal('site')], { errorMessage: 'errorKindMissing' }),
});
