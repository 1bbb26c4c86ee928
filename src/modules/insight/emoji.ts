/**
 * Emoji and emoticons, with the valence residents mean by them in feedback about services.
 * 😂 and 🤣 are weak: in complaints they are as often mockery as joy. 🙃 and 🤡 are sarcasm and scorn.
 */
const EMOJI_GROUPS: [number, string][] = [
  [3, '😍 🥰 🤩 ❤️ ❤ 💖 💕 💗 💓 💞 💝 🏆 🥇 💯'],
  [2.5, '😀 😃 😄 😁 😊 ☺️ ☺ 😻 👏 🙌 🥳 🎉 🎊 💙 💚 💛 🧡 💜 🤍 💐 🌟 ⭐ ✨ 😇 🤗 👍 👍🏻 👍🏼 👍🏽 👍🏾 👍🏿 👌 💪 🙏 🌈 😎 🫶'],
  [1.5, '🙂 😆 😘 😋 🌞 ☀️ ☀ 🌸 🌷 🌻 🌼 🌹 ✅ ✔️ ✔ 🆗 🤞 😌 🥲 😅 🎈'],
  [0.5, '😂 🤣 😉 😜 😛 😝 🙈'],
  [-0.5, '😐 😶 🤔 🤨 😏 ⚠️ ⚠ 🚧 💀 ☠️ 🥶 🥵 😷 🌧️ 🌧 ☔'],
  [-1.5, '😕 🙁 😟 😬 😳 😱 😨 😰 😓 🫤 🙃 😑 🐌 🐀 🐁 💸 ❌ 🚫 🤷 🤷‍♂️ 🤷‍♀️ 😪 😴 🥱 🤐'],
  [-2.5, '😞 😔 😢 😭 😩 😫 😖 😣 ☹️ ☹ 🙄 😒 😤 🤦 🤦‍♂️ 🤦‍♀️ 👎 👎🏻 👎🏼 👎🏽 👎🏾 👎🏿 💔 😠 🤢 💩 🤡 😿'],
  [-3.5, '😡 🤬 🤮 👿 😾 🖕'],
];

export const EMOJI: Map<string, number> = new Map(EMOJI_GROUPS.flatMap(([v, list]) => list.split(' ').map((e) => [e, v] as [string, number])));

/** Emoticons as typed; the tokenizer finds them before words and punctuation. */
export const EMOTICONS: Map<string, number> = new Map([
  [':)', 2],
  [':-)', 2],
  [':]', 2],
  ['=)', 2],
  [':))', 2.5],
  [':-))', 2.5],
  [':D', 2.5],
  [':-D', 2.5],
  ['=D', 2.5],
  ['xD', 1.5],
  ['XD', 1.5],
  [';)', 1.5],
  [';-)', 1.5],
  [':P', 1],
  [':p', 1],
  [':-P', 1],
  [':-p', 1],
  ['<3', 3],
  ['<33', 3],
  ['^_^', 2],
  ['^^', 1.5],
  [':(', -2.5],
  [':-(', -2.5],
  [':((', -3],
  [':[', -2],
  ['=(', -2.5],
  [":'(", -3],
  [":'-(", -3],
  ['>:(', -3.5],
  ['>:-(', -3.5],
  [':@', -3],
  [':/', -1.5],
  [':-/', -1.5],
  [':\\', -1.5],
  [':|', -1],
  [':-|', -1],
  ['-_-', -1.5],
  ['-.-', -1.5],
  ['</3', -2.5],
  [':S', -1.5],
  [':s', -1.5],
  ['D:', -2],
]);
