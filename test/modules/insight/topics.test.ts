/** Which service a text is about (default keywords, or a configuration of one's own) and which places it names. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_TOPICS, PlaceMatcher, placesIn, TopicMatcher, topicsOf } from '../../../src/modules/insight/topics.js';

describe('topics', () => {
  test('the default keywords find the service, on whole words, whatever the case', () => {
    assert.deepEqual(topicsOf('Bin men missed our road AGAIN'), ['bins', 'roads']);
    assert.deepEqual(topicsOf('Got a PCN in the Market Street car park'), ['parking']);
    assert.deepEqual(topicsOf('Rhyme time at the LIBRARY is lovely'), ['libraries']);
    assert.deepEqual(topicsOf('Council tax up 5% again'), ['council-tax']);
    assert.deepEqual(topicsOf('Pollution outside the school gates'), ['schools', 'air-quality']);
    assert.deepEqual(topicsOf('Black mould in the kids’ bedroom, housing officer never rings back'), ['housing']);
    assert.deepEqual(topicsOf('Reported fly-tipping and graffiti by the shops'), ['street-cleaning']);
    assert.deepEqual(topicsOf('Potholes everywhere'), ['roads'], 'a keyword ending in * takes any ending');
    assert.deepEqual(topicsOf('Mum’s care package was cut'), ['care']);
    assert.deepEqual(topicsOf('Dustbins'), [], 'whole words only: "bin*" does not match inside "dustbins"');
    assert.deepEqual(topicsOf('What time is it?'), []);
    assert.ok(Object.keys(DEFAULT_TOPICS).length >= 11);
  });

  test('a configuration of one’s own replaces the defaults; phrases match across spaces or hyphens', () => {
    const m = new TopicMatcher({ markets: ['market stall*', 'farmers market'], events: ['fireworks', 'carnival'] });
    assert.deepEqual(m.topics('Farmers-market was great, and the market stalls too'), ['markets']);
    assert.deepEqual(m.topics('Carnival and FIREWORKS tonight'), ['events']);
    assert.deepEqual(m.topics('The bins were missed'), []);
    const parks = new TopicMatcher({ parks: ['park', '-car park*'] });
    assert.deepEqual(parks.topics('The car parks are full'), [], 'a phrase starting with - does not count');
    assert.deepEqual(parks.topics('The car park by the park'), ['parks']);
    assert.deepEqual(topicsOf('regex (chars) [a+b]?', { odd: ['(chars)', '[a+b]'] }), ['odd'], 'keywords are text, not patterns');
    assert.deepEqual(new TopicMatcher({ empty: [], blank: ['  '] }).topics('anything'), []);
  });

  test('places: the given names the text mentions, case-insensitive, on word boundaries, once each', () => {
    const names = ['Kingswood', 'North Town', 'Wood', "St Mary's", 'Ashley Down'];
    assert.deepEqual(placesIn('Pothole in north town near KINGSWOOD', names), ['Kingswood', 'North Town']);
    assert.deepEqual(placesIn("Bins missed in St Mary’s again, and in St Mary's Road", names), ["St Mary's"]);
    assert.deepEqual(placesIn('Driftwood on the beach', names), [], 'not inside another word');
    assert.deepEqual(placesIn('Ashley-Down library', names), ['Ashley Down']);
    assert.deepEqual(placesIn('Anything', []), []);
    const m = new PlaceMatcher(['Easton', 'easton', '']);
    assert.deepEqual(m.find('EASTON and Easton'), ['Easton'], 'a name listed twice is found once');
  });
});
