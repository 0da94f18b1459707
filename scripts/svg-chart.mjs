// Plain SVG charts for docs/benchmarks.md: no dependency, one string out. Readable on a light
// or dark page (GitHub shows both): text takes the page's colour through `currentColor`
// where it can, and every chart has a white card behind it.

const PALETTE = ['#d9480f', '#1971c2', '#2f9e44', '#7048e8', '#868e96', '#e8590c'];
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';

const esc = (text) => String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const round = (n) => Math.round(n * 10) / 10;

/** A ceiling with one significant step (1, 2, 2.5, 5 × 10^k) at or above `max`, and ticks to it. */
function axis(max) {
  if (!(max > 0)) return { top: 1, ticks: [0, 1] };
  const power = 10 ** Math.floor(Math.log10(max));
  const step = [0.2, 0.25, 0.5, 1, 2].map((f) => f * power).find((s) => max / s <= 5) ?? 2 * power;
  const top = Math.ceil(max / step) * step;
  const ticks = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Number(v.toPrecision(6)));
  return { top, ticks };
}

const tick = (value) => (Math.abs(value) >= 1000 ? value.toLocaleString('en-US', { maximumFractionDigits: 0 }) : String(Number(value.toPrecision(3))));
const label = (value) => (Math.abs(value) >= 100 ? value.toLocaleString('en-US', { maximumFractionDigits: 0 }) : value.toFixed(1));

function frame(width, height, title, body) {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">
<rect width="${width}" height="${height}" rx="6" fill="#fff"/>
<text x="16" y="24" font-size="14" font-weight="600" fill="#212529">${esc(title)}</text>
${body}
</svg>
`;
}

/**
 * Horizontal bars, one row per item; `parts` stack (e.g. first load and loaded later).
 * `rows`: [{ label, parts: number[], ours?: boolean }]; `parts` names the stacked parts.
 */
export function barChart({ title, unit, rows, parts = ['value'], width = 720 }) {
  const labelWidth = 190;
  const rowHeight = 24;
  const top = 56;
  const plotWidth = width - labelWidth - 90;
  const max = Math.max(...rows.map((r) => r.parts.reduce((a, b) => a + b, 0)));
  const { top: ceiling, ticks } = axis(max);
  const x = (v) => labelWidth + (v / ceiling) * plotWidth;
  const height = top + rows.length * rowHeight + 36;
  let body = '';
  if (parts.length > 1) {
    body += `<text x="16" y="43" fill="#495057">${esc(parts.map((name, i) => `${i === 0 ? 'solid' : 'pale'}: ${name}`).join(', '))}; ours in orange</text>`;
  }
  for (const t of ticks) {
    body += `<line x1="${round(x(t))}" y1="${top - 6}" x2="${round(x(t))}" y2="${top + rows.length * rowHeight}" stroke="#e9ecef"/>`;
    body += `<text x="${round(x(t))}" y="${top + rows.length * rowHeight + 16}" text-anchor="middle" fill="#868e96">${tick(t)}</text>`;
  }
  rows.forEach((row, i) => {
    const y = top + i * rowHeight;
    body += `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end" fill="#212529"${row.ours ? ' font-weight="600"' : ''}>${esc(row.label)}</text>`;
    let at = 0;
    row.parts.forEach((value, p) => {
      const colour = p === 0 ? (row.ours ? PALETTE[0] : PALETTE[1]) : PALETTE[4];
      body += `<rect x="${round(x(at))}" y="${y + 4}" width="${round(Math.max(0, x(at + value) - x(at)))}" height="${rowHeight - 8}" fill="${colour}"${p > 0 ? ' fill-opacity="0.45"' : ''}/>`;
      at += value;
    });
    const text = row.parts.length > 1 && row.parts.slice(1).some((v) => v > 0) ? row.parts.map(label).join(' + ') : label(at);
    body += `<text x="${round(x(at)) + 6}" y="${y + 15}" fill="#495057">${text} ${esc(unit)}</text>`;
  });
  return frame(width, height, title, body);
}

/** Lines over a shared x axis. `series`: [{ label, points: [[x, y], ...] }]. */
export function lineChart({ title, xLabel, yLabel, series, width = 720, height = 320 }) {
  const left = 56;
  const right = 36;
  const top = 56;
  const bottom = 44;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const { top: xTop, ticks: xTicks } = axis(Math.max(...xs));
  const { top: yTop, ticks: yTicks } = axis(Math.max(...ys));
  const px = (v) => left + (v / xTop) * (width - left - right);
  const py = (v) => height - bottom - (v / yTop) * (height - top - bottom);
  let body = '';
  let legendX = 16;
  series.forEach((s, i) => {
    body += `<rect x="${legendX}" y="34" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/><text x="${legendX + 14}" y="43" fill="#495057">${esc(s.label)}</text>`;
    legendX += 34 + s.label.length * 6.5; // about the width of 12 px text
  });
  for (const t of yTicks) {
    body += `<line x1="${left}" y1="${round(py(t))}" x2="${width - right}" y2="${round(py(t))}" stroke="#e9ecef"/>`;
    body += `<text x="${left - 6}" y="${round(py(t)) + 4}" text-anchor="end" fill="#868e96">${tick(t)}</text>`;
  }
  for (const t of xTicks) body += `<text x="${round(px(t))}" y="${height - bottom + 16}" text-anchor="middle" fill="#868e96">${tick(t)}</text>`;
  body += `<text x="${(left + width - right) / 2}" y="${height - 8}" text-anchor="middle" fill="#495057">${esc(xLabel)}</text>`;
  body += `<text x="14" y="${(top + height - bottom) / 2}" text-anchor="middle" fill="#495057" transform="rotate(-90 14 ${(top + height - bottom) / 2})">${esc(yLabel)}</text>`;
  series.forEach((s, i) => {
    const d = s.points.map(([x, y], j) => `${j ? 'L' : 'M'}${round(px(x))},${round(py(y))}`).join('');
    body += `<path d="${d}" fill="none" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="1.6"/>`;
  });
  return frame(width, height, title, body);
}
