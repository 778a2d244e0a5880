/**
 * The quote calculator: what N servers of a flavor would cost for so many hours
 * under the live pricing policy, each line with the rules that priced it.
 */
import type { BillingClient } from './api.js';
import { formatMoney } from './format.js';
import { groupQuoteLines, parseQuote, quoteRequest } from './quote-data.js';
import { explainError } from './shape.js';
import { el, renderError } from './view.js';

/** Build the calculator inside `root`, quoting for `projectId`. */
export function startQuoteCalculator(root: HTMLElement, client: BillingClient, projectId: string): void {
  const field = (id: string, label: string, value: string): [HTMLLabelElement, HTMLInputElement] => {
    const input = el('input', undefined, { id, value, class: 'form-control input-sm' });
    const l = el('label', label);
    l.appendChild(input);
    return [l, input];
  };
  const [flavorLabel, flavor] = field('tally-quote-flavor', 'Flavor ', 'm1.small');
  const [countLabel, count] = field('tally-quote-count', 'Servers ', '1');
  const [hoursLabel, hours] = field('tally-quote-hours', 'Hours ', '730');
  const go = el('button', 'Quote', { id: 'tally-quote-go', type: 'submit', class: 'btn btn-default' });
  const form = el('form', undefined, { class: 'quote-form' });
  form.append(flavorLabel, countLabel, hoursLabel, go);
  const out = el('div', undefined, { id: 'tally-quote-result', 'aria-live': 'polite' });
  root.replaceChildren(el('h3', 'Quote'), form, out);
  root.hidden = false;

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const req = quoteRequest({ flavor: flavor.value, count: count.value, hours: hours.value }, projectId);
    if ('field' in req) {
      out.replaceChildren(el('p', req.message, { class: 'invalid' }));
      return;
    }
    go.disabled = true;
    void client.request('POST', '/v1/quotes', req.body).then((body) => {
      const q = parseQuote(body);
      const list = el('ul', undefined, { class: 'explain' });
      for (const g of groupQuoteLines(q.lines)) {
        list.appendChild(el('li', `${g.what}: ${formatMoney(g.amount, q.currency, 6)} over ${g.lines} priced hour(s), each ${g.each}; rule ${g.rules}`));
      }
      out.replaceChildren(el('p', `Quote: ${formatMoney(q.totalText, q.currency)} (valid until ${q.expiresAt})`, { id: 'tally-quote-total', class: 'total' }), list);
    }).catch((err: unknown) => {
      const box = el('section', undefined, { class: 'error', role: 'alert' });
      renderError(box, explainError(err));
      out.replaceChildren(box);
    }).finally(() => { go.disabled = false; });
  });
}
