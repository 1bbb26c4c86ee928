import { defineMessages } from '../../platform/web/i18n.js';

/**
 * What a resident reads at /l/{code} and /l/{code}/return (views/pay-link.njk), in English and
 * Welsh; the language is the pay link's, or the one its switch asks for.
 */
export const payLinkText = defineMessages('messaging.payLink', {
  en: {
    paidTitle: 'Payment received',
    paidOn: '{description} was paid on {date}.',
    paidNothingElse: 'You do not need to do anything else. Any reminders we were due to send you have been stopped.',
    processingTitle: 'Your payment is being processed',
    processingBody: 'Your payment of {amount} for {description} is being processed.',
    processingWait: 'Do not pay again. Come back to this link in a few minutes to check it has gone through.',
    notTakenTitle: 'Your payment was not taken',
    notTakenBody: 'No money was taken for {description} ({amount}).',
    tryAgain: 'Try again',
    tooManyTitle: 'You have tried to pay too many times',
    tooManyToday: 'You have tried to pay for {description} ({amount}) too many times today. No money was taken for these tries.',
    tooManyTomorrow: 'Try again tomorrow, or contact the council.',
    tooManyNow: 'You have tried to pay for {description} ({amount}) several times in the last minute. No money was taken for these tries.',
    tooManyWait: 'Wait a minute, then try again. If it still does not work, contact the council.',
  },
  cy: {
    paidTitle: 'Taliad wedi’i dderbyn',
    paidOn: 'Talwyd {description} ar {date}.',
    paidNothingElse: 'Does dim angen i chi wneud unrhyw beth arall. Rydym wedi atal unrhyw nodiadau atgoffa yr oeddem i fod i’w hanfon atoch.',
    processingTitle: 'Mae eich taliad yn cael ei brosesu',
    processingBody: 'Mae eich taliad o {amount} am {description} yn cael ei brosesu.',
    processingWait: 'Peidiwch â thalu eto. Dewch yn ôl at y ddolen hon ymhen ychydig funudau i wirio bod y taliad wedi mynd drwodd.',
    notTakenTitle: 'Ni chafodd eich taliad ei gymryd',
    notTakenBody: 'Ni chymerwyd unrhyw arian am {description} ({amount}).',
    tryAgain: 'Rhowch gynnig arall arni',
    tooManyTitle: 'Rydych chi wedi ceisio talu gormod o weithiau',
    tooManyToday: 'Rydych chi wedi ceisio talu am {description} ({amount}) gormod o weithiau heddiw. Ni chymerwyd unrhyw arian am yr ymdrechion hyn.',
    tooManyTomorrow: 'Rhowch gynnig arall arni yfory, neu cysylltwch â’r cyngor.',
    tooManyNow: 'Rydych chi wedi ceisio talu am {description} ({amount}) sawl gwaith yn ystod y funud ddiwethaf. Ni chymerwyd unrhyw arian am yr ymdrechion hyn.',
    tooManyWait: 'Arhoswch funud, yna rhowch gynnig arall arni. Os nad yw’n gweithio o hyd, cysylltwch â’r cyngor.',
  },
});
