import { html, type Html } from '../html.ts';

const COLOURS = ['#1765d8', '#1f9d6b', '#e08a00', '#8e44ad', '#c0392b', '#16a1b8', '#7f8c8d', '#d35400'];
const AXIS = '#5b6470';

/**
 * A stacked bar chart as inline SVG (no script, no library): one bar per bucket, one colour per
 * series, labelled axes (every bucket, or every few when there are many), a tooltip (`<title>`)
 * per bar with its total and per segment, a legend with each series' total, and the window's
 * total in the caption: what a person reads off a dashboard without hovering over every bar.
 */
export function stackedBars(o: {
  title: string;
  labels: string[];
  series: Array<{ name: string; values: number[] }>;
  format?: (n: number) => string;
  empty: string;
  /** "Total" in the console's language. */
  totalWord: string;
}): Html {
  const fmt = o.format ?? ((n: number) => String(n));
  const totals = o.labels.map((_, i) => o.series.reduce((s, x) => s + (x.values[i] ?? 0), 0));
  const total = totals.reduce((a, b) => a + b, 0);
  return html`<figure><figcaption>${o.title} · ${o.totalWord} ${fmt(total)}</figcaption>
${
  total === 0
    ? html`<p class="muted">${o.empty}</p>`
    : html`${svg(o, totals, fmt)}
<div class="legend">${o.series.map(
        (s, k) =>
          html`<span><i style="background:${COLOURS[k % COLOURS.length]}"></i>\
${s.name} ${fmt(s.values.reduce((a, b) => a + b, 0))}</span>`,
      )}</div>`
}
</figure>`;
}

function svg(
  o: { title: string; labels: string[]; series: Array<{ name: string; values: number[] }> },
  totals: number[],
  fmt: (n: number) => string,
): Html {
  const max = Math.max(1, ...totals);
  const [left, width, height, gap] = [64, 560, 180, 2];
  const bar = (width - left) / Math.max(1, o.labels.length);
  const every = Math.ceil(o.labels.length / 8);
  const bars = o.labels.map((label, i) => {
    let y = height;
    const segments = o.series.map((s, k) => {
      const v = s.values[i] ?? 0;
      if (!v) return '';
      const h = (v / max) * (height - 10);
      y -= h;
      const x = (left + i * bar + gap / 2).toFixed(1);
      const wide = Math.max(1, bar - gap).toFixed(1);
      return html`<rect x="${x}" y="${y.toFixed(1)}" width="${wide}" height="${h.toFixed(1)}" \
fill="${COLOURS[k % COLOURS.length]}"><title>${label} · ${s.name}: ${fmt(v)}</title></rect>`;
    });
    const tick =
      i % every === 0
        ? html`<text x="${(left + i * bar + bar / 2).toFixed(1)}" y="${height + 15}" font-size="11" fill="${AXIS}" \
text-anchor="middle">${label}</text>`
        : '';
    return html`<g><title>${label}: ${fmt(totals[i] ?? 0)}</title>${segments}</g>${tick}`;
  });
  // A middle line only where it falls on a whole number (a count of 1 has no half).
  const grid = (Number.isInteger(max / 2) ? [0, 0.5, 1] : [0, 1]).map((f) => {
    const y = height - f * (height - 10);
    return html`<line x1="${left - 4}" y1="${y.toFixed(1)}" x2="${width}" y2="${y.toFixed(1)}" stroke="#e3e8ef"/>\
<text x="${left - 6}" y="${(y + 4).toFixed(1)}" font-size="11" fill="${AXIS}" text-anchor="end">${fmt(max * f)}</text>`;
  });
  const axis = html`<line x1="${left}" y1="${height}" x2="${width}" y2="${height}" stroke="#c9d1dc"/>`;
  return html`<svg role="img" aria-label="${o.title}" viewBox="0 0 ${width} ${height + 22}" width="100%">\
${grid}${axis}${bars}</svg>`;
}
