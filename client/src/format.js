// Formatting for people: numbers, ranks, periods and dates as a committee report would print them.

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
  'October', 'November', 'December'];

// A value with at most two significant decimals: 695 -> "695", 705.79 -> "705.8", 1.234 -> "1.23".
export function formatNumber(value, { signed = false } = {}) {
  if (value === null || value === undefined || Number.isNaN(value)) return 'no data';
  const size = Math.abs(value);
  const digits = Number.isInteger(value) ? 0 : size >= 100 ? 1 : size >= 1 ? 2 : 3;
  const text = value.toLocaleString('en-GB', { maximumFractionDigits: digits });
  if (!signed) return text;
  return value > 0 ? `+${text}` : text.replace('-', '−'); // a true minus sign beside the plus
}

export function ordinal(n) {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] || 'th');
  return `${n}${suffix}`;
}

export function monthLabel(yyyymm, short = false) {
  const [year, month] = yyyymm.split('-').map(Number);
  const name = MONTHS[month - 1];
  return `${short ? name.slice(0, 3) : name} ${year}`;
}

// "2022-06" -> "June 2022"; "2022" -> "2022"; "2022-01/2022-11" -> "Jan to Nov 2022";
// "2021-11/2022-02" -> "Nov 2021 to Feb 2022".
export function periodLabel(period) {
  if (!period) return '';
  if (/^\d{4}$/.test(period)) return period;
  if (period.includes('/')) {
    const [first, last] = period.split('/');
    if (first === last) return monthLabel(first);
    if (first.slice(0, 4) === last.slice(0, 4)) return `${monthLabel(first, true).slice(0, 3)} to ${monthLabel(last, true)}`;
    return `${monthLabel(first, true)} to ${monthLabel(last, true)}`;
  }
  return monthLabel(period);
}

// Months from first to last inclusive, as YYYY-MM strings.
export function monthRange(first, last) {
  const months = [];
  let [year, month] = first.split('-').map(Number);
  const [endYear, endMonth] = last.split('-').map(Number);
  while (year < endYear || (year === endYear && month <= endMonth)) {
    months.push(`${year}-${String(month).padStart(2, '0')}`);
    month += 1;
    if (month > 12) { month = 1; year += 1; }
  }
  return months;
}

export function isoDate(value) {
  if (!value) return '';
  const [year, month, day] = value.split('-').map(Number);
  return `${day} ${MONTHS[month - 1].slice(0, 3)} ${year}`;
}

// "from 2 May 2024", "27 Mar 2011 to 1 May 2024"
export function validity(set) {
  if (!set) return '';
  if (set.valid_from && set.valid_to) return `valid ${isoDate(set.valid_from)} to ${isoDate(set.valid_to)}`;
  if (set.valid_from) return `valid from ${isoDate(set.valid_from)}`;
  if (set.valid_to) return `valid until ${isoDate(set.valid_to)}`;
  return '';
}
