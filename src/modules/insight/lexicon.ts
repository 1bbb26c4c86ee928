/**
 * Weft's own sentiment lexicon for what residents say about council services, in British English.
 * Written for Weft (ideas from the shape of AFINN and VADER: a valence per word from -4 to +4,
 * boosters, negators), not copied from either. Each line is one valence and the words that carry
 * it; `stem{a,b}` stands for stem + each ending (`{,s}` keeps the bare stem).
 *
 * Words that are neutral in council talk but loaded elsewhere are left out on purpose: "fine"
 * (a parking fine), "waste", "care", "free", "like", "collection", "ok".
 */

const WORDS: [number, string][] = [
  // ---------------------------------------------------------------- positive
  [
    3.5,
    'outstanding exceptional superb phenomenal marvellous marvelous magnificent wonderful{,ly} amazing{,ly} incredible brilliant{,ly} brill excellent{,ly} perfect{,ly} flawless spectacular exemplary faultless{,ly} impeccable impeccably sensational terrific fabulous fab first-class world-class heroes legend{,s} superstar{,s} stellar',
  ],
  [
    3,
    'love{,d,s} lovely delighted thrilled ecstatic overjoyed elated grateful gratefully thankful chuffed awesome fantastic{,ally} impressive splendid smashing belter ace lush top-notch topnotch first-rate immaculate spotless pristine stunning beautiful{,ly} gorgeous superb heroic gem{,s} admirable commendable remarkable praiseworthy hero angel{,s} saint{,s} lifesaver lifesavers life-saver delight{,ful,fully} wow impressed',
  ],
  [
    2.5,
    'great happy{,ier} pleased glad helpful{,ly} kind{,ly,ness,est} friendly courteous{,ly} polite{,ly} professional{,ly,ism} efficient{,ly} efficiency effective{,ly} reliable reliably prompt{,ly} punctual speedy swift{,ly} responsive attentive caring considerate thoughtful supportive reassuring reassured relieved appreciate{,d,s} appreciation thankyou thanku thx ty enjoy{,ed,able,ing,s} nice{,ly} improved improvement{,s} well-run well-kept well-maintained excellence praise{,d} commend{,ed} recommend{,ed} welcoming accommodating patient{,ly} understanding knowledgeable competent wonderfully beaming joy{,ful} pleasure pleasant{,ly} cracking exceeded excel{,led,s} champion{,s} fave favourite favorite super',
  ],
  [
    2,
    'good{,s} better best thank{,s,ed,ing} cheers clean{,er,est,ed} tidy{,ied} neat{,ly} safe{,r} safely smooth{,ly} easy easier easily effortless{,ly} convenient{,ly} handy useful valuable worthwhile fair{,ly} honest{,ly} transparent{,ly} clearer quick{,er,ly} fast{,er} resolved solved sorted fixed mended repaired restored success{,ful,fully} benefit{,s,ed} beneficial positive{,ly} pleasing satisfied satisfying satisfaction contented comfortable comfy welcome{,d} fun lively vibrant peaceful calm{,er} bright{,er} fresh{,er} lovely-looking greener well-lit accessible affordable bargain wise decent{,ly} proper{,ly} respectful{,ly} listened listens responsive hopeful optimistic encouraging encouraged progress proud pride uplifting inspiring inspired brave dedicated dedication diligent hardworking hard-working tireless{,ly} generous{,ly} gracious warm{,ly,th} cheerful{,ly} smiley smiling smile{,d,s} laugh{,ed} grand tip-top mint buzzing rocks rock{,ed} legendary',
  ],
  [
    1.5,
    'adequate acceptable reasonable{,ly} sensible{,ly} helped helps supported sorting improve{,s} improving upgrade{,d,s} new-look refurbished renovated tidied cleared cleaned gritted swept emptied resurfaced replaced repaired functional reopened restored updated informed informative explained organised organized tidy-up efficiently promptly on-time ontime punctuality prompter fixed-up friendlier nicer cleaner safer greener tidier quieter ta lol haha hahaha yay woohoo hooray hurray yippee phew relief bravo kudos congrats congratulations',
  ],
  [1, 'fine liked keen hopeful{,ly} interesting valued save{,d,s} promising reopening quieter quiet arrived attended visited replied answered respond{,ed} top'],
  [-0.5, 'busy noise closure{,s} pest{,s} wasp{,s} pigeon{,s}'],
  [-0.8, 'cuts missed closing locked arrears holes poo dog-mess fouling'],

  // ---------------------------------------------------------------- negative
  [
    -1,
    'slow{,ly,er} late delay{,s,ed} wait{,ed,ing} waited queue{,s,ing} noisy crowded confusing confused unclear odd strange weird worried worry{,ing} concern{,s,ed} concerning problem{,s} issue{,s} trouble{,s} difficult difficulty hassle{,s} inconvenient inconvenience annoy annoys unsure doubt{,ful} expensive pricey costly overpriced bare patchy sparse limited lacking lack{,s} short shortage{,s} fault{,s} faulty litter littered littering graffiti weeds weedy overgrown puddle{,s} dark darker dim cold chilly draughty drafty tired{,ness} stuck missing forgot forgotten forget ignore{,s} ignored ignoring pothole{,s} dent{,ed} bumpy uneven flooded flooding blocked blockage{,s} leak{,s,ed,ing,y} crack{,s,ed} smell{,s,y} whiff stain{,s,ed} dirty dusty muddy mice vermin bedbugs cockroaches fleas mould{,y} damp{,ness} rot{,ten,ting} worn broke broken breaks sad sadly unfortunately unfortunate shame apologies apologise apologised regret{,s,table}',
  ],
  [
    -1.5,
    'rude{,ly,ness} unhelpful{,ly} unfriendly impolite unprofessional unreliable unsafe unclean unfair{,ly} poor{,ly,er} bad{,ly} worse worst fail{,s,ed,ing} failure{,s} error{,s} mistake{,s} wrong{,ly} incorrect{,ly} careless{,ly} sloppy lazy negligent neglect{,ed,ful} messy mess{,ed,es} cluttered filth{,y} grotty grubby tatty shabby scruffy dilapidated derelict rundown run-down crumbling decaying battered knackered skint dodgy naff iffy ropey ropy grim dreary drab bleak depressing depressed gloomy miserable misery frustrat{e,es,ed,ing,ion} annoyed annoying irritat{e,es,ed,ing} irritation upset{,ting} unhappy disappointing disappoint{,s,ed,ment} letdown let-down dissatisfied unsatisfied unsatisfactory inadequate insufficient substandard sub-standard mediocre lacklustre shoddy flimsy cheap cheaply confusing unanswered unresolved unfixed uncollected unemptied unrepaired unsorted overflowing overflowed overflow overdue late-running cancelled canceled cancellation{,s} stench stink{,s,ing,y} smelly pong reek{,s,ing} fly-tipping flytipping fly-tipped flytipped fly-tippers flytippers dumping dumped crash{,es,ed,ing} bankrupt madness vandal{,s,ism,ised} rat{,-infested} infested infestation dangerous{,ly} hazard{,s,ous} risky danger fear{,ful} scared afraid frightened frightening threatening intimidating nuisance antisocial anti-social mouldy worrying anxious anxiety stress{,ed,ful} exhausted exhausting nightmare{,s} ordeal struggle{,s,d} struggling suffer{,s,ed,ing} suffering injured injury hurt{,s} pain{,ful} sick ill hazardous deteriorat{e,ed,ing} neglected complain complained complaining complaint{,s} moan{,s,ing,ed} grumble{,s} whinge bother{,ed} bothersome pester{,ed} chasing chased fobbed stalled dragging pointless ignored incompetence unanswered unable impossible gutted peeved miffed narked bodge{,d} bodging botch{,ed} cowboy{,s} jobsworth{,s} bureaucracy bureaucratic red-tape',
  ],
  [
    -2.5,
    'rubbish terrible{,ly} awful{,ly} horrible horribly horrid dreadful{,ly} appalling{,ly} appalled atrocious{,ly} abysmal{,ly} woeful{,ly} shocking{,ly} shocked diabolical dire deplorable lamentable pitiful pitiable pathetic{,ally} useless hopeless{,ly} incompetent clueless inept ineffective ineffectual inefficient uncaring heartless callous dismissive{,ly} arrogant condescending patronising patronizing disrespectful{,ly} shambles shambolic chaos chaotic farce farcical ridiculous{,ly} ludicrous absurd laughable joke{,s} nonsense scandal scandalous shameful{,ly} disgrace disgraceful{,ly} disgusting{,ly} disgusted revolting repulsive vile gross foul nasty horrendous{,ly} horrific{,ally} hideous ugly eyesore{,s} blight{,ed} squalid squalor unacceptable inexcusable unforgivable intolerable unbearable unliveable uninhabitable unusable impassable dangerous deathtrap death-trap treacherous angry{,ier} anger{,ed} furious{,ly} fuming livid seething outraged outrage{,ous} raging rage incensed irate hate{,s,d} hateful loathe despise{,d} hacked-off cheesed-off brassed-off fury distraught devastated heartbroken heartbreaking upsetting distressing distressed traumatic trauma{,tised} neglectful lied liar{,s} lies dishonest{,y} corrupt{,ion} cheat{,s,ed,ing} conned scam{,s,mers} rip-off ripoff ripped-off robbery fraud{,ulent} theft stolen robbed mugged assaulted attacked abuse{,d,s,ive} harass{,ed,ment} bully{,ing} bullied victimised discriminated discrimination racist sexist wasted wasteful mismanaged mismanagement catastroph{e,ic} disaster{,s,rous} crisis nightmarish omnishambles embarrassing embarrassment humiliat{ed,ing} insult{,ed,ing} insulting stupid{,ity} idiot{,s,ic} morons{,ic} moron muppet{,s} clown{,s} numpties numpty plonkers wally wallies',
  ],
  [
    -3.5,
    'worst-ever horrendously criminal criminally evil sickening sickened abomination hellhole hell-hole hell diabolically disgusts disgraced fucking-useless shit shite shitty crap crappy bollocks bullshit piss-poor pisspoor fuck{,ing,ed} bloody-useless wankers bastards arse arsed twats',
  ],
];

/**
 * Words whose bare use says little in council talk but which, negated, are a complaint: "the bins
 * were not collected", "nobody has come", "still not fixed". The value is what they carry when negated.
 */
const NEGATED: [number, string][] = [
  [
    -1.8,
    'answer{,s} return{,s,ed} rung ring{,s} call{,s} reply replying respond action cut mow{,n,ed} collected collect{,ing} emptied empty{,ing} picked fixed mended repaired sorted resolved cleared cleaned gritted swept done replaced returned reinstated restored delivered received arrived turned came come{,s} showed shown visited attended answered replied responded contacted called rang phoned emailed heard listened listen{,s,ing} bothered happened happening working work{,s,ed} open{,ed} acknowledged updated informed told explained refunded paid honoured processed approved actioned progressed followed checked inspected helped help{,ing,ful} enough acceptable good great happy helpful safe clean tidy fit reliable fair right proper{,ly} professional pleased impressed worth interested',
  ],
];

/** Several words together; they win over the words they are made of (longest first). Hyphens and apostrophes as typed. */
const PHRASES: [number, string][] = [
  [
    3,
    "above and beyond | went the extra mile | go the extra mile | going the extra mile | top notch | top job | spot on | over the moon | made my day | hats off | keep up the good work | can't thank | cannot thank | can not thank | couldn't thank | can't praise | cannot praise | couldn't be happier | could not be happier | couldn't be more pleased | could not be more pleased | can't fault | cannot fault | couldn't fault | could not fault | can't speak highly enough | first class | second to none | well happy | well chuffed | dead chuffed | made up | really made up | a credit to | credit to the | thank you so much | thanks so much | thanks a million | many thanks | massive thanks | huge thanks | big thanks | a big thank you | hat off | bang on | a cut above | never had a problem | never had any problems | never had an issue | never had any issues | never been better | couldn't ask for more | could not ask for more | couldn't ask for better | couldn't have asked for",
  ],
  [
    2.5,
    'not all heroes | top lads | top man | top woman | top guys | top team | top service | top marks | exactly what i needed | exactly what we needed | human again | a massive help | a big help | a great help | a real help | a huge help | a godsend | no bother at all | a lifeline',
  ],
  [
    2.5,
    "thank you | well done | good job | great job | nice one | good work | great work | fair play | fair dos | keep it up | no complaints | can't complain | cannot complain | can't grumble | mustn't grumble | no problems at all | no issues at all | fixed quickly | sorted quickly | fixed the same day | sorted the same day | the same day | same day | within the hour | within a day | within hours | on the ball | on it straight away | straight away | right away | in no time | no time at all | quick as | ta very much | ta muchly | cheers for | much appreciated | really appreciated | greatly appreciated | appreciate it | value for money | good value | great value | worth every penny | money well spent | so helpful | very helpful | really helpful | so kind | lovely job | good as new | like new | a breath of fresh air | breath of fresh air | a real asset | an asset | tip top | thank the | thank all | thanks to the | thanks to all | thank you to | shout out | shoutout | props to | sorted now | all sorted | got it sorted | got sorted | is sorted | was sorted | been sorted | fixed now | all fixed | now fixed | been fixed | was fixed | were fixed | got fixed | all good | all good now | working again | back to normal | up and running | back open | reopened | back on track | sorted it | sorted out | fixed it | cleared it | cleaned it up | cleared up | cleaned up | tidied up | on time | on schedule | as promised | like clockwork | without fail | never miss | never missed | never misses | no fuss | hassle free | hassle-free | stress free | stress-free | easy to use | dead easy | a doddle | piece of cake",
  ],
  [-0.8, "still no | still not | still hasn't | still haven't | still isn't | still aren't | still won't | still can't | still didn't | still doesn't"],
  [1, 'turned up | came back | a help'],
  [
    1.5,
    "can't wait | cannot wait | can not wait | no problem | no problems | no issues | no worries | not bad | not too bad | not half bad | could be worse | fair enough | no bother | not a problem | not an issue | nothing to complain | much better | a lot better | far better | loads better | so much better | better than expected | better than i expected | as expected | happy enough | good enough for me | getting there | step in the right direction | in the right direction | on the mend | well worth",
  ],
  [
    0,
    "off sick | report fly-tipping | reporting fly-tipping | closing date | closing time | noise nuisance | not sure | no idea | no doubt | not only | not just | no longer | not yet | no matter | not long | no one else | whether or not | if not | or not | never mind | nevermind | thank god | good morning | good afternoon | good evening | good night | goodnight | good luck | best wishes | kind regards | best regards | many regards | yours faithfully | yours sincerely | fine for | parking fine | a fine | the fine | my fine | penalty charge | look forward to hearing | please advise | please help | help me | can you help | could you help | will you help | care home | care homes | social care | care worker | care workers | care package | foster care | home care | day care | free school meals | free parking | household waste | food waste | garden waste | waste collection | waste collections | waste and recycling | rubbish collection | rubbish collections | rubbish bin | rubbish bins | rubbish bag | rubbish bags | black bag | green bin | brown bin | blue bin | clean air | clean air zone | air quality | like to | would like | i'd like | we'd like | like to know | feel like | looks like | look like | just like | like this | like that | good friday | great britain | great yarmouth | great western | happy hour | pretty much | as well | well as | very well | might well | may well | as soon as | soon as possible | asap | for free | free of charge | no charge | no parking | no entry | no through road | no ball games | no dogs | keep clear | lost property | pest control | fly tipping team | noise complaint | noise complaints | make a complaint | making a complaint | complaints procedure | complaints form | to complain | report a problem | report a pothole | reporting a pothole | reporting fly tipping | report fly tipping | street light fault | fault reference | waiting list | on the waiting list | waiting times | waiting time | waiting room | waiting area | bus lane | bus gate | low traffic | traffic calming | speed bump | speed bumps | speed hump | speed humps | safer routes | school run | term time | open day | open days | open evening | opening times | opening hours | open on | open until | open from | is open | are open | still open | open to | how long | how much | how do i | when will | when is | when are | is there | are there | do i need | can i | could i | should i | will the | will it | will my",
  ],
  [
    -1.5,
    "still waiting | still broken | still there | still overflowing | still blocked | still out | yet again | once again | again and again | over and over | every single week | every single time | every time | time and again | second week running | third week running | fourth week running | weeks running | week in a row | weeks in a row | times now | no one has come | no one has been | no one came | no one's come | no one's been | nobody has come | nobody has been | nobody came | nobody's come | nobody's been | no one turned up | nobody turned up | didn't turn up | didn't show | didn't come | never came | never turned up | never showed | no show | no-show | not turned up | not been | not come | no sign of | no sign | heard nothing | heard nothing back | no reply | no response | no answer | no callback | no call back | no update | no updates | no feedback | no acknowledgement | no word | no one answers | nobody answers | no one picks up | on hold | kept on hold | left on hold | hung up | put the phone down | passed from pillar to post | pillar to post | round in circles | going round in circles | pass the buck | passing the buck | passed the buck | fobbed off | fob off | lack of | missed again | missed our | missed my | missed the | been missed | was missed | were missed | got missed | keeps happening | keep happening | happens every | far too | way too | too long | too late | too slow | too much | too many | not enough | not good enough | not up to scratch | not up to standard | not fit for purpose | not fit | could be better | could do better | must do better | need to do better | needs to do better | room for improvement | leaves a lot to be desired | left a lot to be desired | left a mess | leave a mess | left it in a mess | worse than | getting worse | gone downhill | going downhill | down the drain | down the pan | in a state | the state of | state of the | in a right state | falling apart | falling to bits | fall apart | accident waiting to happen | an accident waiting to happen | too fast | far too fast | way too fast | speeding | sort it out | sort this out | sort yourselves out | get it sorted | get this sorted | please sort | sort it | do something | do your job | do your jobs | get a grip | get your act together | get your house in order | fed up | sick of | tired of | had enough | had it up to here | wits end | wits' end | wit's end | last straw | at a loss | no excuse | no excuses | what a joke | a joke | the joke | what a shambles | a shambles | total shambles | complete shambles | absolute shambles | what a mess | a mess | complete mess | total mess | absolute mess | what a farce | taking the mick | taking the mickey | taking the michael | taking the piss | having a laugh | having a giraffe | beggars belief | beyond belief | for goodness sake | for god's sake | for gods sake | for heaven's sake | for crying out loud | give me strength | give us strength | at the end of my tether | end of my tether | can't cope | cannot cope | can't believe | cannot believe | can't get through | cannot get through | couldn't get through | can't get hold | cannot get hold | couldn't get hold | no way to | no point | no help | no use | no good | no thanks to | thanks for nothing | cheers for nothing | thanks a bunch | yeah right | yeah, right | as if | my arse | my foot | you couldn't make it up | couldn't make it up | you could not make it up | unbelievable | waste of money | waste of time | waste of space | waste of taxpayers | waste of our money | waste of public money | money down the drain | a waste | complete waste | total waste | absolute waste | what a waste | rip off | ripped off | daylight robbery | cash cow | money grab | money-grabbing | money grabbing | cash grab | stealth tax | cowboy job | bodge job | botched job | shoddy job | half-hearted | half hearted | half a job | half-done | half done | piss poor | couldn't care less | could not care less | couldn't give a | don't care | doesn't care | do not care | does not care | didn't care | nobody cares | no one cares | no-one cares | don't give a | doesn't give a | couldn't be bothered | could not be bothered | can't be bothered | not bothered | never again | never ever again | won't be using | will not be using | won't be back | never use | never bothered | did nothing | does nothing | done nothing | do nothing | doing nothing | nothing done | nothing has been done | nothing's been done | nothing happens | nothing happened | nothing ever gets done | without any warning | without warning | without notice | without any notice | with no notice | no notice | no warning | without telling | without telling anyone | without any consultation | without consultation | no consultation | taped off | nowhere to go | nowhere to be seen | no wonder | tick box | tick-box | nearly fell | almost fell | could have fallen | nearly killed | all talk | obstacle course | website down | site down | system down | is down | was down | been down | went down | down again | convenient for them | convenient for who | that convenient for | how convenient | don't bother | going up | gone up | goes up | put up | putting up | full of holes | second time | third time | fourth time | fifth time | three times | four times | five times | six times | ten times | several times | so many times | countless times | numerous times | multiple times | not a single+ | not one+ | can't even+ | cannot even+ | couldn't even+ | what's the point | whats the point | what is the point | under the carpet | swept under | brushed off | brushed aside | fell on deaf ears | falls on deaf ears | deaf ears | talking to a brick wall | brick wall | head against a brick wall | banging my head | no accountability | no one takes responsibility | nobody takes responsibility | nobody knows | no one knows | no-one knows | nobody seems | no one seems | shouldn't have to | should not have to | shouldn't be | should be ashamed | ashamed of yourselves | shame on | shame on you | out of order | bang out of order | well out of order | out of pocket | left out of pocket | through the roof | gone up again | up again | hike | price hike | another increase | pay more for less | paying more for less | more for less | less for more | second class | third world | like a third world | dumped again | fly tipped | fly-tipped again | dumping ground | no go | no-go | death trap | death-trap | broken down | broke down | out of action | out of service | not working | isn't working | doesn't work | don't work | never works | stopped working | no longer works | not work | wouldn't work | won't work | keeps breaking | keeps failing | went wrong | gone wrong | goes wrong | can't get | cannot get | unable to | impossible to | hard to | difficult to | struggling to | struggle to | had to chase | have to chase | having to chase | chasing up | chased up | chase up | chased again",
  ],
  [
    -2.5,
    "what a joke | a joke | what a shambles | a shambles | total shambles | complete shambles | absolute shambles | what a mess | complete mess | total mess | absolute mess | what a farce | not fit for purpose | waste of money | waste of time | waste of space | waste of taxpayers | waste of our money | waste of public money | money down the drain | complete waste | total waste | absolute waste | what a waste | daylight robbery | rip off | ripped off | thanks for nothing | cheers for nothing | sick and tired | fed up | sick of | had enough | beggars belief | taking the mick | taking the mickey | taking the piss | death trap | accident waiting to happen | an accident waiting to happen | couldn't care less | could not care less | nobody cares | no one cares | no-one cares | shame on you | bang out of order | out of order | not good enough | never again | never ever again | at the end of my tether | end of my tether | wits end | at my wits end",
  ],
];

/** Words that strengthen (or, negative, soften) the sentiment word just after them. */
export const BOOSTERS: Record<string, number> = {
  very: 0.3,
  really: 0.3,
  so: 0.25,
  too: 0.2,
  extremely: 0.45,
  absolutely: 0.45,
  totally: 0.4,
  utterly: 0.45,
  completely: 0.4,
  entirely: 0.3,
  incredibly: 0.45,
  exceptionally: 0.45,
  truly: 0.3,
  genuinely: 0.3,
  thoroughly: 0.35,
  highly: 0.35,
  hugely: 0.4,
  massively: 0.4,
  seriously: 0.35,
  deeply: 0.35,
  most: 0.3,
  bloody: 0.4,
  damn: 0.35,
  flipping: 0.3,
  flaming: 0.3,
  proper: 0.3,
  properly: 0.3,
  dead: 0.3,
  well: 0.3,
  right: 0.2,
  real: 0.2,
  super: 0.35,
  mega: 0.35,
  such: 0.25,
  quite: 0.05,
  pretty: 0.1,
  fairly: -0.2,
  rather: -0.1,
  somewhat: -0.35,
  slightly: -0.45,
  little: -0.35,
  bit: -0.35,
  kinda: -0.35,
  sorta: -0.35,
  mildly: -0.4,
  marginally: -0.5,
  partly: -0.35,
  partially: -0.35,
  almost: -0.3,
  barely: -0.5,
  still: 0.25,
  even: 0.15,
  just: 0.05,
  always: 0.2,
  constantly: 0.3,
  continually: 0.3,
  repeatedly: 0.3,
  again: 0.1,
};

/** Words that turn the sentiment of the next few words around. */
export const NEGATORS = new Set([
  'not',
  'no',
  'never',
  'nothing',
  'nobody',
  'none',
  'nowhere',
  'neither',
  'nor',
  'without',
  'cannot',
  'hardly',
  'nope',
  'noone',
  'no-one',
  'aint',
  'cant',
  'dont',
  'wont',
  'didnt',
  'doesnt',
  'isnt',
  'arent',
  'wasnt',
  'werent',
  'havent',
  'hasnt',
  'hadnt',
  'couldnt',
  'shouldnt',
  'wouldnt',
  'mustnt',
  'neednt',
  'yet-to',
  'failed',
  "nobody's",
  "no-one's",
  "nothing's",
]);

/** The clause after these weighs more than the one before. */
export const CONTRAST = new Set(['but', 'however', 'yet', 'except', 'whereas', 'unfortunately', 'sadly', 'shame']);
/** A clause opened by these weighs less (until the next comma or stop). */
export const SUBORDINATE = new Set(['despite', 'whilst', 'while', 'although', 'though']);

/** Openers that, followed by a complaint, are sarcasm: "Great, another pothole", "Oh brilliant, missed again". */
export const SARCASTIC_OPENERS = new Set([
  'great',
  'brilliant',
  'fantastic',
  'lovely',
  'perfect',
  'wonderful',
  'marvellous',
  'marvelous',
  'superb',
  'excellent',
  'nice',
  'super',
  'terrific',
  'splendid',
  'awesome',
  'amazing',
  'cheers',
  'thanks',
  'thank you',
  'well done',
  'nice one',
  'good job',
  'great job',
  'bravo',
  'charming',
  'love',
  'love it',
  'gotta love',
  'got to love',
  "you've got to love",
  'love how',
  'love that',
]);
/** Words that may lead an opener: "oh great", "well done", "yeah brilliant". */
export const OPENER_LEADS = new Set(['oh', 'ooh', 'well', 'yeah', 'yay', 'wow', 'just', 'so', 'ah', 'really', 'i', 'we', 'absolutely', 'how']);
/** A clause with these after an opener is a repeat of a bad thing: "another", "again". */
export const REPEAT_CUES = new Set(['another', 'again', 'more', 'still', 'yet', 'once']);

export interface Phrase {
  words: string[];
  valence: number;
  /** "can't even", "not a single": the words after it are negated too (marked `+` in the list) */
  opensNegation: boolean;
}

function expand(spec: string): string[] {
  const out: string[] = [];
  for (const item of spec.split(/\s+/)) {
    if (!item) continue;
    const m = /^([^{]*)\{([^}]*)\}(.*)$/.exec(item);
    if (!m) out.push(item);
    else for (const end of m[2].split(',')) out.push(m[1] + end + m[3]);
  }
  return out;
}

function build(groups: [number, string][]): Map<string, number> {
  const map = new Map<string, number>();
  for (const [valence, spec] of groups) for (const w of expand(spec)) map.set(w.toLowerCase(), valence);
  return map;
}

export const LEXICON: Map<string, number> = build(WORDS);
export const NEGATED_LEXICON: Map<string, number> = build(NEGATED);

/** The words a text is split into, as the tokenizer makes them: "can't" stays one word, commas are their own. */
export function phraseWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[’‘]/g, "'")
    .split(/\s+|(?=,)/)
    .filter(Boolean);
}

/** Phrases by their first word, longest first. */
export const PHRASE_INDEX: Map<string, Phrase[]> = (() => {
  const index = new Map<string, Phrase[]>();
  for (const [valence, list] of PHRASES) {
    for (const raw of list.split('|')) {
      const opensNegation = raw.trim().endsWith('+');
      const words = phraseWords(raw.trim().replace(/\+$/, ''));
      if (!words.length) continue;
      const key = words[0];
      const at = index.get(key) ?? [];
      // A later, more specific line wins over an earlier one for the same words.
      const same = at.findIndex((p) => p.words.join(' ') === words.join(' '));
      if (same >= 0) at.splice(same, 1);
      at.push({ words, valence, opensNegation });
      index.set(key, at);
    }
  }
  for (const list of index.values()) list.sort((a, b) => b.words.length - a.words.length);
  return index;
})();

/** How many entries the lexicon holds, for the README. */
export function lexiconSize(): { words: number; negated: number; phrases: number } {
  let phrases = 0;
  for (const list of PHRASE_INDEX.values()) phrases += list.length;
  return { words: LEXICON.size, negated: NEGATED_LEXICON.size, phrases };
}
