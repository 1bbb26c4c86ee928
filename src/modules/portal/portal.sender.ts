import { systemActor } from '../../platform/auth/actor.js';
import type { Logger } from '../../services.js';
import type { MessagingService } from '../messaging/index.js';
import type { ContactPoint, Purpose } from './portal.schema.js';

/**
 * The messaging service the portal sends its links and codes through. Its messages carry
 * sign-in secrets: it is a service of its own so that messaging can keep their bodies from staff
 * (see README.md), and it has no API keys.
 */
export const SIGN_IN_SERVICE_NAME = 'Council sign-in';
/** Every message the portal sends has this reference, so messaging can tell them from others. */
export const SIGN_IN_REFERENCE = 'weft-portal-secret';

type Template = Parameters<MessagingService['createTemplate']>[2];
type Kind = 'sign-in' | 'confirm';

/** The portal's own templates, with their Welsh; ((link)) or ((code)) is the secret. */
const TEMPLATES: Record<`${Kind}-${'email' | 'sms'}`, Template> = {
  'sign-in-email': {
    name: 'Sign-in link',
    type: 'email',
    subject: 'Your link to sign in',
    body: `Use this link to sign in to your council account:\n\n((link))\n\nThe link works once and stops working after 20 minutes.\n\nIf you did not ask to sign in, you do not need to do anything. Someone may have typed your email address by mistake.`,
    subjectCy: 'Eich dolen i fewngofnodi',
    bodyCy: `Defnyddiwch y ddolen hon i fewngofnodi i’ch cyfrif gyda’r cyngor:\n\n((link))\n\nDim ond unwaith y mae’r ddolen yn gweithio, ac mae’n dod i ben ar ôl 20 munud.\n\nOs na wnaethoch chi ofyn i fewngofnodi, does dim angen i chi wneud unrhyw beth. Efallai fod rhywun wedi teipio eich cyfeiriad e-bost drwy gamgymeriad.`,
  },
  'sign-in-sms': {
    name: 'Sign-in code',
    type: 'sms',
    body: `((code)) is your code to sign in to your council account. It stops working after 10 minutes. Do not share it with anyone.`,
    bodyCy: `((code)) yw eich cod i fewngofnodi i’ch cyfrif gyda’r cyngor. Mae’n dod i ben ar ôl 10 munud. Peidiwch â’i rannu gydag unrhyw un.`,
  },
  'confirm-email': {
    name: 'Confirm a new email address',
    type: 'email',
    subject: 'Confirm your new email address',
    body: `Use this link to confirm this is your new email address for your council account:\n\n((link))\n\nThe link works once and stops working after 20 minutes.\n\nIf you did not ask to change your email address, you do not need to do anything.`,
    subjectCy: 'Cadarnhewch eich cyfeiriad e-bost newydd',
    bodyCy: `Defnyddiwch y ddolen hon i gadarnhau mai hwn yw eich cyfeiriad e-bost newydd ar gyfer eich cyfrif gyda’r cyngor:\n\n((link))\n\nDim ond unwaith y mae’r ddolen yn gweithio, ac mae’n dod i ben ar ôl 20 munud.\n\nOs na wnaethoch chi ofyn i newid eich cyfeiriad e-bost, does dim angen i chi wneud unrhyw beth.`,
  },
  'confirm-sms': {
    name: 'Confirm a new mobile number',
    type: 'sms',
    body: `((code)) is your code to confirm this mobile number for your council account. It stops working after 10 minutes. Do not share it with anyone.`,
    bodyCy: `((code)) yw eich cod i gadarnhau’r rhif ffôn symudol hwn ar gyfer eich cyfrif gyda’r cyngor. Mae’n dod i ben ar ôl 10 munud. Peidiwch â’i rannu gydag unrhyw un.`,
  },
};

/**
 * Sends the portal's links and codes through messaging: a service and templates of its own, made
 * once by messaging's ensureService (found by name after that, so staff may reword the templates
 * in the console; a template must keep its ((link)) or ((code))).
 */
export class PortalSender {
  private ready?: Promise<{ serviceId: string; serviceName: string; templates: Record<string, string> }>;

  constructor(
    private readonly messaging: MessagingService,
    private readonly log: Logger,
  ) {}

  /**
   * Queues the message carrying a link or a code, in the language asked for. A number that has
   * replied STOP gets nothing; the person is told what everyone is told (no difference to see).
   */
  async send(purpose: Purpose, to: ContactPoint, language: 'en' | 'cy', secret: { link: string } | { code: string }): Promise<void> {
    const setup = await this.setup();
    const template = await this.messaging.getTemplate(setup.templates[`${purpose === 'sign-in' ? 'sign-in' : 'confirm'}-${to.channel}`]);
    const rendered = this.messaging.renderToStore(template, secret, language, { name: setup.serviceName });
    const value = 'link' in secret ? secret.link : secret.code;
    if (rendered.missing.length || !rendered.body.includes(value))
      throw new Error(`The portal's template ${template.name} no longer has its ((${'link' in secret ? 'link' : 'code'})): put it back in the console`);
    try {
      await this.messaging.queue([
        {
          serviceId: setup.serviceId,
          keyId: null,
          keyType: 'normal',
          template,
          recipient: to.channel === 'sms' ? `+${to.normalised}` : to.normalised,
          normalisedTo: to.normalised,
          personalisation: secret,
          rendered,
          reference: SIGN_IN_REFERENCE,
          language,
        },
      ]);
    } catch (err) {
      if ((err as { code?: string }).code !== 'NOTIFY_BAD_REQUEST') throw err;
      this.log.info({ purpose, channel: to.channel }, 'portal: not sent, the number has opted out');
    }
  }

  /** The service and its templates' ids by the portal's names for them, found or made once a process. */
  setup(): Promise<{ serviceId: string; serviceName: string; templates: Record<string, string> }> {
    this.ready ??= this.messaging.ensureService(systemActor('weft portal'), { name: SIGN_IN_SERVICE_NAME, confidential: true }, Object.values(TEMPLATES)).then(
      ({ service, templates }) => ({
        serviceId: service.id,
        serviceName: service.name,
        templates: Object.fromEntries(Object.entries(TEMPLATES).map(([name, t]) => [name, templates.get(t.name)?.id as string])),
      }),
      (err) => {
        this.ready = undefined;
        throw err;
      },
    );
    return this.ready;
  }
}
