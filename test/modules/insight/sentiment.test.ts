/**
 * The sentiment scorer, one hard case at a time: negation, boosters and downtoners, capitals,
 * "!" and "?!", emoji and emoticons, contrast, British slang, council phrases, the sarcasm it
 * handles, and plain facts and questions that must stay neutral. No database.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analyse, scoreText, tokenize } from '../../../src/modules/insight/sentiment.js';
import { lexiconSize } from '../../../src/modules/insight/lexicon.js';

const label = (text: string) => analyse(text).label;
const expect = (cases: Record<string, 'positive' | 'neutral' | 'negative'>) => {
  for (const [text, want] of Object.entries(cases)) assert.equal(label(text), want, `${text} → ${JSON.stringify(analyse(text))}`);
};

describe('sentiment', () => {
  test('a score is in [-1, 1] with three decimals, and empty or wordless text is neutral', () => {
    for (const text of ['', '   ', '12345', '...', 'Absolutely brilliant!!!! 😍😍😍 thank you so so much', 'DISGUSTING useless shambles 😡😡😡 never again!!!']) {
      const { score } = analyse(text);
      assert.ok(score >= -1 && score <= 1, text);
      assert.equal(Math.round(score * 1000) / 1000, score);
    }
    assert.deepEqual(analyse(''), { score: 0, label: 'neutral' });
    const size = lexiconSize();
    assert.ok(size.words + size.negated + size.phrases > 1800, 'a lexicon of its own: words, negated words and phrases');
  });

  test('negation turns sentiment round: not good, isn’t bad, never again, no complaints', () => {
    expect({
      'The service was good': 'positive',
      'The service was not good': 'negative',
      "The crew isn't bad at all": 'positive',
      'Never again.': 'negative',
      'No complaints, bins always done': 'positive',
      "Can't fault the library staff": 'positive',
      'My bin was not collected': 'negative',
      'Nobody from the council has visited my neighbour since she came home': 'negative',
      "Still hasn't been fixed": 'negative',
    });
    assert.ok(scoreText('not helpful') < 0 && scoreText('helpful') > 0);
  });

  test('boosters strengthen and downtoners soften: very, really, well happy, a bit, slightly', () => {
    assert.ok(scoreText('extremely helpful') > scoreText('helpful'));
    assert.ok(scoreText('really rude') < scoreText('rude'));
    assert.ok(scoreText('a bit slow') > scoreText('slow'));
    assert.ok(scoreText('slightly disappointed') > scoreText('disappointed'));
    expect({ 'Well happy with the new bins': 'positive', 'Dead chuffed with the park': 'positive' });
  });

  test('CAPITALS add emphasis, and a whole text shouted is louder still', () => {
    assert.ok(scoreText('The bins were NOT collected') < scoreText('The bins were not collected'));
    assert.ok(scoreText('the repair was TERRIBLE') < scoreText('the repair was terrible'));
    assert.ok(scoreText('USELESS COUNCIL') < scoreText('useless council'));
  });

  test('"!!!" strengthens what is there; "?!" on a complaint is incredulity', () => {
    assert.ok(scoreText('Bins collected on time!!!') > scoreText('Bins collected on time'));
    assert.ok(scoreText('Missed again!!!') < scoreText('Missed again'));
    expect({ 'Bins on Kings Road missed AGAIN?!': 'negative', 'Another consultation?!': 'negative', 'What day is the tip open?': 'neutral' });
  });

  test('emoji and emoticons carry sentiment', () => {
    expect({
      'Bin day 👍': 'positive',
      'Bin day 😡': 'negative',
      'Council meeting tonight 🙄': 'negative',
      '❤️❤️': 'positive',
      'Library was shut :(': 'negative',
      'New library card :)': 'positive',
      'cheers :-D': 'positive',
      "so sad :'(": 'negative',
    });
    assert.equal(label('Meeting at 10:30 in room 2'), 'neutral', 'a time is not an emoticon');
    assert.equal(label('See https://example.org/x:/y for the form'), 'neutral', 'nor is a link');
    assert.deepEqual(
      tokenize('Great :) 👍🏽').map((t) => t.lower),
      ['great', ':)', '👍🏽'],
    );
  });

  test('contrast: the clause after "but" weighs more than the one before', () => {
    expect({
      'The crew were lovely but the bin is still not emptied': 'negative',
      'It took a while but the pothole was fixed properly and the crew were brilliant': 'positive',
      'Although the crew were polite, the repair is a shambles': 'negative',
    });
  });

  test('British spellings and slang', () => {
    expect({
      'Absolutely rubbish service': 'negative',
      'What a shambles': 'negative',
      'Gutted the youth club is closing': 'negative',
      'Chuffed to bits with the new play park': 'positive',
      'Brilliant, cheers': 'positive',
      'Ta very much': 'positive',
      'Cracking job lads': 'positive',
      'The app is naff': 'negative',
      'Knackered after waiting an hour for the bus': 'negative',
      'That car park machine is dodgy': 'negative',
      'The new scheme is not fit for purpose': 'negative',
      'A complete waste of money': 'negative',
      'Fly-tipping on Elm Road again': 'negative',
      'All sorted now, thanks': 'positive',
      'Honestly the park looks lush': 'positive',
      'Well impressed with the colour-coded recycling boxes': 'positive',
    });
    // "rubbish" the stuff in the bin is not a verdict; "cracking" the pavement is not praise.
    expect({ 'Rubbish collection is on Tuesday': 'neutral', 'The pavement is cracking up outside number 4': 'negative' });
  });

  test('council phrases: still waiting, no one has come, fixed quickly, thank you to the crew', () => {
    expect({
      'Still waiting': 'negative',
      'Reported it Monday and no one has come': 'negative',
      'Pothole fixed quickly': 'positive',
      'Thank you to the crew on Thursday': 'positive',
      'On hold for forty minutes then cut off': 'negative',
      'They went above and beyond': 'positive',
    });
  });

  test('sarcasm 1: a cheerful opener followed by a complaint or a repeat', () => {
    expect({
      'Great, another pothole on Mill Lane': 'negative',
      'Oh brilliant, the bins have been missed again': 'negative',
      'Thanks for nothing': 'negative',
      'Well done council, another week, another missed collection 👏👏': 'negative',
      'Gotta love paying £6 to park and finding the toilets locked': 'negative',
      'Lovely. Another mattress dumped in the alley.': 'negative',
    });
    // …but a cheerful opener followed by good news is what it says.
    expect({ 'Great, thanks for sorting it so quickly': 'positive', 'Brilliant, the new bins arrived today': 'positive' });
  });

  test('sarcasm 2: praise taken back at the end, a cheerful last word after a complaint, or an eye-roll', () => {
    expect({
      'Great service... NOT': 'negative',
      "Council tax up again and the library's closing. cheers": 'negative',
      'Brilliant idea to put the parking charges up 🙄': 'negative',
    });
  });

  test('plain facts, questions and requests stay neutral', () => {
    expect({
      'The library will be closed on Monday for the bank holiday.': 'neutral',
      'Bin collection day for Elm Grove has changed to Wednesday.': 'neutral',
      'Is the new pool any good for toddlers?': 'neutral',
      'When will my bin be fixed?': 'neutral',
      'How do I pay my council tax by direct debit?': 'neutral',
      'Can I pay my parking fine in instalments?': 'neutral',
      'Is the tip open on Sunday? Thanks': 'neutral',
      'Reply YES to get a text reminder': 'neutral',
      STOP: 'neutral',
      'Clean air zone charges start in March.': 'neutral',
      'Social care can be contacted on 0300 555 1234.': 'neutral',
    });
  });
});
