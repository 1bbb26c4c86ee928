// The counter under a text message template: characters, parts and the cost estimate, updated
// as the message is typed. The server counts (render/sms.ts, the code that sends), so the count
// here is the one that is billed. Without JavaScript the form's Preview button does the same.

const ENDPOINT = '/console/messaging/sms-count';
const WAIT_MS = 300;
const token = document.querySelector('input[name="_csrf"]')?.value ?? '';

for (const output of document.querySelectorAll('[data-sms-count-for]')) {
  const input = document.getElementById(output.dataset.smsCountFor);
  if (!input) continue;
  let timer;
  let asked = 0;
  let counted = input.value;
  const update = async () => {
    if (input.value === counted) return;
    const mine = ++asked;
    const body = input.value;
    try {
      const res = await fetch(ENDPOINT, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': token },
        body: JSON.stringify({ body }),
        credentials: 'same-origin',
      });
      if (!res.ok || mine !== asked) return;
      const answer = await res.json();
      if (mine !== asked) return;
      counted = body;
      output.textContent = answer.summary;
    } catch {
      // Keep the last count; the Preview button still counts.
    }
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(update, WAIT_MS);
  });
}
