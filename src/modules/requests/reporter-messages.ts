import { type Actor, systemActor } from '../../platform/auth/actor.js';
import type { Logger } from '../../services.js';
import type { MessagingService, ResidentSending } from '../messaging/index.js';
import type { ResidentsService } from '../residents/index.js';
import type { RequestsRepository, RequestsTable, RequestUpdatesTable } from './requests.repository.js';
import { type RequestStatus, STATUS_NAMES } from './requests.schema.js';

/** The messaging service reporters are told through; made on first use, with no API keys. */
export const SERVICE_NAME = 'Service requests';
export const TELL_REPORTER_JOB = 'requests.tell_reporter';

const STATUS_NAMES_CY: Record<RequestStatus, string> = {
  open: 'Ar agor',
  acknowledged: 'Wedi’i gydnabod',
  in_progress: 'Ar y gweill',
  fixed: 'Wedi’i drwsio',
  closed: 'Wedi’i gau',
  not_ours: 'Nid cyfrifoldeb y cyngor',
  duplicate: 'Wedi’i adrodd eisoes',
};

type Template = Parameters<MessagingService['createTemplate']>[2];

/** ((reference)), ((category)), ((status)) and ((message)) come in the reporter's language. */
const TEMPLATES: Record<'email' | 'sms', Template> = {
  email: {
    name: 'Update on a report',
    type: 'email',
    subject: 'Update on your report ((reference))',
    body: 'Your report ((reference)) about ((category)) has been updated.\n\nStatus: ((status))\n\n((message))\n\nQuote ((reference)) if you contact us about it.',
    subjectCy: 'Diweddariad ar eich adroddiad ((reference))',
    bodyCy: 'Mae eich adroddiad ((reference)) am ((category)) wedi’i ddiweddaru.\n\nStatws: ((status))\n\n((message))\n\nDyfynnwch ((reference)) os byddwch yn cysylltu â ni amdano.',
  },
  sms: {
    name: 'Update on a report (text)',
    type: 'sms',
    body: 'Your report ((reference)) about ((category)): ((status)). ((message))',
    bodyCy: 'Eich adroddiad ((reference)) am ((category)): ((status)). ((message))',
  },
};

const NO_MESSAGE = { en: 'We will tell you when there is more news.', cy: 'Byddwn yn rhoi gwybod i chi pan fydd mwy o newyddion.' };

interface Setup {
  serviceId: string;
  serviceName: string;
  templates: Record<'email' | 'sms', string>;
}

/**
 * Tells a request's reporter of a public update on their channel: a resident by their
 * preferences (messaging's ResidentSending, with fallback), anyone else by email. Runs as a
 * durable job queued with the update, so a crash between the two cannot lose the message.
 */
export class ReporterMessages {
  private ready?: Promise<Setup>;

  constructor(
    private readonly repo: RequestsRepository,
    private readonly messaging: MessagingService,
    private readonly residents: ResidentsService,
    private readonly residentSending: ResidentSending,
    private readonly log: Logger,
  ) {}

  async tell(request: RequestsTable, update: RequestUpdatesTable, categoryName: { en: string; cy: string }): Promise<'sent' | 'unreachable' | 'nobody'> {
    const setup = await this.setup();
    const resident = request.reporter_resident_id ? await this.residents.get(request.reporter_resident_id).catch(() => undefined) : undefined;
    const language = resident?.language ?? (request.language === 'cy' ? 'cy' : 'en');
    const status = (update.status ?? request.status) as RequestStatus;
    const personalisation = {
      reference: request.reference,
      category: categoryName[language],
      status: language === 'cy' ? STATUS_NAMES_CY[status] : STATUS_NAMES[status],
      message: update.message.trim() || NO_MESSAGE[language],
    };
    const actor: Actor = { ...systemActor('weft requests'), serviceId: setup.serviceId, keyType: 'normal' };
    try {
      if (resident) {
        await this.residentSending.send(actor, { residentId: resident.id, templates: setup.templates, personalisation, reference: `request-${request.reference}` });
        return 'sent';
      }
      if (!request.reporter_email) return 'nobody';
      const template = await this.messaging.getTemplate(setup.templates.email);
      const rendered = this.messaging.render(template, personalisation, language, { name: setup.serviceName });
      await this.messaging.queue([
        {
          serviceId: setup.serviceId,
          keyId: null,
          keyType: 'normal',
          template,
          recipient: request.reporter_email,
          normalisedTo: request.reporter_email.toLowerCase(),
          personalisation,
          rendered,
          reference: `request-${request.reference}`,
          language,
        },
      ]);
      return 'sent';
    } catch (err) {
      // Unreachable (no contact point on any channel, or opted out): nothing to retry.
      if ((err as { code?: string }).code !== 'NOTIFY_BAD_REQUEST') throw err;
      this.log.info({ request: request.id }, 'requests: the reporter could not be told of an update');
      return 'unreachable';
    }
  }

  /** The service and templates, made once and recorded in request_setup so every process uses the same ones. */
  setup(): Promise<Setup> {
    this.ready ??= this.makeSetup().catch((err) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  private async makeSetup(): Promise<Setup> {
    const actor = systemActor('weft requests');
    let known = await this.repo.setup();
    if (!known.has('service')) {
      const existing = (await this.messaging.listServices()).find((s) => s.name === SERVICE_NAME);
      const service = existing ?? (await this.messaging.createService(actor, { name: SERVICE_NAME, smsSender: 'COUNCIL', rateLimitPerMinute: 3000 }).catch(() => undefined));
      if (service) await this.repo.recordSetup('service', service.id, new Date());
      known = await this.repo.setup();
    }
    const serviceId = known.get('service');
    if (!serviceId) throw new Error('The requests module could not make its messaging service');
    for (const [name, template] of Object.entries(TEMPLATES)) {
      if (known.has(name)) continue;
      const made = await this.messaging.createTemplate(actor, serviceId, template);
      await this.repo.recordSetup(name, made.id, new Date());
    }
    known = await this.repo.setup();
    const service = await this.messaging.getService(serviceId);
    return { serviceId, serviceName: service.name, templates: { email: known.get('email') as string, sms: known.get('sms') as string } };
  }
}
