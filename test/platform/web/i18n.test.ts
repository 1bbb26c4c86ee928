/**
 * Welsh for residents' pages: every catalogue has its Welsh (the check fails on one that does
 * not), texts and their {placeholders}, the choice of language (query, cookie only where a page
 * allows it, stored, Accept-Language), dates and money, and `t` and the switch in the views.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import cookie from '@fastify/cookie';
import Fastify from 'fastify';
import '../../../src/app.js';
import {
  allMessages,
  chooseLanguage,
  formatDate,
  formatMoney,
  fromAcceptLanguage,
  LANGUAGE_COOKIE,
  languageSwitch,
  type Messages,
  missingTranslations,
  translate,
} from '../../../src/platform/web/i18n.js';
import { createViewEngine } from '../../../src/platform/web/web.js';

describe('catalogues', () => {
  test('every English text of every module has its Welsh, with the same placeholders', () => {
    assert.ok(allMessages().has('platform'));
    assert.ok(allMessages().has('messaging.payLink'));
    assert.deepEqual(missingTranslations(), []);
  });

  test('the check finds Welsh that is missing, empty, left over or has other placeholders', () => {
    const broken = new Map<string, Messages>([
      [
        'example',
        {
          en: { fine: 'Hello {name}', missing: 'Goodbye', empty: 'Thanks', placeholders: 'Pay {amount} by {date}' },
          cy: { fine: 'Helo {name}', empty: ' ', placeholders: 'Talwch {amount} erbyn {dyddiad}', extra: 'Ychwanegol' },
        },
      ],
    ]);
    assert.deepEqual(missingTranslations(broken), [
      'example.missing has no Welsh',
      'example.empty has no Welsh',
      'example.placeholders: the Welsh has {amount,dyddiad}, the English {amount,date}',
      'example.extra is Welsh with no English',
    ]);
  });

  test('texts are filled in; an unknown key or a missing value is a mistake that throws', () => {
    assert.equal(translate('cy', 'messaging.payLink.processingBody', { amount: '£70.00', description: 'Tâl parcio' }), 'Mae eich taliad o £70.00 am Tâl parcio yn cael ei brosesu.');
    assert.equal(translate('en', 'messaging.payLink.paidTitle'), 'Payment received');
    assert.equal(translate('fr', 'messaging.payLink.paidTitle'), 'Payment received', 'a language not offered gets English');
    assert.equal(translate(undefined, 'platform.skipLink'), 'Skip to main content');
    assert.throws(() => translate('en', 'messaging.payLink.noSuchText'), /There is no message messaging\.payLink\.noSuchText/);
    assert.throws(() => translate('en', 'nowhere.at.all'), /There is no message/);
    assert.throws(() => translate('cy', 'messaging.payLink.processingBody', { amount: '£1.00' }), /needs \{description\}/);
  });
});

describe('choosing the language', () => {
  const app = Fastify();
  after(() => app.close());
  // A short-link-like page that may set no cookie, and a portal-like page that may.
  app.register(cookie);
  app.get<{ Params: { stored: string } }>('/quiet/:stored', async (request, reply) => ({ lang: chooseLanguage(request, reply, { stored: request.params.stored }) }));
  app.get<{ Params: { stored: string } }>('/remembers/:stored', async (request, reply) => ({
    lang: chooseLanguage(request, reply, { stored: request.params.stored, cookie: { secure: true } }),
  }));
  const ask = async (url: string, headers: Record<string, string> = {}) => {
    const res = await app.inject({ url, headers });
    return { lang: res.json().lang as string, cookie: res.headers['set-cookie'] as string | undefined };
  };

  test('?lang= first, then the stored language, then Accept-Language; a page that may not sets no cookie and reads none', async () => {
    assert.deepEqual(await ask('/quiet/en?lang=cy'), { lang: 'cy', cookie: undefined });
    assert.deepEqual(await ask('/quiet/cy?lang=en'), { lang: 'en', cookie: undefined });
    assert.deepEqual(await ask('/quiet/cy'), { lang: 'cy', cookie: undefined });
    assert.deepEqual(await ask('/quiet/cy?lang=fr'), { lang: 'cy', cookie: undefined }, 'a language not offered is ignored');
    assert.deepEqual(await ask('/quiet/none', { 'accept-language': 'cy-GB,cy;q=0.9,en;q=0.8' }), { lang: 'cy', cookie: undefined });
    assert.deepEqual(await ask('/quiet/none'), { lang: 'en', cookie: undefined });
    assert.deepEqual(await ask('/quiet/en', { cookie: `${LANGUAGE_COOKIE}=cy` }), { lang: 'en', cookie: undefined });
  });

  test('a page that may remembers ?lang= in the weft_lang cookie, which then comes before the stored language', async () => {
    const chosen = await ask('/remembers/en?lang=cy');
    assert.equal(chosen.lang, 'cy');
    assert.match(String(chosen.cookie), new RegExp(`^${LANGUAGE_COOKIE}=cy; Max-Age=31536000; Path=/; HttpOnly; Secure; SameSite=Lax$`));
    assert.deepEqual(await ask('/remembers/en', { cookie: `${LANGUAGE_COOKIE}=cy` }), { lang: 'cy', cookie: undefined });
    assert.deepEqual(await ask('/remembers/en?lang=cy', { cookie: `${LANGUAGE_COOKIE}=cy` }), { lang: 'cy', cookie: undefined }, 'set only when it changes');
    const back = await ask('/remembers/cy?lang=en', { cookie: `${LANGUAGE_COOKIE}=cy` });
    assert.equal(back.lang, 'en');
    assert.match(String(back.cookie), new RegExp(`^${LANGUAGE_COOKIE}=en;`));
    assert.deepEqual(await ask('/remembers/cy', { cookie: `${LANGUAGE_COOKIE}=de` }), { lang: 'cy', cookie: undefined }, 'a cookie naming another language is ignored');
  });

  test('Accept-Language: the preferred of English and Welsh by q, English when neither is named', () => {
    assert.equal(fromAcceptLanguage('cy'), 'cy');
    assert.equal(fromAcceptLanguage('en-GB,en;q=0.9,cy;q=0.8'), 'en');
    assert.equal(fromAcceptLanguage('fr-FR, cy;q=0.5, en;q=0.4'), 'cy');
    assert.equal(fromAcceptLanguage('fr-FR,de'), 'en');
    assert.equal(fromAcceptLanguage('CY-gb'), 'cy');
    assert.equal(fromAcceptLanguage('cy;q=0, en;q=0.1'), 'en');
    assert.equal(fromAcceptLanguage(''), 'en');
    assert.equal(fromAcceptLanguage(undefined), 'en');
  });
});

describe('on the page', () => {
  test('dates in London with Welsh or English month names; money as £0.00 in both', () => {
    const welsh = ['Ionawr', 'Chwefror', 'Mawrth', 'Ebrill', 'Mai', 'Mehefin', 'Gorffennaf', 'Awst', 'Medi', 'Hydref', 'Tachwedd', 'Rhagfyr'];
    for (const [i, month] of welsh.entries()) assert.equal(formatDate('cy', new Date(Date.UTC(2026, i, 15, 12))), `15 ${month} 2026`);
    assert.equal(formatDate('en', new Date('2026-12-05T10:00:00Z')), '5 December 2026');
    // 23:30 UTC on 30 June is 00:30 on 1 July in London (summer time).
    assert.equal(formatDate('cy', new Date('2026-06-30T23:30:00Z')), '1 Gorffennaf 2026');
    assert.equal(formatDate('en', new Date('2026-12-31T23:30:00Z')), '31 December 2026');
    assert.equal(formatMoney('cy', 7000), '£70.00');
    assert.equal(formatMoney('en', 123_456), '£1,234.56');
  });

  test('views call t() in the page’s language (English when it gives none); the switch names each language in itself', () => {
    const views = createViewEngine();
    assert.equal(views.renderString("{{ t('platform.skipLink') }}", { lang: 'cy' }), 'Neidio i’r prif gynnwys');
    assert.equal(views.renderString("{{ t('platform.skipLink') }}", {}), 'Skip to main content');
    assert.equal(views.renderString("{{ t('messaging.payLink.notTakenBody', { description: '<b>', amount: '£1.00' }) }}", { lang: 'cy' }), 'Ni chymerwyd unrhyw arian am &lt;b&gt; (£1.00).');

    const html = views.render('platform/web/views/language-switch.njk', { languageSwitch: languageSwitch('cy', (l) => `/l/abc?lang=${l}`) });
    assert.match(html, /<nav class="govuk-language-navigation[^"]*" aria-label="Iaith">/);
    assert.match(
      html,
      /<a class="govuk-language-navigation__link" href="\/l\/abc\?lang=en" rel="alternate" lang="en" hreflang="en">English<span class="govuk-visually-hidden"> Change the language to English<\/span>/,
    );
    assert.match(html, /<span class="govuk-language-navigation__text"\s+aria-current="true" lang="cy">Cymraeg<\/span>/);
    assert.doesNotMatch(html, /href="[^"]*lang=cy"/, 'the current language is not a link');
    const english = views.render('platform/web/views/language-switch.njk', { languageSwitch: languageSwitch('en', (l) => `/x?lang=${l}`) });
    assert.match(english, /aria-label="Language"/);
    assert.match(english, /href="\/x\?lang=cy" rel="alternate" lang="cy" hreflang="cy">Cymraeg<span class="govuk-visually-hidden"> Newid yr iaith i’r Gymraeg<\/span>/);
    assert.ok(english.indexOf('English') < english.indexOf('Cymraeg'), 'English first, then Cymraeg');
  });
});
