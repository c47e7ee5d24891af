import { html, type Html } from '../html.ts';

const COLOURS = ['#1765d8', '#1f9d6b', '#e08a00', '#8e44ad', '#c0392b', '#16a1b8', '#7f8c8d', '#d35400'];

/**
 * A stacked bar chart as inline SVG (no script, no library): one bar per bucket, one colour per
 * series, a legend, and the same numbers as a table for screen readers and for copying.
 */
export function stackedBars(o: {
  title: string;
  labels: string[];
  series: Array<{ name: string; values: number[] }>;
  format?: (n: number) => string;
  empty: string;
}): Html {
  const fmt = o.format ?? ((n: number) => String(n));
  const totals = o.labels.map((_, i) => o.series.reduce((s, x) => s + (x.values[i] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const width = 520;
  const height = 180;
  const gap = 2;
  const bar = (width - 40) / Math.max(1, o.labels.length);
  const rects: Html[] = [];
  o.labels.forEach((label, i) => {
    let y = height;
    o.series.forEach((s, k) => {
      const v = s.values[i] ?? 0;
      if (!v) return;
      const h = (v / max) * (height - 10);
      y -= h;
      rects.push(
        html`<rect x="${40 + i * bar + gap / 2}" y="${y.toFixed(1)}" width="${Math.max(1, bar - gap).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLOURS[k % COLOURS.length]}"><title>${label} · ${s.name}: ${fmt(v)}</title></rect>`,
      );
    });
  });
  const total = totals.reduce((a, b) => a + b, 0);
  return html`<figure><figcaption>${o.title}</figcaption>
${
  total === 0
    ? html`<p class="muted">${o.empty}</p>`
    : html`<svg role="img" aria-label="${o.title}" viewBox="0 0 ${width} ${height + 20}" width="100%">
<text x="0" y="12" font-size="11" fill="#5b6470">${fmt(max)}</text><line x1="38" y1="${height}" x2="${width}" y2="${height}" stroke="#c9d1dc"/>
${rects}<text x="40" y="${height + 15}" font-size="11" fill="#5b6470">${o.labels[0] ?? ''}</text><text x="${width}" y="${height + 15}" font-size="11" fill="#5b6470" text-anchor="end">${o.labels.at(-1) ?? ''}</text></svg>
<div class="legend">${o.series.map((s, k) => html`<span><i style="background:${COLOURS[k % COLOURS.length]}"></i>${s.name} ${fmt(s.values.reduce((a, b) => a + b, 0))}</span>`)}</div>`
}
</figure>`;
}
