/**
 * Pure formatting of the API's decimal strings. Money is never converted through
 * a JS number here: rounding and digit grouping work on the digits themselves.
 */

const DECIMAL_RE = /^(-?)(\d+)(?:\.(\d+))?$/;

/** True for a plain decimal string such as `12`, `-0.5`, `0.000100`. */
export function isDecimalString(value: unknown): value is string {
  return typeof value === 'string' && DECIMAL_RE.test(value);
}

/** Add one to a string of digits (`"099"` -> `"100"`, `"99"` -> `"100"`). */
function incrementDigits(digits: string): string {
  const out = digits.split('');
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] === '9') { out[i] = '0'; continue; }
    out[i] = String(Number(out[i]) + 1);
    return out.join('');
  }
  return '1' + out.join('');
}

/**
 * Round a decimal string to `places` decimals, half to even (the API's rule),
 * and pad with zeros: `roundHalfEven("0.00015", 4)` -> `"0.0002"`.
 */
export function roundHalfEven(value: string, places: number): string {
  const m = DECIMAL_RE.exec(value);
  if (!m) throw new Error(`not a decimal string: ${JSON.stringify(value)}`);
  const sign = m[1] ?? '';
  const int = m[2] ?? '0';
  const frac = m[3] ?? '';
  const kept = frac.slice(0, places).padEnd(places, '0');
  const rest = frac.slice(places);
  let digits = int + kept;
  const first = rest[0];
  if (first !== undefined) {
    const tail = rest.slice(1);
    const above = first > '5' || (first === '5' && /[1-9]/.test(tail));
    const tie = first === '5' && !/[1-9]/.test(tail);
    const lastEven = Number(digits[digits.length - 1]) % 2 === 0;
    if (above || (tie && !lastEven)) digits = incrementDigits(digits);
  }
  const intLen = digits.length - places;
  const intPart = digits.slice(0, intLen).replace(/^0+(?=\d)/, '');
  const fracPart = digits.slice(intLen);
  const isZero = /^[0.]*$/.test(intPart + fracPart);
  return `${isZero ? '' : sign}${intPart}${places > 0 ? '.' + fracPart : ''}`;
}

/** Group the integer digits in threes: `"1234567.5"` -> `"1,234,567.5"`. */
export function groupThousands(value: string, separator = ','): string {
  const [int = '', frac] = value.split('.');
  const neg = int.startsWith('-');
  const digits = neg ? int.slice(1) : int;
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, separator);
  return `${neg ? '-' : ''}${grouped}${frac !== undefined ? '.' + frac : ''}`;
}

/** Money for display: `formatMoney("1234.56789", "EUR")` -> `"1,234.5679 EUR"` (4 decimals, half-even). */
export function formatMoney(amount: string, currency: string, places = 4): string {
  return `${groupThousands(roundHalfEven(amount, places))} ${currency}`;
}

/** Hours for display, 2 decimals: `"2.999861"` -> `"3.00 h"`. */
export function formatHours(hours: string): string {
  return `${groupThousands(roundHalfEven(hours, 2))} h`;
}

/** A period for display: `2026-11-01 – 2026-11-21 10:30 UTC`. */
export function formatPeriod(start: string, end: string): string {
  const short = (iso: string): string => (iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`);
  return `${short(start)} – ${short(end)} UTC`;
}
